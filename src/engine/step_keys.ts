/**
 * What the rule index (event_index.ts) knows of a step from its `where`, at
 * load: the file names it can match (`file.name in [...]`, `file.path
 * ends_with "/x"`), and which of its conditions read only the process's name
 * and executable (evaluated once per name and executable, not per event).
 *
 * Keys are lower-cased: one key serves case-sensitive and case-insensitive
 * conditions alike, and the step's own conditions still decide. The
 * derivation is conservative: every event a condition accepts has a key in
 * the step's set; a condition it does not understand gives no key, and a
 * step without keys is visited for every event of its kinds.
 */
import { basename } from "./process_table.ts";
import { expandLists, type PackLists } from "./conditions.ts";
import { requiredLiterals } from "./regex_literals.ts";
import { lowerPattern } from "./linear_regex.ts";

/** What a key is read from: `fname` the last segment of `file.path`, lower-cased. */
export type KeyDim = "fname";
export const KEY_DIMS: readonly KeyDim[] = ["fname"];

/** Per dimension, the keys one of which an event must have for the step to match. */
export type StepKeys = Partial<Record<KeyDim, readonly string[]>>;

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The index key of a name or path segment: lower-cased. */
export function keyOf(s: string): string {
  return s.toLowerCase();
}

const WILDCARD = /[*?[]/;

/** Operand values as strings (pack lists expanded); undefined unless all are strings. */
function strings(v: unknown, lists: PackLists | undefined): string[] | undefined {
  const x = expandLists(v, lists, [], () => {});
  const vals = typeof x === "string" ? [x] : x;
  if (!Array.isArray(vals) || vals.length === 0) return undefined;
  return vals.every((s) => typeof s === "string") ? vals as string[] : undefined;
}

/** The keys a leaf condition requires, or undefined when it requires none. */
function leafKeys(c: Record<string, unknown>, lists: PackLists | undefined): StepKeys | undefined {
  const field = c.field;
  const ops = Object.keys(c).filter((k) => k !== "field");
  if (typeof field !== "string" || ops.length !== 1) return undefined;
  const op = ops[0]!;
  const operand = c[op];
  // A reference to another step or field is not a literal.
  if (isPlain(operand)) return undefined;
  // `in` may hold numbers, which never equal a name: only strings can match.
  const vals = op === "in" || op === "iin"
    ? (() => {
      const x = expandLists(operand, lists, [], () => {});
      if (!Array.isArray(x)) return undefined;
      if (op === "iin") return x.map((v) => String(v));
      return x.filter((v): v is string => typeof v === "string");
    })()
    : strings(operand, lists);
  if (vals === undefined) return undefined;
  const whole = (vs: string[]): string[] | undefined => {
    switch (op) {
      case "eq":
      case "ieq":
      case "in":
      case "iin":
        return vs;
      case "glob":
      case "iglob":
        // A glob without wildcards matches exactly its text.
        return vs.every((g) => !WILDCARD.test(g)) ? vs : undefined;
    }
    return undefined;
  };
  /** The last path segment every accepted value ends in, per value. */
  const last = (vs: string[]): string[] | undefined => {
    switch (op) {
      case "eq":
      case "ieq":
      case "in":
      case "iin":
        return vs.map(basename);
      case "ends_with":
      case "iends_with":
        // "/curl" fixes the last segment; "curl" alone does not ("libcurl").
        return vs.every((v) => v.includes("/")) ? vs.map(basename) : undefined;
      case "glob":
      case "iglob":
        // A class could hold the "/" that seems to end the path: no classes at all.
        return vs.every((g) => !WILDCARD.test(basename(g)) && !g.includes("]"))
          ? vs.map(basename)
          : undefined;
    }
    return undefined;
  };
  let keys: string[] | undefined;
  let dim: KeyDim;
  switch (field) {
    case "file.name":
      dim = "fname";
      keys = whole(vals);
      break;
    case "file.path":
      dim = "fname";
      keys = last(vals);
      break;
    default:
      return undefined;
  }
  if (keys === undefined || keys.length === 0) return undefined;
  return { [dim]: [...new Set(keys.map(keyOf))] };
}

/** Keys a condition requires (a conjunction's: any conjunct's; a disjunction's: shared dimensions). */
function condKeys(c: unknown, lists: PackLists | undefined): StepKeys | undefined {
  if (!isPlain(c)) return undefined;
  const keys = Object.keys(c);
  if (keys.length === 1 && Array.isArray(c.all)) return conjKeys(c.all, lists);
  if (keys.length === 1 && Array.isArray(c.any)) {
    const alts = c.any.map((x) => condKeys(x, lists));
    if (alts.length === 0 || alts.some((a) => a === undefined)) return undefined;
    const out: StepKeys = {};
    for (const d of KEY_DIMS) {
      if (!alts.every((a) => a![d] !== undefined)) continue;
      out[d] = [...new Set(alts.flatMap((a) => a![d]!))];
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  if ("field" in c) return leafKeys(c, lists);
  return undefined; // not, child_of, descendant_of: nothing required of this event
}

/** Keys of conditions that must all hold: per dimension the smallest set any of them requires. */
function conjKeys(cs: unknown[], lists: PackLists | undefined): StepKeys | undefined {
  const out: StepKeys = {};
  for (const c of cs) {
    const k = condKeys(c, lists);
    if (k === undefined) continue;
    for (const d of KEY_DIMS) {
      const v = k[d];
      if (v !== undefined && (out[d] === undefined || v.length < out[d]!.length)) out[d] = v;
    }
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** Fields whose value is the same for every event of one process image: its name and executable. */
const IMAGE_FIELDS: ReadonlySet<string> = new Set(["process.name", "process.executable"]);

/** True when a condition reads nothing but the process name and executable, with literal operands. */
export function imageOnly(c: unknown): boolean {
  if (!isPlain(c)) return false;
  const keys = Object.keys(c);
  if (keys.length === 1 && (Array.isArray(c.all) || Array.isArray(c.any))) {
    const l = (c.all ?? c.any) as unknown[];
    return l.length > 0 && l.every(imageOnly);
  }
  if (keys.length === 1 && "not" in c) return imageOnly(c.not);
  if (typeof c.field !== "string" || !IMAGE_FIELDS.has(c.field) || keys.length !== 2) return false;
  const op = keys.find((k) => k !== "field")!;
  // A reference (`{ field = ... }`, `{ step = ... }`) reads another field or step.
  return !isPlain(c[op]);
}

/**
 * What a condition requires of the process name and executable alone: the
 * condition with every part that reads anything else taken as true (a `not`
 * of such a part, too), so it holds whenever the condition holds. Its value is
 * the same for every event of processes with the same name and executable:
 * the index evaluates it once per pair (event_index.ts) and skips the step
 * where it fails. Undefined when it requires nothing of them.
 */
export function imageGate(c: unknown): unknown {
  if (imageOnly(c)) return c;
  if (!isPlain(c) || Object.keys(c).length !== 1) return undefined;
  if (Array.isArray(c.all)) {
    const parts = c.all.map(imageGate).filter((x) => x !== undefined);
    return parts.length === 0 ? undefined : { all: parts };
  }
  if (Array.isArray(c.any)) {
    const parts = c.any.map(imageGate);
    return parts.length === 0 || parts.some((x) => x === undefined) ? undefined : { any: parts };
  }
  return undefined; // not (of a mixed condition), child_of, descendant_of, other fields
}

/**
 * The index keys of a step's `where` (its conditions all hold), or undefined
 * when it requires no name of the event's process or file.
 */
export function stepKeys(where: unknown[], lists: PackLists | undefined): StepKeys | undefined {
  return conjKeys(where, lists);
}

const CMD_FIELDS: ReadonlySet<string> = new Set(["process.args", "process.command_line"]);
// deno-lint-ignore no-control-regex -- the whole ASCII range, NUL included, on purpose
const ASCII = /^[\x00-\x7f]*$/;

/**
 * Literals one of which the lower-cased command line (the args joined by
 * spaces) contains whenever the condition holds, or undefined when there are
 * none to tell. An argument is a stretch of the command line, and lower-casing
 * it alone or within the line gives the same text (a space ends any context
 * of case), so what an argument holds the line holds. A case-sensitive operand
 * counts only when ASCII (its lower-casing is then the same wherever it sits).
 */
function cmdLeaf(c: Record<string, unknown>, lists: PackLists | undefined): string[] | undefined {
  const field = c.field;
  const ops = Object.keys(c).filter((k) => k !== "field");
  if (typeof field !== "string" || !CMD_FIELDS.has(field) || ops.length !== 1) return undefined;
  const op = ops[0]!;
  const operand = c[op];
  if (isPlain(operand)) return undefined;
  const x = expandLists(operand, lists, [], () => {});
  const raw = typeof x === "string" ? [x] : Array.isArray(x) ? x : undefined;
  if (raw === undefined || raw.length === 0) return undefined;
  // "in" is not an "i" operator.
  const ci = op !== "in" && op.startsWith("i");
  const base = ci ? op.slice(1) : op;
  let lits: string[] = [];
  switch (base) {
    case "eq":
    case "in":
    case "contains":
    case "starts_with":
    case "ends_with":
      // `in` may hold numbers, which never equal an argument (iin compares their text).
      for (const v of raw) {
        if (typeof v === "string") lits.push(v);
        else if (op === "iin" && typeof v === "number") lits.push(String(v));
        else if (op !== "in") return undefined;
      }
      break;
    case "regex":
      for (const v of raw) {
        if (typeof v !== "string") return undefined;
        const r = requiredLiterals(ci ? lowerPattern(v) : v);
        if (r === null) return undefined;
        lits.push(...r.map((and) => and[0]!));
      }
      break;
    default:
      return undefined;
  }
  if (!ci && !lits.every((l) => ASCII.test(l))) return undefined;
  lits = lits.map((l) => l.toLowerCase());
  return lits.length === 0 || lits.some((l) => l === "") ? undefined : [...new Set(lits)];
}

function cmdCond(c: unknown, lists: PackLists | undefined): string[] | undefined {
  if (!isPlain(c)) return undefined;
  const keys = Object.keys(c);
  if (keys.length === 1 && Array.isArray(c.all)) return cmdConj(c.all, lists);
  if (keys.length === 1 && Array.isArray(c.any)) {
    const alts = c.any.map((x) => cmdCond(x, lists));
    if (alts.length === 0 || alts.some((a) => a === undefined)) return undefined;
    return [...new Set(alts.flatMap((a) => a!))];
  }
  if ("field" in c) return cmdLeaf(c, lists);
  return undefined;
}

/** Of conditions that must all hold: the set whose shortest literal is longest (it rejects most). */
function cmdConj(cs: unknown[], lists: PackLists | undefined): string[] | undefined {
  let best: string[] | undefined;
  const shortest = (l: string[]) => Math.min(...l.map((x) => x.length));
  for (const c of cs) {
    const l = cmdCond(c, lists);
    if (l !== undefined && (best === undefined || shortest(l) > shortest(best))) best = l;
  }
  return best;
}

/**
 * Literals one of which the lower-cased command line contains whenever the
 * step's `where` holds (event_index.ts scans for all steps' at once), or
 * undefined when the step requires none.
 */
export function stepCmdLiterals(
  where: unknown[],
  lists: PackLists | undefined,
): string[] | undefined {
  return cmdConj(where, lists);
}

/**
 * The "a tool by its name, or its script among the arguments" shape: a
 * conjunct `any = [...]` of the step's `where` each of whose alternatives
 * either reads only the process name and executable (`imageOnly`) or requires
 * a command-line literal (as `stepCmdLiterals`), with some of each. Whenever
 * the step matches, `image` (the `any` of the former) holds or the lower-cased
 * command line contains one of `literals`. Neither the image gate nor the
 * command-line literals can use such a conjunct alone; the index checks the
 * two together (event_index.ts). The first conjunct of the shape; undefined
 * when there is none.
 */
export function stepImageOrCmd(
  where: unknown[],
  lists: PackLists | undefined,
): { image: unknown; literals: string[] } | undefined {
  for (const c of where) {
    if (!isPlain(c) || Object.keys(c).length !== 1 || !Array.isArray(c.any)) continue;
    const image: unknown[] = [];
    const literals: string[] = [];
    let shaped = c.any.length > 0;
    for (const alt of c.any) {
      if (imageOnly(alt)) {
        image.push(alt);
        continue;
      }
      const l = cmdCond(alt, lists);
      if (l === undefined) {
        shaped = false;
        break;
      }
      literals.push(...l);
    }
    if (shaped && image.length > 0 && literals.length > 0) {
      return { image: { any: image }, literals: [...new Set(literals)] };
    }
  }
  return undefined;
}
