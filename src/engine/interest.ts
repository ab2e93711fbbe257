/**
 * What the loaded rules can use, for the sensor's interest filter
 * (src/sensor/interest.ts): per step, the file paths it can match
 * (`stepPaths`) and, per action, the paths and process names
 * (`stepInterest`), both at load; and over a rule set and the agent's other
 * consumers, the filter (`compileInterest`).
 *
 * Conservative by construction: a step whose `where` gives no literal path
 * or process-name constraint takes every event of its kinds, every kind the
 * process table needs (exec, fork, exit) passes whole, and RTP takes every
 * written file of a size on the blocklist (every file when a line has no
 * size). Dropping an event this filter rules out never changes a verdict:
 * every event a step can match has a path, a process name and a size one of
 * its patterns accepts (interest_test.ts replays every rule trace with and
 * without the filter).
 */
import type { EventAction } from "../sensor/event.ts";
import type { InterestFilter, PathPattern } from "../sensor/interest.ts";
import { expandLists, type PackLists } from "./conditions.ts";
import type { CompiledRule, Platform } from "./rule_set.ts";

const FILE_FIELDS: ReadonlySet<string> = new Set(["file.path", "file.target_path"]);

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The literal text before the first and after the last wildcard of a glob
 * (glob.ts). `/**\/` also matches a single `/`, so a suffix right after `**`
 * loses its leading `/`.
 */
