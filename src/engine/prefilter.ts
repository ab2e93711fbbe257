/**
 * A cheap necessary condition derived from a step's `where` at load: when a
 * top-level condition (or an `any` of such conditions) only holds for paths
 * with known literal prefixes (a glob up to its first wildcard, `eq`, `in`,
 * `starts_with`), the step is first checked with `startsWith` on those
 * prefixes, and its compiled conditions (glob regexes included) run only for
 * paths that pass. Most file events touch none of the folders file rules
 * watch, so this keeps a pack of many file rules cheap per event. It never
 * changes what matches: every path the condition accepts has one of the
 * prefixes.
 */
import type { MatchCtx } from "./fields.ts";
import { expandLists, type PackLists } from "./conditions.ts";
import { anchoredPrefix } from "./linear_regex.ts";

type Pre = (c: MatchCtx) => boolean;

const PATH_FIELDS = ["file.path", "file.target_path", "process.executable"] as const;
type PathField = typeof PATH_FIELDS[number];

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Literal prefix of a glob: up to its first wildcard or class. */
function globPrefix(g: string): string {
  const i = g.search(/[*?[\\{]/);
  return i < 0 ? g : g.slice(0, i);
}

/** Operators whose literal operand gives every matching path a prefix; `i` ones ignoring case. */
const PREFIX_OPS: ReadonlySet<string> = new Set([
  "glob",
  "eq",
  "in",
  "starts_with",
  "regex",
  "iglob",
  "ieq",
  "iin",
  "istarts_with",
]);

/**
 * Prefixes per field that a leaf condition needs, or undefined when it
 * constrains no path. `ci`: the prefixes hold of the lower-cased path only.
 */
function leafPrefixes(
  c: Record<string, unknown>,
  lists: PackLists | undefined,
): { field: PathField; prefixes: string[]; ci: boolean } | undefined {
  const field = c.field;
  if (typeof field !== "string" || !(PATH_FIELDS as readonly string[]).includes(field)) {
    return undefined;
  }
  const ops = Object.keys(c).filter((k) => k !== "field");
  if (ops.length !== 1) return undefined;
  const op = ops[0]!;
  if (!PREFIX_OPS.has(op)) return undefined;
  const raw = op === "eq" || op === "ieq" ? c[op] : expandLists(c[op], lists, [], () => {});
  const vals = typeof raw === "string" ? [raw] : raw;
  if (!Array.isArray(vals) || vals.length === 0 || !vals.every((v) => typeof v === "string")) {
    return undefined;
  }
  const ci = op.startsWith("i");
  const prefixes = (vals as string[]).map((v) =>
    op === "glob" || op === "iglob" ? globPrefix(v) : op === "regex" ? anchoredPrefix(v) : v
  ).map((p) => (ci ? p.toLowerCase() : p));
  if (prefixes.some((p) => p.length === 0)) return undefined;
  return { field: field as PathField, prefixes, ci };
}

/** A test that holds when some alternative's field starts with one of its prefixes. */
function build(alts: { field: PathField; prefixes: string[] }[]): Pre {
  const by = new Map<PathField, string[]>();
  for (const a of alts) by.set(a.field, [...(by.get(a.field) ?? []), ...a.prefixes]);
  const tests: Pre[] = [];
  for (const [field, ps] of by) {
    // Keep the shortest of prefixes that share a start: "/etc/" covers "/etc/cron.d/".
    const sorted = [...new Set(ps)].sort();
    const kept: string[] = [];
    for (const p of sorted) if (!kept.some((k) => p.startsWith(k))) kept.push(p);
    const get = field === "process.executable"
      ? (c: MatchCtx) => c.proc.executable
      : field === "file.path"
      ? (c: MatchCtx) => (c.ev as { file?: { path?: string } }).file?.path
      : (c: MatchCtx) => (c.ev as { file?: { target_path?: string } }).file?.target_path;
    tests.push((c) => {
      const v = get(c);
      if (typeof v !== "string") return false;
      for (const k of kept) if (v.startsWith(k)) return true;
      return false;
    });
  }
  return tests.length === 1 ? tests[0]! : (c) => tests.some((t) => t(c));
}

/** The prefilter of a step's `where`, or undefined when no condition gives one. */
export function pathPrefilter(where: unknown[], lists: PackLists | undefined): Pre | undefined {
  // `startsWith` on the path as it is: conditions that ignore case give no prefilter.
  const cased = (c: unknown) => {
    const l = isPlain(c) ? leafPrefixes(c, lists) : undefined;
    return l?.ci === false ? l : undefined;
  };
  for (const c of where) {
    if (!isPlain(c)) continue;
    const leaf = cased(c);
    if (leaf) return build([leaf]);
    const any = c.any;
    if (Object.keys(c).length === 1 && Array.isArray(any) && any.length > 0) {
      const alts = any.map(cased);
      if (alts.every((a) => a !== undefined)) {
        return build(alts as { field: PathField; prefixes: string[] }[]);
      }
    }
  }
  return undefined;
}

/**
 * The first path segments ("etc" for "/etc/cron.d/x") that an event's
 * `file.path` or `file.target_path` must start with for the step to match,
 * when its prefilter is on file paths only and every prefix holds a whole
 * first segment; undefined otherwise. The engine visits such a step only for
 * file events in those top-level folders (event_index.ts), which it looks up
 * ignoring case, so conditions that ignore case give segments too.
 */
export function pathSegments(where: unknown[], lists: PackLists | undefined): string[] | undefined {
  const seg = (p: string): string | undefined => {
    if (!p.startsWith("/")) return undefined;
    const i = p.indexOf("/", 1);
    return i < 0 ? undefined : p.slice(1, i);
  };
  const fromAlts = (alts: { field: PathField; prefixes: string[] }[]): string[] | undefined => {
    const out = new Set<string>();
    for (const a of alts) {
      if (a.field === "process.executable") return undefined;
      for (const p of a.prefixes) {
        // "/etc/passwd" (eq) names its segment whole; a prefix must reach past it.
        const s = seg(p);
        if (s === undefined || s.length === 0) return undefined;
        out.add(s);
      }
    }
    return [...out];
  };
  for (const c of where) {
    if (!isPlain(c)) continue;
    const leaf = leafPrefixes(c, lists);
    if (leaf) return fromAlts([leaf]);
    const any = c.any;
    if (Object.keys(c).length === 1 && Array.isArray(any) && any.length > 0) {
      const alts = any.map((x) => (isPlain(x) ? leafPrefixes(x, lists) : undefined));
      if (alts.every((a) => a !== undefined)) {
        return fromAlts(alts as { field: PathField; prefixes: string[] }[]);
      }
    }
  }
  return undefined;
}

/** The first segment of an absolute path ("" for a path directly under /, undefined when relative). */
export function firstSegment(path: string): string | undefined {
  if (path.charCodeAt(0) !== 47) return undefined;
  const i = path.indexOf("/", 1);
  return i < 0 ? "" : path.slice(1, i);
}
