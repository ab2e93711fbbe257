/**
 * Compiles `where` conditions of the rule format to closures, once, at load.
 * No TOML tree is interpreted per event: field paths become accessors, globs
 * and regexes become linear-time tests (linear_regex.ts), lists become Sets.
 */
import type { Proc } from "./process_table.ts";
import {
  type Accessor,
  compileAccessor,
  compileProcAccessor,
  fieldType,
  type MatchCtx,
} from "./fields.ts";
import { compileGlob } from "./glob.ts";
import { compileLinear, type StringTest } from "./linear_regex.ts";
import { lowerCase } from "./lower_case.ts";

export type Pred = (c: MatchCtx) => boolean;

/** Where in the rule a problem is: keys from the rule table down. */
export type Loc = (string | number)[];
export type Report = (loc: Loc, message: string) => void;

/** Field values a later step reads from an earlier one (`{ step = N, field = "..." }`). */
export interface Captures {
  /** Per step index: the field paths to capture when that step matches. */
  fields: string[][];
}

export interface CompileScope {
  /** 0-based index of the step being compiled; refs may name only earlier steps. */
  stepIndex: number;
  captures: Captures;
  report: Report;
  /** Per step index: NEED_* bits of the fields its conditions (or later steps' refs to it) read. */
  needs?: number[];
  /** The pack's `[lists]`, for `"@name"` operands. */
  lists?: PackLists;
}

/**
 * Fields an event may lack although the same process gets them later (the
 * Linux auth exec has no args and no cwd; the notify exec brings them). A step
 * that reads one (with any operator but `exists`) is not tried on an event
 * whose process lacks it: it waits for the event that has it.
 */
export const NEED_ARGS = 1;
export const NEED_CWD = 2;
export const NEED_PARENT_ARGS = 4;
export const NEED_PARENT_CWD = 8;
export const NEED_ENV = 16;
export const NEED_PARENT_ENV = 32;
const NEED_BITS: Record<string, number> = {
  "process.args": NEED_ARGS,
  "process.command_line": NEED_ARGS,
  "process.working_directory": NEED_CWD,
  "process.parent.args": NEED_PARENT_ARGS,
  "process.parent.command_line": NEED_PARENT_ARGS,
  "process.parent.working_directory": NEED_PARENT_CWD,
  "process.env_vars": NEED_ENV,
  "process.parent.env_vars": NEED_PARENT_ENV,
};

/** Records that step `i` reads `field`. */
export function noteNeed(scope: CompileScope, i: number, field: string): void {
  const b = NEED_BITS[field];
  if (b !== undefined && scope.needs !== undefined) scope.needs[i] = (scope.needs[i] ?? 0) | b;
}

/** True when the process lacks a field of `needs` (see NEED_ARGS). */
export function lacksNeeded(needs: number, p: Proc): boolean {
  if ((needs & NEED_ARGS) !== 0 && p.args === undefined) return true;
  if ((needs & NEED_CWD) !== 0 && p.working_directory === undefined) return true;
  if ((needs & NEED_PARENT_ARGS) !== 0 && p.parent?.args === undefined) return true;
  if ((needs & NEED_ENV) !== 0 && p.env_vars === undefined) return true;
  if ((needs & NEED_PARENT_ENV) !== 0 && p.parent?.env_vars === undefined) return true;
  return (needs & NEED_PARENT_CWD) !== 0 && p.parent?.working_directory === undefined;
}

const OPERATORS = [
  "eq",
  "ne",
  "ieq",
  "in",
  "iin",
  "glob",
  "iglob",
  "regex",
  "iregex",
  "contains",
  "starts_with",
  "ends_with",
  "icontains",
  "istarts_with",
  "iends_with",
  "gt",
  "gte",
  "lt",
  "lte",
  "exists",
  "bits_any",
  "bits_all",
] as const;
type Operator = typeof OPERATORS[number];
const OPERATOR_SET: ReadonlySet<string> = new Set(OPERATORS);
const REF_OPS: ReadonlySet<string> = new Set([
  "eq",
  "ne",
  "ieq",
  "contains",
  "starts_with",
  "ends_with",
  "icontains",
  "istarts_with",
  "iends_with",
  "gt",
  "gte",
  "lt",
  "lte",
]);
const NUMERIC_OPS: ReadonlySet<string> = new Set([
  "gt",
  "gte",
  "lt",
  "lte",
  "bits_any",
  "bits_all",
]);

