/**
 * `bm config`: show the effective settings with their sources, set a local
 * override, switch behavior monitoring (mdatp's form), validate a file.
 */
import { behaviorMonitoringState } from "../config/behavior.ts";
import { readConfigFile } from "../config/config_file.ts";
import { defaultSettings } from "../config/defaults.ts";
import { loadEffectiveConfig, loadEffectiveConfigOrThrow } from "../config/load.ts";
import { mergeSettings } from "../config/merge.ts";
import { ownershipProblem } from "../trusted_file.ts";
import { configPaths } from "../config/paths.ts";
import { type ConfigProblem, formatProblem } from "../config/problem.ts";
import { getPath, setPath, SETTING_KEYS } from "../config/schema.ts";
import { parseSettingValue, setLocalSettings } from "../config/set_local.ts";
import { crossKeyProblems } from "../config/validate.ts";
import { PermissionError, UsageError } from "../errors.ts";
import { type Command, parseSubcommandArgs, printJson, type SubcommandOptions } from "./command.ts";

const USAGE = `Usage:
  bm config show [--output json]      effective settings, each with its source
  bm config set KEY VALUE             write a local override (root; refused if managed)
  bm config behavior-monitoring --value enabled|disabled
  bm config validate FILE [--output json]
                                      check a plist, .mobileconfig, JSON or TOML file

Sources, highest first: managed > local > default. VALUE is JSON when it parses
as the setting's type (numbers, true/false, lists), else a plain string.
Paths: BM_MANAGED_CONFIG, BM_LOCAL_CONFIG and BM_STATE_DIR override the managed
file, the local TOML file and the state directory.`;

/** Test seam: the caller's uid (tests run as root and inject a non-root uid). */
export interface ConfigCommandDeps {
  uid?: () => number | null;
}

const parse = (verb: string, args: string[], options: SubcommandOptions, positionals: number) =>
  parseSubcommandArgs("config", verb, args, options, positionals);

function formatValue(v: unknown): string {
  return v === undefined ? "(unset)" : JSON.stringify(v);
}

async function show(args: string[]): Promise<number> {
  const { values } = parse("show", args, { output: { type: "string" } }, 0);
  const cfg = await loadEffectiveConfig();
  for (const line of [...cfg.errors, ...cfg.warnings]) console.error(line);
  if (!cfg.ok) return 2;
  if (values.output === "json") {
    printJson({ settings: cfg.settings, sources: cfg.sources });
    return 0;
  }
  const bm = behaviorMonitoringState(cfg.settings, cfg.sources);
  const lines = [
    `behavior_monitoring : ${bm.effective ? `"enabled"` : `"disabled" (${bm.reason})`}`,
  ];
  for (const key of SETTING_KEYS) {
    lines.push(`${key} : ${formatValue(getPath(cfg.settings, key))} [${cfg.sources[key]}]`);
  }
  console.log(lines.join("\n"));
  return 0;
}

async function set(args: string[], deps: ConfigCommandDeps): Promise<number> {
  const { positionals } = parse("set", args, {}, 2);
  const [key, raw] = positionals as [string, string];
  const uid = deps.uid ? deps.uid() : Deno.uid();
  if (uid !== 0) {
    throw new PermissionError(`Cannot change settings as uid ${uid}: only root may (use sudo)`);
  }
  const value = parseSettingValue(key, raw);
  await setLocalSettings([[key, value]], { uid });
  console.log("Configuration property updated");
  return 0;
}

