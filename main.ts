/**
 * bm's entry point: parse argv, dispatch to a subcommand, set the exit code.
 * Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad input.
 */
import { COMMANDS } from "./src/cli/registry.ts";
import { BmError } from "./src/errors.ts";
import { VERSION } from "./src/version.ts";

async function topHelp(): Promise<string> {
  const commands = await Promise.all(COMMANDS.map((c) => c.load()));
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    `bm ${VERSION}: behavior monitoring for macOS and Linux`,
    "",
    "Usage: bm COMMAND [ARGS] [--help]",
    "",
    "Commands:",
    ...lines,
    "",
    "Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad input",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === "--help" || verb === "-h" || verb === "help") {
    const target = verb === "help" ? rest[0] : undefined;
    const entry = target ? COMMANDS.find((c) => c.name === target) : undefined;
    if (target && !entry) {
      console.error(`Unknown command "${target}": run "bm --help" for the list`);
      return 2;
    }
    console.log(entry ? (await entry.load()).usage : await topHelp());
    return verb === undefined ? 2 : 0;
  }
  if (verb === "--version") return main(["version"]);
  const entry = COMMANDS.find((c) => c.name === verb);
  if (!entry) {
    console.error(`Unknown command "${verb}": run "bm --help" for the list`);
    return 2;
  }
  const cmd = await entry.load();
  if (rest.length === 1 && (rest[0] === "--help" || rest[0] === "-h")) {
    console.log(cmd.usage);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof BmError) {
      console.error(e.message);
      return e.exitCode;
    }
    console.error(
      `Internal error in "bm ${verb}": ${e instanceof Error ? e.stack ?? e.message : String(e)}`,
    );
    return 1;
  }
}

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}