type Test = (x: unknown) => boolean;

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function lower(x: unknown): string | undefined {
  return typeof x === "string" ? lowerCase(x) : undefined;
}

/** A string op over one needle or a list (any). */
function stringTest(op: string, needles: string[]): Test | undefined {
  const ci = op.startsWith("i");
  const ns = ci ? needles.map((n) => n.toLowerCase()) : needles;
  const base = ci ? op.slice(1) : op;
  const one = ns.length === 1 ? ns[0]! : undefined;
  const norm = ci ? lower : (x: unknown) => (typeof x === "string" ? x : undefined);
  switch (base) {
    case "contains":
      return one !== undefined ? (x) => norm(x)?.includes(one) ?? false : (x) => {
        const s = norm(x);
        return s !== undefined && ns.some((n) => s.includes(n));
      };
    case "starts_with":
      return one !== undefined ? (x) => norm(x)?.startsWith(one) ?? false : (x) => {
        const s = norm(x);
        return s !== undefined && ns.some((n) => s.startsWith(n));
      };
    case "ends_with":
      return one !== undefined ? (x) => norm(x)?.endsWith(one) ?? false : (x) => {
        const s = norm(x);
        return s !== undefined && ns.some((n) => s.endsWith(n));
      };
  }
  return undefined;
}

function refTest(op: string, r: unknown): Test {
  switch (op) {
    case "eq":
    case "ne":
      return (x) => x === r;
    case "ieq": {
      const lr = lower(r);
      return (x) => lr !== undefined && lower(x) === lr;
    }
    case "gt":
      return (x) => typeof x === "number" && typeof r === "number" && x > r;
    case "gte":
      return (x) => typeof x === "number" && typeof r === "number" && x >= r;
    case "lt":
      return (x) => typeof x === "number" && typeof r === "number" && x < r;
    case "lte":
      return (x) => typeof x === "number" && typeof r === "number" && x <= r;
  }
  if (typeof r !== "string") return () => false;
  return stringTest(op, [r])!;
}

/** Any element of a list value, or the value itself. */
function anyOf<T>(get: (c: T) => unknown, t: Test): (c: T) => boolean {
  return (c) => {
    const v = get(c);
    if (v === undefined || v === null) return false;
    if (Array.isArray(v)) {
      for (const x of v) if (t(x)) return true;
      return false;
    }
    return t(v);
  };
}

/**
 * Compiles every pattern once; the test holds when any matches a string. A
 * pattern that does not compile is reported (`Bad glob "x": ...`) and the
 * condition is dropped.
 */
function anyPattern(
  pats: string[] | undefined,
  what: "glob" | "regex",
  compile: (p: string) => StringTest,
  loc: Loc,
  report: Report,
): Test | undefined {
  if (!pats) return undefined;
  const res: StringTest[] = [];
  for (const p of pats) {
    try {
      res.push(compile(p));
    } catch (e) {
      report(loc, `Bad ${what} "${p}": ${(e as Error).message}`);
      return undefined;
    }
  }
  if (res.length === 1) {
    const re = res[0]!;
    return (x) => typeof x === "string" && re(x);
  }
  return (x) => typeof x === "string" && res.some((re) => re(x));
}