function globPattern(g: string): PathPattern {
  const first = g.search(/[*?[]/);
  if (first < 0) return { prefix: g, suffix: g };
  const last = Math.max(g.lastIndexOf("*"), g.lastIndexOf("?"), g.lastIndexOf("]"));
  let suffix = g.slice(last + 1);
  if (g[last] === "*" && g[last - 1] === "*" && suffix.startsWith("/")) suffix = suffix.slice(1);
  return { prefix: g.slice(0, first), suffix };
}

// ---- regular expressions: the literal texts every match starts and ends with ----

/** One element of a pattern: a literal character, a group of alternatives, or anything else. */
type Atom =
  | { t: "lit"; c: string; q: string }
  | { t: "group"; alts: Atom[][]; q: string }
  | { t: "other"; q: string };

interface Parsed {
  seq: Atom[];
  start: boolean; // anchored with ^
  end: boolean; // anchored with $
}

/** Parses the subset the analysis needs; undefined for anything it does not follow. */
function parseRegex(re: string): Parsed | undefined {
  let i = 0;
  const start = re.startsWith("^");
  if (start) i = 1;
  let end = false;
  const quant = (): string | undefined => {
    const c = re[i];
    if (c === "?" || c === "*" || c === "+") {
      i++;
      if (re[i] === "?") i++; // lazy: same texts
      return c;
    }
    if (c === "{") {
      const close = re.indexOf("}", i);
      if (close < 0) return undefined;
      i = close + 1;
      if (re[i] === "?") i++;
      return "{";
    }
    return "";
  };
  const seq = (depth: number): Atom[][] | undefined => {
    const alts: Atom[][] = [[]];
    while (i < re.length) {
      const c = re[i]!;
      if (c === ")") {
        if (depth === 0) return undefined;
        return alts;
      }
      if (c === "|") {
        i++;
        alts.push([]);
        continue;
      }
      if (c === "$") {
        if (depth !== 0 || i !== re.length - 1 || alts.length > 1) return undefined;
        end = true;
        i++;
        continue;
      }
      if (c === "^") return undefined;
      let atom: Atom;
      if (c === "\\") {
        const n = re[i + 1];
        if (n === undefined) return undefined;
        i += 2;
        atom = /[0-9A-Za-z]/.test(n) ? { t: "other", q: "" } : { t: "lit", c: n, q: "" };
      } else if (c === "[") {
        let j = i + 1;
        if (re[j] === "^") j++;
        if (re[j] === "]") j++;
        while (j < re.length && re[j] !== "]") j += re[j] === "\\" ? 2 : 1;
        if (j >= re.length) return undefined;
        i = j + 1;
        atom = { t: "other", q: "" };
      } else if (c === "(") {
        i++;
        if (re[i] === "?") {
          if (re[i + 1] !== ":") return undefined; // lookarounds, named groups, inline flags
          i += 2;
        }
        const inner = seq(depth + 1);
        if (inner === undefined || re[i] !== ")") return undefined;
        i++;
        atom = { t: "group", alts: inner, q: "" };
      } else if (c === ".") {
        i++;
        atom = { t: "other", q: "" };
      } else if ("*+?{}]".includes(c)) {
        return undefined;
      } else {
        i++;
        atom = { t: "lit", c, q: "" };
      }
      const q = quant();
      if (q === undefined) return undefined;
      atom.q = q;
      alts[alts.length - 1]!.push(atom);
    }
    return depth === 0 ? alts : undefined;
  };
  const alts = seq(0);
  if (alts === undefined) return undefined;
  if (start && alts.length > 1) return undefined; // "^a|b": only the first is anchored
  const top: Atom[] = alts.length === 1 ? alts[0]! : [{ t: "group", alts, q: "" }];
  return { seq: top, start, end };
}

/** Texts cut short (a match goes on with something else) or whole (the sequence ended). */
interface Texts {
  cut: Set<string>;
  whole: Set<string>;
}

const MAX_TEXTS = 64;

/**
 * The literal texts one of which every match of `seq` starts with (reading
 * left to right) or ends with (`back`), at most MAX_TEXTS; undefined past that.
 */
function texts(seq: readonly Atom[], back: boolean): Texts | undefined {
  const out: Texts = { cut: new Set(), whole: new Set() };
  const order = back ? [...seq].reverse() : seq;
  let live = new Set<string>([""]);
  const join = (a: string, b: string) => (back ? b + a : a + b);
  for (const atom of order) {
    const next = new Set<string>();
    const skip = atom.q === "?" || atom.q === "*" || atom.q === "{";
    // once ("" or the present branch of "?"): the match goes on right after it
    const once = atom.q === "" || atom.q === "?";
    if (skip && atom.q !== "?") {
      // zero or more, or a count we do not read: the text ends here
      for (const s of live) out.cut.add(s);
      live = new Set();
      break;
    }
    if (atom.q === "?") { for (const s of live) next.add(s); // absent
     }
    if (atom.t === "other") {
      for (const s of live) out.cut.add(s);
      if (atom.q !== "?") {
        live = new Set();
        break;
      }
      live = next;
      continue;
    }
    let pieces: Texts;
    if (atom.t === "lit") pieces = { cut: new Set(), whole: new Set([atom.c]) };
    else {
      pieces = { cut: new Set(), whole: new Set() };
      for (const alt of atom.alts) {
        const t = texts(alt, back);
        if (t === undefined) return undefined;
        for (const x of t.cut) pieces.cut.add(x);
        for (const x of t.whole) pieces.whole.add(x);
      }
    }
    for (const s of live) {
      for (const x of pieces.cut) out.cut.add(join(s, x));
      for (const x of pieces.whole) {
        if (once) next.add(join(s, x));
        else out.cut.add(join(s, x));
      }
    }
    live = next;
    if (out.cut.size + live.size > MAX_TEXTS) return undefined;
  }
  for (const s of live) out.whole.add(s);
  if (out.cut.size + out.whole.size > MAX_TEXTS) return undefined;
  return out;
}

function all(t: Texts): string[] {
  return [...new Set([...t.cut, ...t.whole])];
}

/**
 * The runs of literal characters, each exactly once, in the top-level
 * sequence, longest first (two characters or more): every match contains
 * each. `^/(a|b)(/.*)?/\.[^/]+$` gives "/.", which the ends alone do not.
 */
function middleTexts(seq: readonly Atom[]): string[] {
  const runs: string[] = [];
  let run = "";
  for (const a of [...seq, { t: "other", q: "" } as const]) {
    if (a.t === "lit" && a.q === "") run += a.c;
    else {
      if (run.length >= 2) runs.push(run);
      run = "";
    }
  }
  return runs.sort((x, y) => y.length - x.length);
}

/**
 * The patterns every match of a regex on a path (or, `name`, on its base
 * name) fits, or undefined when the regex gives none. `fold`: iregex.
 */
export function regexPatterns(re: string, fold: boolean, name = false): PathPattern[] | undefined {
  const p = parseRegex(re);
  if (p === undefined) return undefined;
  const front = texts(p.seq, false);
  const back = texts(p.seq, true);
  if (front === undefined || back === undefined) return undefined;
  const heads = all(front), tails = all(back);
  const norm = (x: string) => (fold ? x.toLowerCase() : x);
  if (fold && [...heads, ...tails].some((x) => /[\u0080-\uffff]/.test(x))) return undefined;
  const useful = (xs: string[]) => !xs.includes("");
  const out: PathPattern[] = [];
  const mk = (prefix: string, suffix: string, contains: string): PathPattern => {
    const pat: PathPattern = { prefix: norm(prefix), suffix: norm(suffix) };
    if (contains !== "") pat.contains = norm(contains);
    if (fold) pat.fold = true;
    return pat;
  };
  // A path's base name starts after its last "/": a name prefix is only contained.
  const anchoredStart = p.start && !name;
  const hs = useful(heads) ? heads : [""];
  const ts = p.end && useful(tails) ? tails : [""];
  if (hs.length * ts.length > 4 * MAX_TEXTS) return undefined;
  const mids = middleTexts(p.seq).filter((m) => !fold || !/[\u0080-\uffff]/.test(m));
  for (const h of hs) {
    for (const t of ts) {
      // a middle text the ends do not already hold
      const m = mids.find((x) => !h.includes(x) && !t.includes(x)) ?? "";
      out.push(anchoredStart ? mk(h, t, m) : mk("", t, h || m));
    }
  }
  if (out.some((x) => x.prefix === "" && x.suffix === "" && !x.contains)) {
    // nothing from the ends: a text the middle must contain
    if (!p.end && useful(tails) && tails.length <= MAX_TEXTS) {
      return tails.map((t) => mk("", "", t));
    }
    return undefined;
  }
  return out;
}

const STRING_OPS = new Set([
  "glob",
  "eq",
  "in",
  "starts_with",
  "ends_with",
  "contains",
  "regex",
  "ieq",
  "iin",
  "istarts_with",
  "iends_with",
  "icontains",
  "iregex",
]);

/** Patterns one of which a file path must match for a leaf condition to hold; undefined when it constrains none. */
function leafPatterns(
  c: Record<string, unknown>,
  lists: PackLists | undefined,
): PathPattern[] | undefined {
  const field = c.field;
  if (typeof field !== "string") return undefined;
  const ops = Object.keys(c).filter((k) => k !== "field");
  if (ops.length !== 1) return undefined;
  const op = ops[0]!;
  const ref = c[op];
  if (
    op === "eq" && FILE_FIELDS.has(field) && isPlain(ref) && Object.keys(ref).length === 1 &&
    ref.field === "process.executable"
  ) {
    return [{ prefix: "", suffix: "", exe: true }]; // the process deleting its own image
  }
  const name = field === "file.name" || field === "file.target_name";
  if (!name && !FILE_FIELDS.has(field)) return undefined;
  if (!STRING_OPS.has(op) || (name && (op === "glob" || op === "starts_with"))) return undefined;
  const raw = op === "eq" || op === "ieq" ? c[op] : expandLists(c[op], lists, [], () => {});
  const vals = typeof raw === "string" ? [raw] : raw;
  if (!Array.isArray(vals) || vals.length === 0 || !vals.every((v) => typeof v === "string")) {
    return undefined;
  }
  const fold = op.startsWith("i") && op !== "in";
  const base = fold ? op.slice(1) : op;
  if (fold && (vals as string[]).some((v) => /[\u0080-\uffff]/.test(v))) return undefined;
  const out: PathPattern[] = [];
  for (const v0 of vals as string[]) {
    const v = fold ? v0.toLowerCase() : v0;
    const f = fold ? { fold: true } : {};
    if (base === "regex") {
      const r = regexPatterns(v0, fold, name);
      if (r === undefined) return undefined;
      out.push(...r);
    } else if (base === "glob") out.push(globPattern(v));
    else if (base === "contains") out.push({ prefix: "", suffix: "", contains: v, ...f });
    else if (base === "starts_with") out.push({ prefix: v, suffix: "", ...f });
    else if (base === "ends_with" || name) out.push({ prefix: "", suffix: v, ...f });
    else out.push({ prefix: v, suffix: v, ...f }); // eq, in
  }
  return out.some((p) => p.prefix === "" && p.suffix === "" && !p.contains) ? undefined : out;
}

/** The mode bits a top-level condition needs one of (file.mode bits_any / bits_all), or 0. */
function modeBits(c: Record<string, unknown>): number {
  if (c.field !== "file.mode") return 0;
  const ops = Object.keys(c).filter((k) => k !== "field");
  if (ops.length !== 1) return 0;
  const v = c[ops[0]!];
  if ((ops[0] !== "bits_any" && ops[0] !== "bits_all") || typeof v !== "number") return 0;
  return Number.isInteger(v) && v > 0 && v <= 0o7777777 ? v : 0;
}

/**
 * The file paths a step with this `where` can match: the patterns of its first
 * top-level condition (or `any` of conditions) on file.path / file.target_path
 * / the base name, each limited to the file mode bits a top-level file.mode
 * condition needs; undefined when nothing constrains them (any path). The
 * sensor tests a rename's both ends, so a constraint on either field covers
 * the event.
 */
export function stepPaths(
  where: unknown[],
  lists: PackLists | undefined,
): PathPattern[] | undefined {
  let paths: PathPattern[] | undefined;
  let mode = 0;
  for (const c of where) {
    if (!isPlain(c)) continue;
    mode ||= modeBits(c);
    if (paths !== undefined) continue;
    const leaf = leafPatterns(c, lists);
    if (leaf) {
      paths = leaf;
      continue;
    }
    const any = c.any;
    if (Object.keys(c).length === 1 && Array.isArray(any) && any.length > 0) {
      const alts = any.map((x) => (isPlain(x) ? leafPatterns(x, lists) : undefined));
      if (alts.every((a) => a !== undefined)) paths = alts.flat();
    }
  }
  if (mode === 0) return paths;
  return (paths ?? [{ prefix: "", suffix: "" }]).map((p) => ({ ...p, modeAny: mode }));
}

/** How a step can match an event of one action: its file path (any of `paths`) and process name. */
interface Alt {
  /** undefined: any path. */
  paths?: PathPattern[];
  /** undefined: any process; never empty. */
  names?: ReadonlySet<string>;
}

/** Alternatives of one condition past which the analysis gives up (any event). */
const MAX_ALTS = 64;
const ANY: Alt[] = [{}];

/** The names `process.name` must be one of for a leaf to hold; undefined when it constrains none. */
function leafNames(
  c: Record<string, unknown>,
  lists: PackLists | undefined,
): Set<string> | undefined {
  if (c.field !== "process.name") return undefined;
  const ops = Object.keys(c).filter((k) => k !== "field");
  if (ops.length !== 1) return undefined;
  const op = ops[0]!;
  // a number in a list never equals a name: left out
  if (op === "eq") return typeof c.eq === "string" && c.eq !== "" ? new Set([c.eq]) : undefined;
  if (op !== "in") return undefined;
  const vals = expandLists(c.in, lists, [], () => {});
  if (!Array.isArray(vals) || vals.length === 0) return undefined;
  return new Set(vals.filter((v): v is string => typeof v === "string"));
}

/** Whether a leaf on event.action holds for `action`; undefined when it is no such leaf. */
function leafAction(c: Record<string, unknown>, action: EventAction): boolean | undefined {
  if (c.field !== "event.action") return undefined;
  const ops = Object.keys(c).filter((k) => k !== "field");
  if (ops.length !== 1) return undefined;
  const v = c[ops[0]!];
  if (ops[0] === "eq" && typeof v === "string") return v === action;
  if (ops[0] === "in" && Array.isArray(v)) return v.includes(action);
  return undefined;
}

function merge(a: Alt, b: Alt): Alt | undefined {
  const out: Alt = {};
  // the first path condition counts (both hold: either one alone is a safe bound)
  const paths = a.paths ?? b.paths;
  if (paths) out.paths = paths;
  if (a.names && b.names) {
    const both = new Set([...a.names].filter((n) => b.names!.has(n)));
    if (both.size === 0) return undefined; // no name is in both: it never holds
    out.names = both;
  } else {
    const names = a.names ?? b.names;
    if (names) out.names = names;
  }
  return out;
}

function constrained(a: Alt): boolean {
  return a.paths !== undefined || a.names !== undefined;
}

/** The ways a conjunction of conditions can hold for an event of `action`; [] = never. */
function conjAlts(conds: unknown[], lists: PackLists | undefined, action: EventAction): Alt[] {
  let cur: Alt[] = ANY;
  for (const c of conds) {
    const d = condAlts(c, lists, action);
    if (d.length === 0) return [];
    let next: (Alt | undefined)[];
    if (d.length === 1) next = cur.map((a) => merge(a, d[0]!));
    else if (cur.length === 1) next = d.map((b) => merge(cur[0]!, b));
    else continue; // both split: keeping one side only is a safe bound
    cur = next.filter((a): a is Alt => a !== undefined);
    if (cur.length === 0) return [];
  }
  return cur;
}

/** The ways one condition can hold for an event of `action`; [] = never, ANY = unconstrained. */
function condAlts(c: unknown, lists: PackLists | undefined, action: EventAction): Alt[] {
  if (!isPlain(c)) return ANY;
  const act = leafAction(c, action);
  if (act !== undefined) return act ? ANY : [];
  const paths = leafPatterns(c, lists);
  if (paths) return [{ paths }];
  const names = leafNames(c, lists);
  if (names) return names.size > 0 ? [{ names }] : [];
  if (Object.keys(c).length !== 1) return ANY;
  if (Array.isArray(c.all) && c.all.length > 0) return conjAlts(c.all, lists, action);
  if (Array.isArray(c.any) && c.any.length > 0) {
    const out: Alt[] = [];
    for (const b of c.any) {
      const alts = condAlts(b, lists, action);
      if (alts.some((a) => !constrained(a))) return ANY;
      out.push(...alts);
    }
    return out.length > MAX_ALTS ? ANY : out;
  }
  return ANY; // not, child_of, descendant_of: no bound
}

/**
 * The events of `action` a step with this `where` can match: patterns on the
 * file path (as stepPaths) limited to process names (a top-level
 * `process.name` eq / in, or an `any` whose every branch has one, a path
 * constraint, or an `event.action` that rules this action out) and file mode
 * bits; undefined when nothing constrains them, [] when the step never
 * matches this action.
 */
export function stepInterest(
  where: unknown[],
  lists: PackLists | undefined,
  action: EventAction,
): PathPattern[] | undefined {
  const alts = conjAlts(where, lists, action);
  let mode = 0;
  for (const c of where) if (isPlain(c)) mode ||= modeBits(c);
  const out: PathPattern[] = [];
  for (const a of alts) {
    if (!constrained(a) && mode === 0) return undefined;
    for (const p of a.paths ?? [{ prefix: "", suffix: "" }]) {
      const q: PathPattern = { ...p };
      if (a.names) q.names = [...a.names].sort();
      if (mode) q.modeAny = mode;
      out.push(q);
    }
  }
  return out;
}

/** Per action of a step, stepInterest; undefined when no action has a bound. */
export function stepInterests(
  where: unknown[],
  lists: PackLists | undefined,
  actions: readonly EventAction[],
): ReadonlyMap<EventAction, readonly PathPattern[] | undefined> {
  return new Map(actions.map((a) => [a, stepInterest(where, lists, a)]));
}

/** The parts of a step as written that holdsUntilExec reads. */
interface StepSpec {
  action: string | readonly string[];
  where?: readonly unknown[] | undefined;
  count?: number | undefined;
  of?: number | undefined;
}

function only(a: string | readonly string[], x: string): boolean {
  return typeof a === "string" ? a === x : a.length > 0 && a.every((y) => y === x);
}

/**
 * Whether a rule's first step (of an ordered rule) needs its written file
 * only if that very path is executed next: it takes close_modified events
 * once (no count), and the next step takes execs of its own step-1 file
 * path (a top-level `process.executable eq { step = 1, field = "file.path" }`).
 * The sensor may then hold such a write until an exec of its path (and
 * forget it when the file is deleted first): the step's event reaches the
 * engine just before the exec that can complete the rule, with its own time
 * and process, so the rule fires on the same events.
 */
export function holdsUntilExec(first: StepSpec, next: StepSpec): boolean {
  if (!only(first.action, "close_modified") || first.count !== undefined) return false;
  if (!only(next.action, "exec") || (next.of !== undefined && next.of !== 1)) return false;
  return (next.where ?? []).some((c) => {
    if (!isPlain(c) || c.field !== "process.executable" || Object.keys(c).length !== 2) {
      return false;
    }
    const eq = c.eq;
    return isPlain(eq) && eq.step === 1 && eq.field === "file.path" && Object.keys(eq).length === 2;
  });
}

/**
 * The process names a rule's `exclude` rules out for every step: a top-level
 * `process.name` eq / in, or one branch of a top-level `any` (any one exclude
 * condition that holds keeps the event from every step); undefined when none.
 */
export function excludedNames(
  exclude: readonly unknown[],
  lists: PackLists | undefined,
): string[] | undefined {
  const out = new Set<string>();
  for (const c of exclude) {
    if (!isPlain(c)) continue;
    const branches = Object.keys(c).length === 1 && Array.isArray(c.any) ? c.any : [c];
    for (const b of branches) {
      if (!isPlain(b)) continue;
      for (const n of leafNames(b, lists) ?? []) out.add(n);
    }
  }
  return out.size > 0 ? [...out].sort() : undefined;
}

export interface InterestOptions {
  platform: Platform;
  /**
   * RTP is on (forwardRtpToBm): the scanner hashes every written file and the
   * built-in RTP rule turns a match into an rtp_verdict.
   */
  rtp: boolean;
  /**
   * The sizes of the files on the RTP blocklist when every line gives one
   * (rtp_blocklist.ts blocklistSizes): the scanner hashes only files of such
   * a size, so only those written files need to pass.
   */
  rtpSizes?: ReadonlySet<number> | undefined;
  /** Every event is exported (logging.eventExport): no filter at all. */
  exportEvents: boolean;
}

/**
 * The interest filter of a rule set and the agent's other consumers, or
 * undefined when everything must pass (event export).
 */
export function compileInterest(
  rules: readonly CompiledRule[],
  o: InterestOptions,
): InterestFilter | undefined {
  if (o.exportEvents) return undefined;
  const m = new Map<EventAction, "all" | PathPattern[]>();
  const add = (a: EventAction, p: "all" | readonly PathPattern[] | undefined) => {
    const cur = m.get(a);
    if (cur === "all") return;
    if (p === undefined || p === "all") m.set(a, "all");
    else m.set(a, [...(cur ?? []), ...p]);
  };
  // The process table: images, lineage, exits.
  for (const a of ["exec", "fork", "exit"] as const) add(a, "all");
  // rtp_verdict events are made from execs and written files: with a sized
  // blocklist, only from files of a listed size (the scanner hashes no other).
  const rtpFiles: "all" | PathPattern[] = o.rtpSizes !== undefined && o.rtpSizes.size > 0
    ? [{ prefix: "", suffix: "", sizes: [...o.rtpSizes].sort((x, y) => x - y) }]
    : "all";
  if (o.rtp) add("close_modified", rtpFiles);
  for (const r of rules) {
    if (!r.platforms.includes(o.platform)) continue;
    for (const s of r.steps) {
      for (const a of s.actions) {
        if (a === "rtp_verdict") add("close_modified", rtpFiles);
        else {
          let ps = s.interest !== undefined ? s.interest.get(a) : s.paths;
          // held until an exec of the file: as long as the rule may still pair them
          const hold = s.holdUntilExec ? r.maxspanMs : 0;
          if (hold > 0 && hold <= 86_400_000) {
            ps = (ps ?? [{ prefix: "", suffix: "" }]).map((p) => ({ ...p, hold }));
          }
          // processes the rule's exclude rules out never match any of its steps
          const not = r.excludeNames;
          if (not !== undefined && a !== "exec" && a !== "fork" && a !== "exit") {
            ps = (ps ?? [{ prefix: "", suffix: "" }]).map((p) =>
              p.names !== undefined ? p : { ...p, notNames: not }
            );
          }
          add(a, ps);
        }
      }
    }
  }
  // One pattern once, for a shorter spec and fewer compares.
  for (const [a, v] of m) {
    if (v === "all") continue;
    const seen = new Set<string>();
    m.set(
      a,
      v.filter((p) => {
        const k = JSON.stringify([
          p.prefix,
          p.suffix,
          p.contains ?? "",
          p.fold ?? false,
          p.modeAny ?? 0,
          p.exe ?? false,
          p.names ?? null,
          p.notNames ?? null,
          p.sizes ?? null,
          p.hold ?? 0,
        ]);
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      }),
    );
  }
  return m;
}
