/**
 * What the loaded rules can use, for the sensor's interest filter
 * (src/sensor/interest.ts): per step, the file paths it can match
 * (`stepPaths`, at load), and over a rule set and the agent's other
 * consumers, the filter (`compileInterest`).
 *
 * Conservative by construction: a step whose `where` gives no literal path
 * constraint takes every path of its kinds, and every kind the process table
 * needs (exec, fork, exit) passes whole. Dropping an event this filter rules
 * out never changes a verdict: every event a step can match has a path one
 * of its patterns accepts (interest_test.ts replays every rule trace with and
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

/**
 * The literal text every match of a case-sensitive regex starts with: after
 * a leading `^`, up to the first metacharacter (less a character a
 * quantifier follows); "" when there is none or when `|` splits the whole
 * pattern.
 */
export function regexPrefix(re: string): string {
  if (!re.startsWith("^")) return "";
  let depth = 0, inClass = false;
  for (let i = 1; i < re.length; i++) {
    const c = re[i]!;
    if (c === "\\") i++;
    else if (inClass) inClass = c !== "]";
    else if (c === "[") inClass = true;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "|" && depth === 0) return "";
  }
  let out = "";
  for (let i = 1; i < re.length; i++) {
    let c = re[i]!;
    if (c === "\\") {
      const n = re[i + 1];
      if (n === undefined || /[0-9A-Za-z]/.test(n)) break;
      c = n;
      i++;
    } else if (".[](){}*+?|^$".includes(c)) {
      if ("?*{".includes(c)) out = out.slice(0, -1);
      break;
    }
    out += c;
    const q = re[i + 1];
    if (q !== undefined && "?*{".includes(q)) return out.slice(0, -1);
  }
  return out;
}

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
  if (field === "file.name" || field === "file.target_name") {
    // the base name ends the path (or is the whole of a relative one)
    if (!["eq", "in", "ends_with"].includes(op)) return undefined;
    const raw = op === "eq" ? c[op] : expandLists(c[op], lists, [], () => {});
    const vals = typeof raw === "string" ? [raw] : raw;
    if (!Array.isArray(vals) || vals.length === 0 || !vals.every((v) => typeof v === "string")) {
      return undefined;
    }
    return (vals as string[]).map((v) => ({ prefix: "", suffix: v }));
  }
  if (!FILE_FIELDS.has(field)) return undefined;
  if (op === "regex") {
    const raw = expandLists(c[op], lists, [], () => {});
    const vals = typeof raw === "string" ? [raw] : raw;
    if (!Array.isArray(vals) || vals.length === 0 || !vals.every((v) => typeof v === "string")) {
      return undefined;
    }
    const pats = (vals as string[]).map((v) => ({ prefix: regexPrefix(v), suffix: "" }));
    return pats.some((p) => p.prefix === "") ? undefined : pats;
  }
  if (!["glob", "eq", "in", "starts_with", "ends_with"].includes(op)) return undefined;
  const raw = op === "eq" ? c[op] : expandLists(c[op], lists, [], () => {});
  const vals = typeof raw === "string" ? [raw] : raw;
  if (!Array.isArray(vals) || vals.length === 0 || !vals.every((v) => typeof v === "string")) {
    return undefined;
  }
  return (vals as string[]).map((v): PathPattern =>
    op === "glob"
      ? globPattern(v)
      : op === "starts_with"
      ? { prefix: v, suffix: "" }
      : op === "ends_with"
      ? { prefix: "", suffix: v }
      : { prefix: v, suffix: v }
  );
}

/**
 * The file paths a step with this `where` can match: the patterns of its first
 * top-level condition (or `any` of conditions) on file.path / file.target_path
 * with a literal glob, eq, in, starts_with or ends_with; undefined when none
 * constrains them (any path). The sensor tests a rename's both ends, so a
 * constraint on either field covers the event.
 */
export function stepPaths(
  where: unknown[],
  lists: PackLists | undefined,
): PathPattern[] | undefined {
  for (const c of where) {
    if (!isPlain(c)) continue;
    const leaf = leafPatterns(c, lists);
    if (leaf) return leaf;
    const any = c.any;
    if (Object.keys(c).length === 1 && Array.isArray(any) && any.length > 0) {
      const alts = any.map((x) => (isPlain(x) ? leafPatterns(x, lists) : undefined));
      if (alts.every((a) => a !== undefined)) return alts.flat();
    }
  }
  return undefined;
}

export interface InterestOptions {
  platform: Platform;
  /**
   * RTP is on (forwardRtpToBm): the scanner hashes every written file and the
   * built-in RTP rule turns a match into an rtp_verdict.
   */
  rtp: boolean;
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
  // rtp_verdict events are made from execs and written files.
  if (o.rtp) add("close_modified", "all");
  for (const r of rules) {
    if (!r.platforms.includes(o.platform)) continue;
    for (const s of r.steps) {
      for (const a of s.actions) {
        if (a === "rtp_verdict") add("close_modified", "all");
        else add(a, s.paths);
      }
    }
  }
  // One pattern once, shortest prefix first, for a readable spec and fewer compares.
  for (const [a, v] of m) {
    if (v === "all") continue;
    const seen = new Set<string>();
    m.set(
      a,
      v.filter((p) => {
        const k = `${p.prefix}\0${p.suffix}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      }),
    );
  }
  return m;
}
