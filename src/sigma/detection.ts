/**
 * A Sigma `detection` block in bm's terms: each selection becomes a tree of
 * matchers on bm fields (policies/FORMAT.md, "Sigma field mapping"), and the
 * condition ties them together. The tree (not TOML) is what both the rule
 * writer and the example generator read.
 */
import { encodeBase64 } from "./_base64.ts";
import { ConditionError, type CondNode, parseCondition } from "./condition.ts";
import { checkRegex } from "./regex_check.ts";
import { sampleRegex } from "./regex_sample.ts";

export type SigmaCategory = "process_creation" | "file_event" | "file_rename" | "file_delete";

/** One test on a field; `values` are alternatives (or all required with `all`). */
export interface Matcher {
  field: string;
  numeric: boolean;
  op: "eq" | "contains" | "starts_with" | "ends_with" | "regex" | "exists";
  values: Val[];
  all: boolean;
  cased: boolean;
  /** `exists`: whether the field must be present. */
  present?: boolean;
}

/**
 * A value: a literal, or a pattern (Sigma wildcards or `|re`) with `sample`,
 * a string it matches when one could be derived.
 */
export type Val =
  | { lit: string | number }
  | { re: string; ignoreCase: boolean; sample: string | undefined; wildcard: boolean };

export type DetNode =
  | { t: "and"; xs: DetNode[] }
  | { t: "or"; xs: DetNode[] }
  | { t: "not"; x: DetNode }
  | { t: "m"; m: Matcher };

/** Thrown for a construct the importer does not convert; the message is the skip reason. */
export class SkipError extends Error {}

const PROCESS_FIELDS: Record<string, string> = {
  Image: "process.executable",
  OriginalFileName: "process.name",
  CommandLine: "process.command_line",
  ParentImage: "process.parent.executable",
  ParentCommandLine: "process.parent.command_line",
  CurrentDirectory: "process.working_directory",
  ProcessId: "process.pid",
  ParentProcessId: "process.parent.pid",
  User: "user.id",
};

/** Sigma field name to bm field path, per category. */
export function fieldMap(category: SigmaCategory): Record<string, string> {
  switch (category) {
    case "process_creation":
      return PROCESS_FIELDS;
    case "file_event":
    case "file_delete":
      return { ...PROCESS_FIELDS, TargetFilename: "file.path" };
    case "file_rename":
      return {
        ...PROCESS_FIELDS,
        SourceFilename: "file.path",
        TargetFilename: "file.target_path",
      };
  }
}

const NUMERIC = new Set(["process.pid", "process.parent.pid", "user.id"]);

const UNSUPPORTED_MODIFIERS: Record<string, string> = {
  utf16le: "UTF-16 encodings (Windows)",
  utf16be: "UTF-16 encodings (Windows)",
  utf16: "UTF-16 encodings (Windows)",
  wide: "UTF-16 encodings (Windows)",
  cidr: "no network fields",
  fieldref: "field references",
  gt: "numeric comparison",
  gte: "numeric comparison",
  lt: "numeric comparison",
  lte: "numeric comparison",
  expand: "placeholders",
};

const WINDASH = ["-", "/", "\u2013", "\u2014", "\u2015"];

function windash(v: string): string[] {
  if (!/(^|\s)[-/]/.test(v)) return [v];
  return WINDASH.map((d) => v.replace(/(^|\s)[-/]/g, `$1${d}`));
}

function base64offset(v: string): string[] {
  const bytes = new TextEncoder().encode(v);
  const start = [0, 2, 3];
  const end = [undefined, -3, -2];
  const out: string[] = [];
  for (let i = 0; i < 3; i++) {
    const pad = new Uint8Array(i + bytes.length);
    pad.fill(0x20, 0, i);
    pad.set(bytes, i);
    const enc = encodeBase64(pad);
    out.push(enc.slice(start[i], end[(bytes.length + i) % 3]));
  }
  return out;
}

/** Sigma wildcards (`*`, `?`, escaped with `\`) in a plain value. */
function wildcardValue(
  v: string,
  op: Matcher["op"],
  cased: boolean,
): Val {
  let re = "";
  let sample = "";
  let wild = false;
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === "\\" && (v[i + 1] === "*" || v[i + 1] === "?" || v[i + 1] === "\\")) {
      re += "\\" + v[i + 1];
      sample += v[i + 1];
      i++;
    } else if (c === "*") {
      re += "[\\s\\S]*";
      wild = true;
    } else if (c === "?") {
      re += "[\\s\\S]";
      sample += "x";
      wild = true;
    } else {
      re += c.replace(/[.+^${}()|[\]\\*?]/g, "\\$&");
      sample += c;
    }
  }
  if (!wild) return { lit: sample };
  const pre = op === "eq" || op === "starts_with" ? "^" : "";
  const post = op === "eq" || op === "ends_with" ? "$" : "";
  return { re: pre + re + post, ignoreCase: !cased, sample, wildcard: true };
}