/** Builds the scalar test of a literal operand; reports and returns undefined when invalid. */
function literalTest(op: Operator, value: unknown, loc: Loc, report: Report): Test | undefined {
  const strOrList = (): string[] | undefined => {
    if (typeof value === "string") return [value];
    if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")) {
      return value as string[];
    }
    report(loc, `"${op}" needs a string or a non-empty list of strings`);
    return undefined;
  };
  switch (op) {
    case "eq":
    case "ne":
      if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
        return (x) => x === value;
      }
      report(loc, `"${op}" needs a string, number or boolean`);
      return undefined;
    case "ieq": {
      if (typeof value !== "string") {
        report(loc, `"ieq" needs a string`);
        return undefined;
      }
      const l = value.toLowerCase();
      return (x) => lower(x) === l;
    }
    case "in":
    case "iin": {
      if (
        !Array.isArray(value) || value.length === 0 ||
        !value.every((v) => typeof v === "string" || typeof v === "number")
      ) {
        report(loc, `"${op}" needs a non-empty list of strings or numbers`);
        return undefined;
      }
      if (op === "iin") {
        const s = new Set(value.map((v) => String(v).toLowerCase()));
        return (x) => {
          const l = lower(x);
          return l !== undefined && s.has(l);
        };
      }
      const s = new Set<unknown>(value);
      return (x) => s.has(x);
    }
    case "glob":
    case "iglob":
      return anyPattern(strOrList(), "glob", (g) => compileGlob(g, op === "iglob"), loc, report);
    case "regex":
    case "iregex":
      return anyPattern(
        strOrList(),
        "regex",
        (r) => compileLinear(r, { ignoreCase: op === "iregex", dotAll: true }),
        loc,
        report,
      );
    case "contains":
    case "starts_with":
    case "ends_with":
    case "icontains":
    case "istarts_with":
    case "iends_with": {
      const ns = strOrList();
      return ns ? stringTest(op, ns) : undefined;
    }
    case "gt":
    case "gte":
    case "lt":
    case "lte": {
      if (typeof value !== "number") {
        report(loc, `"${op}" needs a number`);
        return undefined;
      }
      const n = value;
      if (op === "gt") return (x) => typeof x === "number" && x > n;
      if (op === "gte") return (x) => typeof x === "number" && x >= n;
      if (op === "lt") return (x) => typeof x === "number" && x < n;
      return (x) => typeof x === "number" && x <= n;
    }
    case "bits_any":
    case "bits_all": {
      if (
        typeof value !== "number" || !Number.isInteger(value) || value <= 0 || value > 0x7fffffff
      ) {
        report(loc, `"${op}" needs a positive integer mask (e.g. 2048 for setuid)`);
        return undefined;
      }
      const m = value;
      return op === "bits_any"
        ? (x) => typeof x === "number" && (x & m) !== 0
        : (x) => typeof x === "number" && (x & m) === m;
    }
    case "exists":
      report(loc, "internal: exists handled elsewhere");
      return undefined;
  }
}

interface Parsed {
  field: string;
  op: Operator;
  value: unknown;
  opLoc: Loc;
}

/** Splits `{ field, <op> }`; reports and returns undefined when malformed. */
function parseLeaf(cond: Record<string, unknown>, loc: Loc, report: Report): Parsed | undefined {
  const field = cond.field;
  if (typeof field !== "string") {
    report([...loc, "field"], `Condition needs "field" (a string)`);
    return undefined;
  }
  const ops = Object.keys(cond).filter((k) => k !== "field");
  const unknown = ops.filter((k) => !OPERATOR_SET.has(k));
  if (unknown.length > 0) {
    report([...loc, unknown[0]!], `Unknown operator "${unknown[0]}"`);
    return undefined;
  }
  if (ops.length !== 1) {
    report(loc, `Condition on "${field}" needs exactly one operator, got ${ops.length}`);
    return undefined;
  }
  const op = ops[0] as Operator;
  return { field, op, value: cond[op], opLoc: [...loc, op] };
}

/** A pack's named lists (`[lists]`), referenced from operands as `"@name"`. */
export type PackLists = ReadonlyMap<string, readonly (string | number)[]>;

/**
 * What a condition is evaluated on: the event (a step's `where`, `exclude`) or
 * an ancestor's process record (inside `child_of` / `descendant_of`). Both go
 * through the one compiler below; only field access and what a subject may
 * refer to differ.
 */
interface Subject<T> {
  /** Accessor for `field`, or a problem message when the subject cannot read it. */
  access(field: string): ((t: T) => unknown) | string;
  /** The process whose ancestors `child_of` / `descendant_of` walk. */
  proc(t: T): Proc;
  /** Step and field references, and load-time needs, exist only on events. */
  scope?: CompileScope;
}

const EVENT_SUBJECT: Subject<MatchCtx> = {
  access: (f) => compileAccessor(f) ?? `Unknown field path "${f}"`,
  proc: (c) => c.proc,
};

const PROC_SUBJECT: Subject<Proc> = {
  access: (f) =>
    compileProcAccessor(f) ??
      (fieldType(f) === undefined
        ? `Unknown field path "${f}"`
        : `Field "${f}" is not a process field (child_of / descendant_of test process.* fields)`),
  proc: (p) => p,
};

const COMBINATORS = ["all", "any", "not", "child_of", "descendant_of"] as const;

