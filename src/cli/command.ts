import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../errors.ts";

/** What every `bm` subcommand file exports. */
export interface Command {
  /** Top-level verb, e.g. "config". */
  name: string;
  /** One line for `bm --help`. */
  summary: string;
  /** Full help text for `bm NAME --help`. */
  usage: string;
  /** Runs with the arguments after the verb; resolves to the exit code. Throws BmError for failures. */
  run(args: string[]): Promise<number>;
}

/** Writes one JSON document to stdout (the `--output json` contract). */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/**
 * node:util parseArgs for a verb: a parse error becomes a UsageError (exit 2)
 * reading `Bad arguments to "VERB": DETAIL`, or `badArgs(DETAIL)` when given.
 * Keeps parseArgs' inferred types for `values` and `positionals`.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(
  verb: string,
  config: T,
  badArgs: (detail: string) => string = (d) => `Bad arguments to "${verb}": ${d}`,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    throw new UsageError(badArgs((e as Error).message));
  }
}

/** Checks an `--output` value: only "json" (or none) is accepted. */
export function outputFormat(value: unknown): "json" | undefined {
  if (value !== undefined && value !== "json") {
    throw new UsageError(`Unknown --output "${String(value)}": only "json" is supported`);
  }
  return value;
}

/** A verb's handler: the arguments after the verb; resolves to the exit code. */
export type Subcommand = (args: string[]) => Promise<number>;

/**
 * Runs `bm COMMAND VERB ...` by its verb: help and -h/--help print usage, an
 * unknown verb is a UsageError pointing at `bm COMMAND --help`.
 */
export function runSubcommand(
  command: string,
  usage: string,
  verbs: Record<string, Subcommand>,
  args: string[],
): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === "--help" || verb === "-h" || verb === "help") {
    console.log(usage);
    return Promise.resolve(0);
  }
  const run = verb !== undefined && Object.hasOwn(verbs, verb) ? verbs[verb] : undefined;
  if (!run) {
    throw new UsageError(
      `Unknown "${command} ${verb ?? ""}": run "bm ${command} --help" for the subcommands`,
    );
  }
  return run(rest);
}

/** Opens a source, runs fn on it and closes it whatever fn does. */
export async function withOpened<S extends { close(): void }, T>(
  open: () => S,
  fn: (s: S) => Promise<T>,
): Promise<T> {
  const s = open();
  try {
    return await fn(s);
  } finally {
    s.close();
  }
}

/** Options of a subcommand parsed by parseSubcommandArgs. */
export type SubcommandOptions = Record<string, { type: "string" | "boolean" }>;

/**
 * Arguments of `bm COMMAND VERB ...` (e.g. "config show"): exactly `positionals`
 * positional arguments and an optional `--output json`, else a UsageError.
 */
export function parseSubcommandArgs(
  command: string,
  verb: string,
  args: string[],
  options: SubcommandOptions,
  positionals: number,
) {
  const parsed = parseCommandArgs(`${command} ${verb}`, {
    args,
    options,
    allowPositionals: true,
    strict: true,
  });
  if (parsed.positionals.length !== positionals) {
    throw new UsageError(
      `"${command} ${verb}" takes ${positionals} argument${positionals === 1 ? "" : "s"}, got ` +
        `${parsed.positionals.length}: run "bm ${command} --help"`,
    );
  }
  outputFormat(parsed.values.output);
  return parsed;
}
