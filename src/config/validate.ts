/**
 * Checks a parsed settings document against the schema, key by key, and
 * reports every problem (not just the first): wrong types, enum typos with
 * the allowed values, unknown keys as warnings. Valid leaves are kept even
 * when others are wrong, so callers decide whether one error rejects the file.
 */
import type { z } from "zod";
import { type ConfigProblem, keyOf } from "./problem.ts";
import { EXCLUSION_TYPES, ROOT_SHAPE, schemaNode, SettingsSchema } from "./schema.ts";
import type { Settings } from "./schema.ts";

/** Keys that name JavaScript's object machinery; a settings file never needs them. */
const RESERVED_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

/** Where problems point: the file and, when the format has lines, a line finder. */
export interface Locator {
  file: string;
  lineOf?: (path: readonly (string | number)[]) => number | undefined;
  /** Why lines are unknown (e.g. binary plist), added to each problem. */
  lineNote?: string;
}

export interface ValidatedData {
  /** Valid settings by dotted key. */
  values: Map<string, unknown>;
  problems: ConfigProblem[];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) &&
    !(v instanceof Date) && !(v instanceof ArrayBuffer) && !(v instanceof Uint8Array);
}

/** Short description of a value for messages: `string "x"`, `integer 5`, `array`. */
export function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (typeof v === "string") return `string ${JSON.stringify(v)}`;
  if (typeof v === "number") return `${Number.isInteger(v) ? "integer" : "number"} ${v}`;
  if (typeof v === "bigint") return `integer ${v} (too large)`;
  if (typeof v === "boolean") return `boolean ${v}`;
  if (Array.isArray(v)) return "list";
  if (v instanceof Date) return "date";
  if (v instanceof ArrayBuffer || v instanceof Uint8Array) return "data";
  return "dict";
}

function typeName(expected: string): string {
  switch (expected) {
    case "int":
      return "integer";
    case "object":
      return "dict";
    case "array":
      return "list";
    default:
      return expected;
  }
}

/** One zod issue as a reason: what was wrong and, for enums, the allowed values. */
export function issueReason(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case "invalid_value": {
      const allowed = issue.values.map((v) => JSON.stringify(v)).join(", ");
      const got = typeof input === "string" ? JSON.stringify(input) : describeValue(input);
      return issue.values.length === 1
        ? `${got} must be ${allowed}`
        : `${got} is not one of ${allowed}`;
    }
    case "invalid_type":
      if (input === undefined) return `missing required ${typeName(issue.expected)}`;
      return `expected ${typeName(issue.expected)}, got ${describeValue(input)}`;
    case "invalid_union": {
      const disc = (issue as { discriminator?: string }).discriminator;
      if (disc !== undefined) {
        const got = isPlainObject(input) ? input[disc] : undefined;
        const allowed = EXCLUSION_TYPES.map((v) => JSON.stringify(v)).join(", ");
        return got === undefined
          ? `missing "${disc}": one of ${allowed}`
          : `${JSON.stringify(got)} is not one of ${allowed}`;
      }
      return "does not match any allowed form";
    }
    case "too_small":
      if (issue.origin === "string") return "must not be empty";
      return `${describeValue(input)} is too small: must be ${
        issue.inclusive ? ">=" : ">"
      } ${issue.minimum}`;
    case "too_big":
      return `${describeValue(input)} is too large: must be ${
        issue.inclusive ? "<=" : "<"
      } ${issue.maximum}`;
    case "custom":
      return typeof input === "string"
        ? `${JSON.stringify(input)} ${issue.message}`
        : issue.message;
    default:
      return issue.message;
  }
}

/** Largest edit distance still offered as a "did you mean". */
const SUGGEST_DISTANCE = 2;

/** Candidate names with their lower-case forms, computed once per list. */
type Candidates = readonly (readonly [name: string, lower: string])[];

function candidatesOf(names: readonly string[]): Candidates {
  return names.map((n) => [n, n.toLowerCase()] as const);
}

/** The settings of a section as suggestion candidates, built once per section. */
const shapeCandidates = new WeakMap<object, Candidates>();