async function behaviorMonitoring(args: string[], deps: ConfigCommandDeps): Promise<number> {
  const { values } = parse("behavior-monitoring", args, { value: { type: "string" } }, 0);
  const v = values.value;
  if (v !== "enabled" && v !== "disabled") {
    throw new UsageError(
      `"config behavior-monitoring" needs --value enabled or --value disabled, got ${
        v === undefined ? "none" : JSON.stringify(v)
      }`,
    );
  }
  const uid = deps.uid ? deps.uid() : Deno.uid();
  if (uid !== 0) {
    throw new PermissionError(`Cannot change settings as uid ${uid}: only root may (use sudo)`);
  }
  // Both switches must be on for behavior monitoring to run; a managed switch
  // that already has the wanted value is left alone, a different one refuses.
  const paths = configPaths();
  const managed = await readConfigFile(paths.managed);
  const keys = ["antivirusEngine.behaviorMonitoring", "features.behaviorMonitoring"];
  const updates = keys
    .filter((k) => !(managed.values.has(k) && managed.values.get(k) === v))
    .map((k) => [k, v] as const);
  if (updates.length > 0) await setLocalSettings(updates, { uid, paths });
  console.log("Configuration property updated");
  const cfg = await loadEffectiveConfigOrThrow({ paths });
  const state = behaviorMonitoringState(cfg.settings, cfg.sources);
  if (v === "enabled" && !state.effective) {
    console.error(`Behavior monitoring stays off: ${state.reason}`);
  }
  return 0;
}

/** Problem lines written to stderr per write. */
const PRINT_BATCH = 4096;

async function validate(args: string[]): Promise<number> {
  const { values, positionals } = parse("validate", args, { output: { type: "string" } }, 1);
  const file = positionals[0]!;
  const result = await readConfigFile(file, {
    checkOwner: false,
    mustExist: true,
    rejectOnError: false,
  });
  const problems: ConfigProblem[] = [...result.problems];
  if (result.present && !result.hasErrors) {
    // Cross-key checks over defaults + this file.
    const paths = configPaths();
    const merged = mergeSettings(defaultSettings(paths), result.values, new Map());
    for (const { key, reason } of crossKeyProblems(merged.settings)) {
      problems.push({ severity: "error", file, key, reason });
    }
  }
  // Validation does not load the file, so ownership is a warning here; loading refuses it.
  try {
    const info = await Deno.stat(file);
    const why = ownershipProblem(info);
    if (why) {
      problems.push({
        severity: "warning",
        file,
        reason: `would be refused if installed: ${why}`,
      });
    }
  } catch { /* already reported as unreadable */ }
  const errors = problems.filter((p) => p.severity === "error");
  const warnings = problems.filter((p) => p.severity === "warning");
  if (values.output === "json") {
    const settings: Record<string, unknown> = {};
    for (const [k, v] of result.values) setPath(settings, k, v);
    printJson({
      file,
      format: result.format ?? null,
      valid: errors.length === 0,
      settings,
      problems: problems.map((p) => ({
        severity: p.severity,
        line: p.line ?? null,
        key: p.key ?? null,
        reason: p.reason,
        message: formatProblem(p),
      })),
    });
  } else {
    // Many lines per write: one console.error per line made printing 200,000
    // unknown-key warnings cost longer than finding them.
    for (let i = 0; i < problems.length; i += PRINT_BATCH) {
      console.error(problems.slice(i, i + PRINT_BATCH).map(formatProblem).join("\n"));
    }
    if (errors.length === 0) {
      console.log(
        `${file}: valid ${result.format} (${result.values.size} settings, ${warnings.length} ` +
          `warning${warnings.length === 1 ? "" : "s"})`,
      );
    } else {
      console.error(
        `${file}: invalid: ${errors.length} error${errors.length === 1 ? "" : "s"}, ` +
          `${warnings.length} warning${warnings.length === 1 ? "" : "s"}`,
      );
    }
  }
  return errors.length === 0 ? 0 : 2;
}

/** Builds the command; tests inject the uid. */
export function makeConfigCommand(deps: ConfigCommandDeps = {}): Command {
  return {
    name: "config",
    summary: "show, set and validate settings (managed > local > default)",
    usage: USAGE,
    run(args) {
      const [sub, ...rest] = args;
      if (rest.length === 1 && (rest[0] === "--help" || rest[0] === "-h")) {
        console.log(USAGE);
        return Promise.resolve(0);
      }
      switch (sub) {
        case "show":
          return show(rest);
        case "set":
          return set(rest, deps);
        case "behavior-monitoring":
          return behaviorMonitoring(rest, deps);
        case "validate":
          return validate(rest);
        case undefined:
          throw new UsageError(`"config" needs a subcommand: run "bm config --help"`);
        default:
          throw new UsageError(
            `Unknown subcommand "config ${sub}": run "bm config --help" for the list`,
          );
      }
    },
  };
}

export const configCommand: Command = makeConfigCommand();