/** Operators whose operand may be a list, and so may name a pack list. */
const LIST_OPS: ReadonlySet<string> = new Set([
  "in",
  "iin",
  "glob",
  "iglob",
  "regex",
  "iregex",
  "contains",
  "starts_with",
  "ends_with",
  "icontains",
  "istarts_with",
  "iends_with",
]);

/**
 * A list reference: `@` and a list name. Anything else starting with `@`
 * (curl's `-d @/etc/shadow`) is a literal; `@@name` is the literal `@name`.
 */
export const LIST_REF = /^@@?[a-z0-9_]+$/;

/**
 * Replaces `"@name"` (alone, or as elements of a list) by the pack list's
 * values; `"@@name"` is the literal `"@name"`. Reports an unknown name.
 */
export function expandLists(
  value: unknown,
  lists: PackLists | undefined,
  loc: Loc,
  report: Report,
): unknown {
  const one = (v: unknown, at: Loc): unknown[] | undefined => {
    if (typeof v !== "string" || !LIST_REF.test(v)) return [v];
    if (v.startsWith("@@")) return [v.slice(1)];
    const l = lists?.get(v.slice(1));
    if (l === undefined) {
      report(at, `Unknown list "${v}": define it under [lists] in the pack`);
      return undefined;
    }
    return [...l];
  };
  if (typeof value === "string") {
    if (!LIST_REF.test(value)) return value;
    const r = one(value, loc);
    return r === undefined ? undefined : value.startsWith("@@") ? r[0] : r;
  }
  if (!Array.isArray(value)) return value;
  const out: unknown[] = [];
  for (let i = 0; i < value.length; i++) {
    const r = one(value[i], [...loc, i]);
    if (r === undefined) return undefined;
    out.push(...r);
  }
  return out;
}

/** Compiles one condition over the event (and its process view). */
export function compileCondition(cond: unknown, loc: Loc, scope: CompileScope): Pred | undefined {
  return compileOn({ ...EVENT_SUBJECT, scope }, cond, loc, scope.report, scope.lists);
}

/**
 * The one condition compiler. A combinator must be alone in its table, a
 * leaf is `{ field, <one operator> }`, everywhere: at the top of a step and
 * inside `child_of` alike.
 */
function compileOn<T>(
  sub: Subject<T>,
  cond: unknown,
  loc: Loc,
  report: Report,
  lists: PackLists | undefined,
): ((t: T) => boolean) | undefined {
  if (!isPlain(cond)) {
    report(loc, "Condition must be a table");
    return undefined;
  }
  const keys = Object.keys(cond);
  const comb = COMBINATORS.find((k) => k in cond);
  if (comb !== undefined) {
    if (keys.length !== 1) {
      const other = keys.find((k) => k !== comb)!;
      report([...loc, other], `Combinator must be alone in its table, got ${keys.join(", ")}`);
      return undefined;
    }
    if (comb === "not") {
      const inner = compileOn(sub, cond.not, [...loc, "not"], report, lists);
      return inner && ((t) => !inner(t));
    }
    const list = cond[comb];
    if (!Array.isArray(list) || list.length === 0) {
      report([...loc, comb], `"${comb}" needs a non-empty list of conditions`);
      return undefined;
    }
    if (comb === "child_of" || comb === "descendant_of") {
      const preds = list.map((x, i) =>
        compileOn(PROC_SUBJECT, x, [...loc, comb, i], report, lists)
      );
      if (preds.some((p) => p === undefined)) return undefined;
      const all = allOf(preds as ((p: Proc) => boolean)[]);
      if (comb === "child_of") {
        return (t) => {
          const pp = sub.proc(t).parent;
          return pp !== undefined && all(pp);
        };
      }
      return (t) => {
        let a = sub.proc(t).parent;
        for (let n = 0; a !== undefined && n < 64; n++, a = a.parent) if (all(a)) return true;
        return false;
      };
    }
    const preds = list.map((x, i) => compileOn(sub, x, [...loc, comb, i], report, lists));
    if (preds.some((p) => p === undefined)) return undefined;
    const ps = preds as ((t: T) => boolean)[];
    return comb === "all" ? allOf(ps) : anyPred(ps);
  }
  const leaf = parseLeaf(cond, loc, report);
  if (!leaf) return undefined;
  const { field, op, opLoc } = leaf;
  const acc = sub.access(field);
  if (typeof acc === "string") {
    report([...loc, "field"], acc);
    return undefined;
  }
  if (NUMERIC_OPS.has(op) && fieldType(field) !== "number") {
    report(opLoc, `"${op}" on non-numeric field "${field}"`);
    return undefined;
  }
  const { scope } = sub;
  if (op !== "exists" && scope !== undefined) noteNeed(scope, scope.stepIndex, field);
  if (op === "exists") {
    if (typeof leaf.value !== "boolean") {
      report(opLoc, `"exists" needs true or false`);
      return undefined;
    }
    const want = leaf.value;
    return (t) => {
      const v = acc(t);
      return (v !== undefined && v !== null) === want;
    };
  }
  if (isPlain(leaf.value)) {
    if (scope === undefined) {
      report(opLoc, "Step references are not allowed inside child_of / descendant_of");
      return undefined;
    }
    return compileRef(acc as Accessor, op, leaf.value, opLoc, scope) as
      | ((t: T) => boolean)
      | undefined;
  }
  const value = LIST_OPS.has(op) ? expandLists(leaf.value, lists, opLoc, report) : leaf.value;
  if (value === undefined) return undefined;
  const t = literalTest(op, value, opLoc, report);
  if (!t) return undefined;
  const p = anyOf(acc, t);
  return op === "ne" ? (x) => !p(x) : p;
}

