/**
 * Reads one configuration file of any supported form (XML or binary plist,
 * .mobileconfig profile, JSON, TOML), validates it and returns its settings
 * with every problem found. Never throws for bad input: problems are data, so
 * the daemon can keep its last good configuration.
 */
import { parse as parsePlist } from "@plist/parse";
import { XMLValidator } from "fast-xml-parser";
import { parse as parseToml, TomlError } from "smol-toml";
import { keyLineFinder, lineColumnAt, type TextFormat } from "./_key_lines.ts";
import { extractPayload, isProfile } from "./mobileconfig.ts";
import { readTrustedFile, UntrustedFileError } from "../trusted_file.ts";
import type { ConfigProblem } from "./problem.ts";
import { type Locator, validateSettingsData } from "./validate.ts";

export type FileFormat =
  | "json"
  | "toml"
  | "xml-plist"
  | "binary-plist"
  | "xml-mobileconfig"
  | "binary-mobileconfig";

export interface ConfigFile {
  path: string;
  /** False when the file does not exist (not a problem for managed and local files). */
  present: boolean;
  format?: FileFormat;
  /** Valid settings by dotted key; empty when the file has errors and `rejectOnError` is set. */
  values: Map<string, unknown>;
  problems: ConfigProblem[];
  /** True when the file had at least one error. */
  hasErrors: boolean;
}

export interface ReadOptions {
  /** Refuse (error) files not owned by root or writable by others. Default true. */
  checkOwner?: boolean;
  /** The uid counted as root by the ownership check (tests inject another). Default 0. */
  rootUid?: number;
  /** A missing file is an error instead of an absent source. Default false. */
  mustExist?: boolean;
  /** Parse as this format whatever the name and content say (local config: TOML). */
  forceFormat?: "toml";
  /** Drop every value of a file that has an error. Default true. */
  rejectOnError?: boolean;
}

function errorMessage(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.IsADirectory) return "is a directory";
  return e instanceof Error ? e.message : String(e);
}

function sniff(path: string, bytes: Uint8Array): FileFormat | "signed" | "plist" {
  const lower = path.toLowerCase();
  if (lower.endsWith(".toml")) return "toml";
  if (lower.endsWith(".json")) return "json";
  const head = new TextDecoder().decode(bytes.subarray(0, 64));
  if (head.startsWith("bplist")) return "binary-plist";
  // A signed profile is CMS (DER): SEQUENCE tag then a length.
  if (bytes[0] === 0x30 && (bytes[1] === 0x80 || bytes[1] === 0x82 || bytes[1] === 0x83)) {
    return "signed";
  }
  const trimmed = head.replace(/^\uFEFF/, "").trimStart();
  if (trimmed.startsWith("<")) return "xml-plist";
  if (trimmed.startsWith("{")) return "json";
  if (lower.endsWith(".plist") || lower.endsWith(".mobileconfig")) return "plist";
  return "toml";
}

