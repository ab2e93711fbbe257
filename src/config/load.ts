/**
 * Loads the effective configuration: built-in defaults < local TOML < managed.
 * Returns problems instead of throwing, so the daemon can keep its last good
 * configuration when a file goes bad (invariant 4); the CLI turns problems
 * into exit code 2 with `loadEffectiveConfigOrThrow`.
 */
import { InputError } from "../errors.ts";
import { readConfigFile } from "./config_file.ts";
import type { ConfigFile } from "./config_file.ts";
import { defaultSettings } from "./defaults.ts";
import { mergeSettings } from "./merge.ts";
import { type ConfigPaths, configPaths } from "./paths.ts";
import { type ConfigProblem, formatProblem } from "./problem.ts";
import { getPath, setPath, type Settings, type Source } from "./schema.ts";
import { crossKeyProblems } from "./validate.ts";

export interface LoadOptions {
  /** Paths to read; default `configPaths()` (platform paths + BM_* overrides). */
  paths?: ConfigPaths;
  /** The uid counted as root by the ownership check (tests). Default 0. */
  rootUid?: number;
}

export interface EffectiveConfig {
  /** The merged settings. When `ok` is false, values of files with errors are left out. */
  settings: Settings;
  /** Every setting's dotted key -> "managed" | "local" | "default". */
  sources: Record<string, Source>;
  /** False when a file (or the merged result) has an error: keep the last good config. */
  ok: boolean;
  /** Error lines, `FILE:LINE: key: reason`. */
  errors: string[];
  /** Warning lines (unknown keys, ignored local list entries). */
  warnings: string[];
  /** The same problems as structured data. */
  problems: ConfigProblem[];
  paths: ConfigPaths;
  managed: ConfigFile;
  local: ConfigFile;
}

/** Reads managed and local files and merges them over the defaults. Never throws for bad files. */
export async function loadEffectiveConfig(options: LoadOptions = {}): Promise<EffectiveConfig> {
  const paths = options.paths ?? configPaths();
  const rootUid = options.rootUid ?? 0;
  const [managed, local] = await Promise.all([
    readConfigFile(paths.managed, { rootUid }),
    readConfigFile(paths.local, { rootUid, forceFormat: "toml" }),
  ]);
  const defaults = defaultSettings(paths);
  const merged = mergeSettings(defaults, managed.values, local.values, {
    managed: paths.managed,
    local: paths.local,
  });
  const problems: ConfigProblem[] = [...managed.problems, ...local.problems];
  for (const { key, related, reason } of crossKeyProblems(merged.settings)) {
    // Blame the file that set one of the keys the check reads.
    const setter = related.map((k) => merged.sources[k]).find((s) => s !== "default");
    const file = setter === "managed"
      ? paths.managed
      : setter === "local"
      ? paths.local
      : "defaults";
    problems.push({ severity: "error", file, key, reason });
    // Fall back to the defaults so the returned settings stay valid.
    for (const k of related) {
      setPath(merged.settings as unknown as Record<string, unknown>, k, getPath(defaults, k));
      merged.sources[k] = "default";
    }
  }
  const errors = problems.filter((p) => p.severity === "error").map(formatProblem);
  const warnings = [
    ...problems.filter((p) => p.severity === "warning").map(formatProblem),
    ...merged.warnings,
  ];
  return {
    settings: merged.settings,
    sources: merged.sources,
    ok: errors.length === 0,
    errors,
    warnings,
    problems,
    paths,
    managed,
    local,
  };
}

/** For the CLI: the effective config, or an InputError (exit 2) listing every error line. */
export async function loadEffectiveConfigOrThrow(
  options: LoadOptions = {},
): Promise<EffectiveConfig> {
  const cfg = await loadEffectiveConfig(options);
  if (!cfg.ok) throw new InputError(cfg.errors.join("\n"));
  return cfg;
}
