/**
 * `bm rules import-sigma SOURCE... --out DIR`: converts Sigma rules into a bm
 * rule pack (src/sigma/importer.ts). Exit 0 when the import ran, skips
 * included; 2 on bad usage or when a source is missing or not valid YAML
 * (each such file on stderr as file:line:column: reason; the rest convert).
 */
import { parseCommandArgs, printJson } from "./command.ts";
import { UsageError } from "../errors.ts";
import { type ImportAction, type MinStatus, STATUSES } from "../sigma/convert.ts";
import { formatSummary, importSigma } from "../sigma/importer.ts";
import { relative } from "node:path";

export const IMPORT_SIGMA_USAGE =
  `  bm rules import-sigma SOURCE... --out DIR [--min-status stable|test|experimental]
                        [--platform linux|macos] [--actions block,kill,quarantine] [--output json]
                                                 convert Sigma rules into a bm rule pack`;

const ACTIONS: readonly ImportAction[] = ["block", "kill", "quarantine"];

export async function runImportSigma(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs("rules import-sigma", {
    args,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      "min-status": { type: "string" },
      platform: { type: "string" },
      actions: { type: "string" },
      output: { type: "string" },
    },
  }, (d) => `${d}: run "bm rules --help"`);
  if (positionals.length === 0) throw new UsageError(`"bm rules import-sigma" needs a SOURCE`);
  if (values.out === undefined) throw new UsageError(`"bm rules import-sigma" needs --out DIR`);
  if (values.output !== undefined && values.output !== "json") {
    throw new UsageError(`Unknown output format "${values.output}": only "json"`);
  }
  const minStatus = values["min-status"] ?? "test";
  if (!(STATUSES as readonly string[]).includes(minStatus)) {
    throw new UsageError(`Unknown --min-status "${minStatus}": stable, test or experimental`);
  }
  const platform = values.platform;
  if (platform !== undefined && platform !== "linux" && platform !== "macos") {
    throw new UsageError(`Unknown --platform "${platform}": linux or macos`);
  }
  const actions: ImportAction[] = [];
  for (const a of values.actions?.split(",").map((x) => x.trim()).filter((x) => x) ?? []) {
    if (!(ACTIONS as readonly string[]).includes(a)) {
      throw new UsageError(`Unknown action "${a}": block, kill or quarantine`);
    }
    actions.push(a as ImportAction);
  }
  const summary = await importSigma(positionals, {
    out: values.out,
    minStatus: minStatus as MinStatus,
    ...(platform !== undefined ? { platform } : {}),
    actions,
  });
  if (values.output === "json") printJson(summary);
  else console.log(formatSummary(summary));
  for (const e of summary.errors) {
    console.error(`${relative(Deno.cwd(), e.file)}:${e.line}:${e.column}: ${e.reason}`);
  }
  return summary.errors.length > 0 ? 2 : 0;
}