/** Reads, parses and validates one configuration file. */
export async function readConfigFile(path: string, options: ReadOptions = {}): Promise<ConfigFile> {
  const { checkOwner = true, rootUid = 0, mustExist = false, rejectOnError = true } = options;
  const result: ConfigFile = {
    path,
    present: false,
    values: new Map(),
    problems: [],
    hasErrors: false,
  };
  const fail = (reason: string, extra: Partial<ConfigProblem> = {}) => {
    result.problems.push({ severity: "error", file: path, reason, ...extra });
    result.hasErrors = true;
    return result;
  };

  let bytes: Uint8Array;
  try {
    // Checked on the open descriptor, then read from it (trusted_file.ts).
    bytes = await readTrustedFile(path, { check: checkOwner, rootUid });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound && !mustExist) return result;
    result.present = !(e instanceof Deno.errors.NotFound);
    if (e instanceof UntrustedFileError) return fail(`refused: ${e.reason}`);
    return fail(`cannot read: ${errorMessage(e)}`);
  }
  result.present = true;

  const kind = options.forceFormat ?? sniff(path, bytes);
  if (kind === "signed") {
    return fail(
      "signed profile: bm reads unsigned profiles; extract the payload first" +
        ` (macOS: security cms -D -i FILE -o OUT.mobileconfig)`,
    );
  }

  let data: unknown;
  let text: string | undefined;
  let textFormat: TextFormat | undefined;
  let format: FileFormat;
  const decodeText = (): string | undefined => {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes).replace(/^\uFEFF/, "");
    } catch {
      fail("not UTF-8 text");
      return undefined;
    }
  };

  if (kind === "toml") {
    format = "toml";
    text = decodeText();
    if (text === undefined) return result;
    textFormat = "toml";
    try {
      data = parseToml(text);
    } catch (e) {
      if (e instanceof TomlError) {
        const reason = e.message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
        return fail(`TOML syntax error: ${reason}`, { line: e.line, column: e.column });
      }
      return fail(`TOML syntax error: ${errorMessage(e)}`);
    }
  } else if (kind === "json") {
    format = "json";
    text = decodeText();
    if (text === undefined) return result;
    textFormat = "json";
    try {
      data = JSON.parse(text);
    } catch (e) {
      const msg = errorMessage(e);
      const pos = /at position (\d+)/.exec(msg);
      const extra = pos ? lineColumnAt(text, Number(pos[1])) : {};
      return fail(`JSON syntax error: ${msg.replace(/ in JSON at position .*$/, "")}`, extra);
    }
  } else {
    const binary = kind === "binary-plist";
    format = binary ? "binary-plist" : "xml-plist";
    if (!binary) {
      text = decodeText();
      if (text === undefined) return result;
      textFormat = "xml";
      const check = XMLValidator.validate(text);
      if (check !== true) {
        return fail(`malformed XML plist: ${check.err.msg}`, {
          line: check.err.line,
          column: check.err.col,
        });
      }
    }
    const objects = binary ? binaryPlistObjects(bytes) : undefined;
    if (objects !== undefined && objects > BINARY_PLIST_MAX_OBJECTS) {
      return fail(
        `binary plist too large: ${objects} objects, at most ${BINARY_PLIST_MAX_OBJECTS}` +
          ` are read`,
      );
    }
    try {
      const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      data = quietly(() => parsePlist(buf as ArrayBuffer));
    } catch (e) {
      return fail(
        binary
          ? `truncated or corrupt binary plist: ${errorMessage(e)}`
          : `malformed XML plist: ${errorMessage(e)}`,
      );
    }
    if (isProfile(data)) {
      format = binary ? "binary-mobileconfig" : "xml-mobileconfig";
      const payload = extractPayload(data as Record<string, unknown>);
      if (!payload.ok) return fail(payload.reason);
      for (const w of payload.warnings) {
        result.problems.push({ severity: "warning", file: path, reason: w });
      }
      data = payload.settings;
    }
  }
  result.format = format;

  const loc: Locator = { file: path };
  if (text !== undefined && textFormat !== undefined) {
    const find = keyLineFinder(text, textFormat);
    loc.lineOf = (p) => p.length === 0 ? undefined : find(p);
  } else {
    loc.lineNote = "binary plist: no line numbers";
  }
  const { values, problems } = validateSettingsData(data, loc);
  // One by one: a spread of 200,000 problems would overflow the call stack.
  for (const p of problems) result.problems.push(p);
  result.hasErrors = result.problems.some((p) => p.severity === "error");
  result.values = result.hasErrors && rejectOnError ? new Map() : values;
  return result;
}

/**
 * The most objects the binary plist parser (@plist/binary.parse) reads; a
 * larger file is refused by it as "maxObjectCount exceeded", said here in
 * words. About 16,000 settings and unknown keys: far beyond a real profile.
 */
const BINARY_PLIST_MAX_OBJECTS = 32_768;

/**
 * The object count a binary plist's trailer claims, or undefined when the
 * trailer does not describe this file (truncated or corrupt: the parser says so).
 */
function binaryPlistObjects(bytes: Uint8Array): number | undefined {
  if (bytes.length < 8 + 32) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const trailer = bytes.length - 32;
  const offsetSize = view.getUint8(trailer + 6);
  const objects = view.getBigUint64(trailer + 8);
  const tableAt = view.getBigUint64(trailer + 24);
  if (offsetSize < 1 || offsetSize > 8) return undefined;
  if (tableAt + objects * BigInt(offsetSize) !== BigInt(trailer)) return undefined;
  return Number(objects);
}

/**
 * Runs `f` with console.error silenced: the binary plist parser prints its own
 * warnings ("Unknown date type") to stderr, which would break the one line per
 * problem that `bm config validate` promises.
 */
function quietly<T>(f: () => T): T {
  const error = console.error;
  console.error = () => {};
  try {
    return f();
  } finally {
    console.error = error;
  }
}
