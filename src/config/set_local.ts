/**
 * `bm config set`: checks a dotted key and value against the schema, refuses
 * keys the managed source sets, and writes the local TOML atomically, keeping
 * the rest of the file's settings. The file is re-serialised by smol-toml, so
 * comments and formatting in it are not kept; what is written is pinned by
 * `serializeLocal` (and its tests), not by whatever the library version emits.
 */
import { parse as parseToml, stringify as stringifyToml, TomlError } from "smol-toml";
import { InputError, PermissionError } from "../errors.ts";
import { atomicWriteFile } from "./atomic_write.ts";
import { readConfigFile } from "./config_file.ts";
import { defaultSettings } from "./defaults.ts";
import { mergeSettings } from "./merge.ts";
import { readTrustedFileSync, UntrustedFileError } from "../trusted_file.ts";
import { type ConfigPaths, configPaths } from "./paths.ts";
import { formatProblem } from "./problem.ts";
import { leafSchema, POLICY_LISTS, setPath, SETTING_KEYS } from "./schema.ts";
import { crossKeyProblems, issueReason, suggestKey, validateSettingsData } from "./validate.ts";

export interface SetOptions {
  paths?: ConfigPaths;
  /** The caller's uid; default `Deno.uid()`. Tests inject a non-root uid. */
  uid?: number | null;
  /** The uid counted as root. Default 0. */
  rootUid?: number;
}

/** Parses a command-line value for a setting: JSON when it fits the schema, else the raw string. */
export function parseSettingValue(key: string, raw: string): unknown {
  const schema = leafSchema(key);
  if (!schema) throw unknownKey(key);
  let parsed: { value: unknown } | undefined;
  try {
    parsed = { value: JSON.parse(raw) };
  } catch {
    parsed = undefined;
  }
  if (parsed) {
    const r = schema.safeParse(parsed.value, { reportInput: true });
    if (r.success) return r.data;
    if (typeof parsed.value !== "string") {
      throw new InputError(`Invalid value for "${key}": ${issueLines(r.error.issues)}`);
    }
  }
  const r = schema.safeParse(raw, { reportInput: true });
  if (r.success) return r.data;
  throw new InputError(`Invalid value for "${key}": ${issueLines(r.error.issues)}`);
}

function issueLines(issues: Parameters<typeof issueReason>[0][]): string {
  return issues.map((i) => {
    const where = i.path.length ? `${i.path.map(String).join(".")}: ` : "";
    return where + issueReason(i);
  }).join("; ");
}

function unknownKey(key: string): InputError {
  const hint = suggestKey(key, SETTING_KEYS);
  return new InputError(
    `Unknown setting "${key}"${hint ? `: did you mean "${hint}"?` : ""}` +
      ` (run "bm config show" for the list)`,
  );
}

/**
 * Sets local overrides for one or more dotted keys in one atomic write.
 * Throws PermissionError (not root, or key managed) or InputError (bad key,
 * value or local file); writes nothing when it throws.
 */
export async function setLocalSettings(
  updates: ReadonlyArray<readonly [key: string, value: unknown]>,
  options: SetOptions = {},
): Promise<void> {
  const uid = options.uid === undefined ? Deno.uid() : options.uid;
  const rootUid = options.rootUid ?? 0;
  if (uid !== rootUid) {
    throw new PermissionError(
      `Cannot change settings as uid ${uid}: only root may (run "bm config set" with sudo)`,
    );
  }
  const paths = options.paths ?? configPaths();
  for (const [key] of updates) if (!leafSchema(key)) throw unknownKey(key);

  // A bad managed file means we cannot tell which keys are managed: refuse.
  const managed = await readConfigFile(paths.managed, { rootUid });
  if (managed.hasErrors) {
    throw new InputError(
      managed.problems.filter((p) => p.severity === "error").map(formatProblem).join("\n"),
    );
  }
  const policy = managed.values.get("antivirusEngine.exclusionsMergePolicy");
  for (const [key] of updates) {
    // Under the merge policy local list entries are added to the managed ones.
    const mergeable = POLICY_LISTS.includes(key) && policy !== "admin_only";
    if (managed.values.has(key) && !mergeable) {
      throw new PermissionError(
        `Cannot set "${key}": it is set by the managed configuration "${paths.managed}"`,
      );
    }
  }

  let text = "";
  let mode = 0o644;
  try {
    text = new TextDecoder().decode(readTrustedFileSync(paths.local, { rootUid }));
    const info = await Deno.stat(paths.local);
    if (info.mode !== null) mode = info.mode & 0o777;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      if (e instanceof UntrustedFileError) {
        throw new InputError(`Refusing to update "${paths.local}": ${e.reason}`);
      }
      throw new InputError(`Cannot read "${paths.local}": ${(e as Error).message}`);
    }
  }
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof TomlError) {
      const reason = e.message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
      throw new InputError(`${paths.local}:${e.line}:${e.column}: TOML syntax error: ${reason}`);
    }
    throw e;
  }
  for (const [key, value] of updates) setPath(doc, key, value);
  // The whole new file must be valid, or the daemon would reject it.
  const check = validateSettingsData(doc, { file: paths.local });
  const errors = check.problems.filter((p) => p.severity === "error");
  if (errors.length > 0) {
    throw new InputError(
      `Not updating "${paths.local}": it has other errors to fix first:\n` +
        errors.map(formatProblem).join("\n"),
    );
  }
  const merged = mergeSettings(defaultSettings(paths), managed.values, check.values);
  const cross = crossKeyProblems(merged.settings);
  if (cross.length > 0) {
    throw new InputError(cross.map((c) => `Invalid value for "${c.key}": ${c.reason}`).join("\n"));
  }
  await atomicWriteFile(paths.local, new TextEncoder().encode(serializeLocal(doc)), mode);
}

/**
 * The text `bm config set` writes for a local settings document: smol-toml's
 * TOML (scalars first, then one `[table]` per non-empty section in the
 * document's order, `[[list]]` for lists of tables) ending in exactly one
 * newline. smol-toml 1.4 left the newline off and 1.9 adds it; a test pins the
 * bytes, so a library upgrade that changes them is seen before it ships.
 */
export function serializeLocal(doc: Record<string, unknown>): string {
  const text = stringifyToml(doc);
  return text.endsWith("\n") ? text : text + "\n";
}