function compileRef(
  acc: Accessor,
  op: Operator,
  value: Record<string, unknown>,
  loc: Loc,
  scope: CompileScope,
): Pred | undefined {
  const { report } = scope;
  if (!REF_OPS.has(op)) {
    report(loc, `"${op}" cannot refer to another step`);
    return undefined;
  }
  const keys = Object.keys(value).sort().join(",");
  const step = value.step;
  const field = value.field;
  if (keys === "field" && typeof field === "string") {
    // `{ field = "path" }`: another field of the same event.
    const other = compileAccessor(field);
    if (other === undefined) {
      report(loc, `Unknown field path "${field}" in field reference`);
      return undefined;
    }
    noteNeed(scope, scope.stepIndex, field);
    const negSame = op === "ne";
    return (c) => {
      const hit = refHolds(op, acc(c), other(c));
      return negSame ? !hit : hit;
    };
  }
  if (keys !== "field,step" || typeof step !== "number" || typeof field !== "string") {
    report(loc, `A reference is { step = N, field = "path" } or { field = "path" } (this event)`);
    return undefined;
  }
  if (!Number.isInteger(step) || step < 1 || step > scope.stepIndex) {
    report(loc, `Step reference ${step} must name an earlier step (1..${scope.stepIndex})`);
    return undefined;
  }
  if (compileAccessor(field) === undefined) {
    report(loc, `Unknown field path "${field}" in step reference`);
    return undefined;
  }
  const si = step - 1;
  const list = scope.captures.fields[si]!;
  let k = list.indexOf(field);
  if (k < 0) {
    k = list.length;
    list.push(field);
  }
  noteNeed(scope, si, field);
  const neg = op === "ne";
  return (c) => {
    const hit = refHolds(op, acc(c), c.refs?.[si]?.[k]);
    return neg ? !hit : hit;
  };
}

/** `v op r` where either side may be a list (any element) and an absent side never holds. */
function refHolds(op: Operator, v: unknown, r: unknown): boolean {
  if (r === undefined || r === null || v === undefined || v === null) return false;
  if (Array.isArray(r)) {
    for (const x of r) if (refHolds(op, v, x)) return true;
    return false;
  }
  const t = refTest(op, r);
  return Array.isArray(v) ? v.some(t) : t(v);
}

export function allOf<T = MatchCtx>(ps: ((c: T) => boolean)[]): (c: T) => boolean {
  type P = (c: T) => boolean;
  if (ps.length === 0) return () => true;
  if (ps.length === 1) return ps[0]!;
  if (ps.length === 2) {
    const [a, b] = ps as [P, P];
    return (c) => a(c) && b(c);
  }
  if (ps.length === 3) {
    const [a, b, d] = ps as [P, P, P];
    return (c) => a(c) && b(c) && d(c);
  }
  return (c) => {
    for (const p of ps) if (!p(c)) return false;
    return true;
  };
}

function anyPred<T>(ps: ((c: T) => boolean)[]): (c: T) => boolean {
  if (ps.length === 1) return ps[0]!;
  return (c) => {
    for (const p of ps) if (p(c)) return true;
    return false;
  };
}