function closest(name: string, candidates: Candidates): string | undefined {
  const lower = name.toLowerCase();
  for (const [c, cl] of candidates) if (cl === lower) return c;
  let best: string | undefined;
  let bestD = SUGGEST_DISTANCE + 1;
  for (const [c, cl] of candidates) {
    const d = editDistanceWithin(lower, cl, bestD - 1);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best;
}

/**
 * Edit distance of `a` and `b` when it is at most `max`, else `max + 1`.
 * Only the diagonal band |i - j| <= max is computed and a row whose every
 * cell exceeds `max` stops the walk, so the cost is O(max * length): a file
 * of 200,000 unknown keys, each compared with every setting of its section,
 * stays well under a second (a full table per pair took seconds).
 */
export function editDistanceWithin(a: string, b: string, max: number): number {
  if (max < 0) return 0;
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const over = max + 1;
  let prev = new Array<number>(b.length + 1);
  let row = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j <= max ? j : over;
  for (let i = 1; i <= a.length; i++) {
    row.fill(over);
    row[0] = i <= max ? i : over;
    let rowMin = row[0]!;
    const to = Math.min(b.length, i + max);
    for (let j = Math.max(1, i - max); j <= to; j++) {
      const sub = prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      const v = Math.min(sub, prev[j]! + 1, row[j - 1]! + 1, over);
      row[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return over;
    [prev, row] = [row, prev];
  }
  return Math.min(prev[b.length]!, over);
}

/** Suggests the setting a mistyped dotted key probably meant. */
export function suggestKey(key: string, keys: readonly string[]): string | undefined {
  return closest(key, candidatesOf(keys));
}

/** Paths of object keys in `raw` that parsing dropped (unknown keys inside list entries). */
function droppedKeys(
  raw: unknown,
  parsed: unknown,
  at: (string | number)[],
): (string | number)[][] {
  const out: (string | number)[][] = [];
  if (Array.isArray(raw) && Array.isArray(parsed)) {
    raw.forEach((item, i) => {
      for (const d of droppedKeys(item, parsed[i], [...at, i])) out.push(d);
    });
  } else if (isPlainObject(raw) && isPlainObject(parsed)) {
    for (const [k, v] of Object.entries(raw)) {
      if (!Object.hasOwn(parsed, k)) out.push([...at, k]);
      else for (const d of droppedKeys(v, parsed[k], [...at, k])) out.push(d);
    }
  }
  return out;
}

/** Validates a parsed document (the root dict of a file or payload). */
export function validateSettingsData(data: unknown, loc: Locator): ValidatedData {
  const values = new Map<string, unknown>();
  const problems: ConfigProblem[] = [];
  const report = (
    severity: "error" | "warning",
    path: readonly (string | number)[],
    reason: string,
  ) => {
    const p: ConfigProblem = { severity, file: loc.file, reason };
    if (path.length > 0) p.key = keyOf(path);
    const line = loc.lineOf?.(path);
    if (line !== undefined) p.line = line;
    if (loc.lineNote !== undefined) p.lineNote = loc.lineNote;
    problems.push(p);
  };

  const walk = (
    shape: Record<string, z.ZodType>,
    obj: Record<string, unknown>,
    path: string[],
  ) => {
    for (const [name, value] of Object.entries(obj)) {
      const here = [...path, name];
      if (RESERVED_KEYS.has(name)) {
        // Names that reach Object.prototype in a careless walk: refused, never looked up.
        report("error", here, "reserved key name, refused");
        continue;
      }
      const child = Object.hasOwn(shape, name) ? shape[name] : undefined;
      if (child === undefined) {
        let candidates = shapeCandidates.get(shape);
        if (candidates === undefined) {
          candidates = candidatesOf(Object.keys(shape));
          shapeCandidates.set(shape, candidates);
        }
        const hint = name.length <= 64 ? closest(name, candidates) : undefined;
        report(
          "warning",
          here,
          `unknown key, ignored${hint ? ` (did you mean "${hint}"?)` : ""}`,
        );
        continue;
      }
      const node = schemaNode(child);
      if (node.kind === "section") {
        if (isPlainObject(value)) walk(node.shape, value, here);
        else report("error", here, `expected a dict of settings, got ${describeValue(value)}`);
        continue;
      }
      const r = node.schema.safeParse(value, { reportInput: true });
      if (r.success) {
        values.set(here.join("."), r.data);
        for (const extra of droppedKeys(value, r.data, [])) {
          report("warning", [...here, ...extra], "unknown key, ignored");
        }
      } else {
        for (const issue of r.error.issues) {
          report("error", [...here, ...issue.path as (string | number)[]], issueReason(issue));
        }
      }
    }
  };

  if (isPlainObject(data)) walk(ROOT_SHAPE, data, []);
  else report("error", [], `expected a dict of settings at the top, got ${describeValue(data)}`);
  return { values, problems };
}

/** Keys a cross-key rule reads, by the key its issue is reported on. */
const CROSS_KEY_RELATED: Record<string, string[]> = {
  "sensor.deadlineMarginMs": ["sensor.deadlineMarginMs", "sensor.authDeadlineMs"],
};

/**
 * Cross-key checks (e.g. deadline margin below the deadline) on complete
 * settings. Returns the failing dotted key, every key the check reads, and why.
 */
export function crossKeyProblems(
  settings: Settings,
): { key: string; related: string[]; reason: string }[] {
  const r = SettingsSchema.safeParse(settings, { reportInput: true });
  if (r.success) return [];
  return r.error.issues.map((issue) => {
    const key = keyOf(issue.path as (string | number)[]);
    return { key, related: CROSS_KEY_RELATED[key] ?? [key], reason: issueReason(issue) };
  });
}