function matcherOf(key: string, value: unknown, category: SigmaCategory): Matcher {
  const [name, ...mods] = key.split("|");
  const field = fieldMap(category)[name!];
  if (field === undefined) throw new SkipError(`field ${name}: unsupported`);
  const m: Matcher = {
    field,
    numeric: NUMERIC.has(field),
    op: "eq",
    values: [],
    all: false,
    cased: false,
  };
  let transform: ((v: string) => string[]) | undefined;
  let encoded = false;
  let reFlags = "";
  for (const mod of mods) {
    if (mod in UNSUPPORTED_MODIFIERS) {
      throw new SkipError(`modifier |${mod}: unsupported (${UNSUPPORTED_MODIFIERS[mod]})`);
    }
    switch (mod) {
      case "contains":
        m.op = "contains";
        break;
      case "startswith":
        m.op = "starts_with";
        break;
      case "endswith":
        m.op = "ends_with";
        break;
      case "all":
        m.all = true;
        break;
      case "cased":
        m.cased = true;
        break;
      case "re":
        m.op = "regex";
        m.cased = true;
        break;
      case "i":
      case "m":
      case "s":
        if (m.op !== "regex") throw new SkipError(`modifier |${mod}: only after |re`);
        reFlags += mod;
        break;
      case "exists":
        m.op = "exists";
        break;
      case "windash":
        transform = windash;
        break;
      case "base64":
        transform = (v) => [encodeBase64(new TextEncoder().encode(v))];
        encoded = true;
        break;
      case "base64offset":
        transform = base64offset;
        encoded = true;
        break;
      default:
        throw new SkipError(`modifier |${mod}: unknown`);
    }
  }
  if (/[ms]/.test(reFlags)) throw new SkipError(`modifier |re|${reFlags}: unsupported`);
  if (encoded) m.cased = true;
  const raw = Array.isArray(value) ? value : [value];
  if (raw.length === 0) throw new SkipError(`field ${name}: empty value list`);
  if (m.op === "exists") {
    if (raw.length !== 1 || typeof raw[0] !== "boolean") {
      throw new SkipError(`field ${name}: |exists needs true or false`);
    }
    m.present = raw[0];
    return m;
  }
  if (raw.length === 1 && raw[0] === null) {
    // Sigma's null: the field is absent.
    return { ...m, op: "exists", present: false };
  }
  for (const v of raw) {
    if (v === null) throw new SkipError(`field ${name}: null inside a value list unsupported`);
    if (typeof v === "object") throw new SkipError(`field ${name}: nested value unsupported`);
    if (m.numeric) {
      if (m.op !== "eq" || transform) {
        throw new SkipError(`field ${name}: only plain equality on a numeric field`);
      }
      if (field === "user.id" && typeof v === "string") {
        if (v.toLowerCase() !== "root") {
          throw new SkipError(`field ${name}: user name "${v}" unsupported (only root)`);
        }
        m.values.push({ lit: 0 });
        continue;
      }
      const n = Number(v);
      if (!Number.isInteger(n)) throw new SkipError(`field ${name}: "${v}" is not a number`);
      m.values.push({ lit: n });
      continue;
    }
    const s = String(v);
    if (m.op === "regex") {
      const checked = checkRegex(s);
      if ("problem" in checked) throw new SkipError(checked.problem);
      const ignoreCase = checked.ignoreCase || reFlags.includes("i");
      m.values.push({
        re: checked.source,
        ignoreCase,
        sample: sampleRegex(checked.source, ignoreCase),
        wildcard: false,
      });
      continue;
    }
    for (const t of transform ? transform(s) : [s]) {
      m.values.push(encoded ? { lit: t } : wildcardValue(t, m.op, m.cased));
    }
  }
  return m;
}

function selectionOf(name: string, body: unknown, category: SigmaCategory): DetNode {
  const ofMap = (obj: Record<string, unknown>): DetNode => {
    const keys = Object.keys(obj);
    if (keys.length === 0) throw new SkipError(`selection ${name}: empty`);
    const xs = keys.map((k): DetNode => ({ t: "m", m: matcherOf(k, obj[k], category) }));
    return xs.length === 1 ? xs[0]! : { t: "and", xs };
  };
  const isMap = (x: unknown): x is Record<string, unknown> =>
    typeof x === "object" && x !== null && !Array.isArray(x);
  if (isMap(body)) return ofMap(body);
  if (Array.isArray(body) && body.length > 0 && body.every(isMap)) {
    const xs = body.map(ofMap);
    return xs.length === 1 ? xs[0]! : { t: "or", xs };
  }
  throw new SkipError(`selection ${name}: keyword search (values without a field) unsupported`);
}

/** Builds the detection tree; throws SkipError with the reason when it cannot. */
export function convertDetection(detection: unknown, category: SigmaCategory): DetNode {
  if (typeof detection !== "object" || detection === null || Array.isArray(detection)) {
    throw new SkipError("detection: not a map");
  }
  const det = detection as Record<string, unknown>;
  const cond = det.condition;
  const names = Object.keys(det).filter((k) => k !== "condition" && k !== "timeframe");
  if ("timeframe" in det) throw new SkipError("timeframe (correlation) unsupported");
  const texts = Array.isArray(cond) ? cond : [cond];
  if (texts.length === 0 || !texts.every((t) => typeof t === "string")) {
    throw new SkipError("condition: missing or not a string");
  }
  let tree: CondNode;
  try {
    const parsed = (texts as string[]).map((t) => parseCondition(t, names));
    tree = parsed.length === 1 ? parsed[0]! : { t: "or", xs: parsed };
  } catch (e) {
    if (e instanceof ConditionError) throw new SkipError(e.message);
    throw e;
  }
  const sels = new Map<string, DetNode>();
  const walk = (n: CondNode): DetNode => {
    switch (n.t) {
      case "and":
      case "or":
        return { t: n.t, xs: n.xs.map(walk) };
      case "not":
        return { t: "not", x: walk(n.x) };
      case "sel": {
        let s = sels.get(n.name);
        if (!s) {
          s = selectionOf(n.name, det[n.name], category);
          sels.set(n.name, s);
        }
        return s;
      }
    }
  };
  return walk(tree);
}
