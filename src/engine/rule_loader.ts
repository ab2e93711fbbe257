/**
 * Loads rule packs: read -> validate (zod) -> compile to predicates. Every
 * problem is collected with its file, line and rule id; a caller must treat
 * `problems.length > 0` as "this pack is not good" and keep its last good
 * RuleSet (invariant 4). Files another user could change are refused
 * (invariant 7, trusted_file.ts) unless `requireRootOwned` is false (tests,
 * offline tools); each file is checked and read through one descriptor, and
 * the bytes read are returned so the pack's version names what was compiled.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readTrustedFileSync, UntrustedFileError } from "../trusted_file.ts";
import {
  compileCondition,
  type CompileScope,
  LIST_REF,
  type Loc,
  noteNeed,
  type PackLists,
  type Pred,
} from "./conditions.ts";
import { parseTomlSource, type TomlSource } from "./toml_source.ts";
import { pathPrefilter, pathSegments } from "./prefilter.ts";
import { excludedNames, holdsUntilExec, stepInterests, stepPaths } from "./interest.ts";
import { imageGate, stepCmdLiterals, stepImageOrCmd, stepKeys } from "./step_keys.ts";
import { allOf } from "./conditions.ts";
import { compileAccessor } from "./fields.ts";
import {
  fileSchema,
  FORMAT_VERSION,
  parseDuration,
  ruleSchema,
  type RuleSpec,
} from "./rule_schema.ts";
import type {
  CompiledAction,
  CompiledRule,
  CompiledStep,
  Relation,
  RuleSet,
  StepOrder,
} from "./rule_set.ts";

export interface RuleProblem {
  file: string;
  line: number;
  ruleId?: string;
  message: string;
}

export interface LoadOptions {
  /** Refuse files another user could change (trusted_file.ts). Default true. */
  requireRootOwned?: boolean;
  /** Check that each rule's test traces exist. Default true. */
  checkTests?: boolean;
  /**
   * Compile the straightforward way: no path prefilters and no index keys, so
   * the engine evaluates every rule of an event's kind in full. For the
   * differential test of the optimized path (tests/policies/index_differential_test.ts).
   */
  reference?: boolean;
}

/** One line: `file:line: rule-id: message` (rule id left out when unknown). */
export function formatProblem(p: RuleProblem): string {
  return p.ruleId !== undefined
    ? `${p.file}:${p.line}: ${p.ruleId}: ${p.message}`
    : `${p.file}:${p.line}: ${p.message}`;
}

/**
 * The pack shipped with bm: the repo's policies/ when running from source,
 * else (a compiled release) /usr/share/bm/policies.
 */
export function defaultRulesDir(): string {
  const url = new URL("../../policies/", import.meta.url);
  // A `deno compile` binary is a release: its rules live in /usr/share/bm/policies.
  const standalone = (Deno.build as { standalone?: boolean }).standalone === true;
  if (url.protocol === "file:" && !standalone) {
    const dir = fileURLToPath(url);
    try {
      if (Deno.statSync(join(dir, "FORMAT.md")).isFile) return dir.replace(/\/$/, "");
    } catch {
      // not a source checkout
    }
  }
  return "/usr/share/bm/policies";
}

const DEFAULT_MAXSPAN_MS = 5 * 60_000;

async function collectFiles(
  path: string,
  opts: Required<LoadOptions>,
  problems: RuleProblem[],
  seen = new Set<string>(),
): Promise<string[]> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    problems.push({ file: path, line: 0, message: `Cannot read "${path}": ${errText(e)}` });
    return [];
  }
  if (seen.size === 0 && !info.isFile && !info.isDirectory) {
    problems.push({
      file: path,
      line: 0,
      message: `Cannot load rules from "${path}": not a regular file or directory`,
    });
    return [];
  }
  // A folder reached twice (a symlink loop, /dev/fd) is read once.
  const key = `${info.dev}:${info.ino}`;
  if (info.isDirectory && seen.has(key)) return [];
  seen.add(key);
  if (info.isFile) return [path];
  if (!info.isDirectory) return [];
  const names: string[] = [];
  try {
    for await (const ent of Deno.readDir(path)) names.push(ent.name);
  } catch (e) {
    problems.push({ file: path, line: 0, message: `Cannot read "${path}": ${errText(e)}` });
    return [];
  }
  names.sort();
  const out: string[] = [];
  for (const n of names) {
    if (n.startsWith(".")) continue;
    const p = join(path, n);
    let st: Deno.FileInfo;
    try {
      st = await Deno.stat(p);
    } catch {
      continue;
    }
    if (st.isDirectory) out.push(...await collectFiles(p, opts, problems, seen));
    else if (st.isFile && n.endsWith(".toml")) {
      out.push(...await collectFiles(p, opts, problems, seen));
    }
  }
  return out;
}

function errText(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file or directory";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  return e instanceof Error ? e.message : String(e);
}

function locOfIssue(path: PropertyKey[]): Loc {
  return path.filter((x): x is string | number => typeof x === "string" || typeof x === "number");
}

/** Loads every `.toml` under the given files or folders. */
/** One rule file as read: the bytes that were parsed and compiled. */
export interface RuleSource {
  file: string;
  bytes: Uint8Array;
}

export async function loadRules(
  paths: string[] | string,
  options: LoadOptions = {},
): Promise<{ rules: RuleSet; problems: RuleProblem[]; sources: RuleSource[] }> {
  const opts: Required<LoadOptions> = {
    requireRootOwned: options.requireRootOwned ?? true,
    checkTests: options.checkTests ?? true,
    reference: options.reference ?? false,
  };
  const problems: RuleProblem[] = [];
  const files: string[] = [];
  for (const p of Array.isArray(paths) ? paths : [paths]) {
    files.push(...await collectFiles(p, opts, problems));
  }
  const parsed: ParsedFile[] = [];
  const sources: RuleSource[] = [];
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = readTrustedFileSync(file, { check: opts.requireRootOwned });
    } catch (e) {
      const message = e instanceof UntrustedFileError
        ? e.message
        : `Cannot read "${file}": ${errText(e)}`;
      problems.push({ file, line: 0, message });
      continue;
    }
    sources.push({ file, bytes });
    const text = new TextDecoder().decode(bytes);
    const pf = parseFile(file, text, problems);
    if (pf) parsed.push(pf);
  }
  const lists = packLists(parsed, problems);
  const rules: CompiledRule[] = [];
  const seen = new Map<string, { file: string; line: number }>();
  for (const pf of parsed) rules.push(...compileParsed(pf, lists, problems, opts, seen));
  return { rules: { rules }, problems, sources };
}

/** One rule file, parsed and shape-checked, before its rules are compiled. */
export interface ParsedFile {
  file: string;
  source: TomlSource;
  rules: unknown[];
  lists: Record<string, (string | number)[]>;
}

/** Parses one rule file and checks its top-level shape; problems are appended. */
export function parseFile(
  file: string,
  text: string,
  problems: RuleProblem[],
): ParsedFile | undefined {
  const r = parseTomlSource(text);
  if (!r.ok) {
    const msg = r.message.split("\n")[0]!;
    problems.push({ file, line: r.line, message: `Invalid TOML: ${msg}` });
    return undefined;
  }
  const { source } = r;
  const top = fileSchema.safeParse(source.value);
  if (!top.success) {
    for (const issue of top.error.issues) {
      const loc = locOfIssue(issue.path);
      if (issue.code === "unrecognized_keys") {
        for (const k of issue.keys) {
          problems.push({
            file,
            line: source.lineOf([...loc, k]),
            message: loc.length === 0
              ? `Unknown top-level key "${k}"`
              : `Unknown key "${[...loc, k].join(".")}"`,
          });
        }
      } else {
        problems.push({
          file,
          line: source.lineOf(loc),
          message: `${loc.length ? `"${loc.join(".")}": ` : ""}${issue.message}`,
        });
      }
    }
    return undefined;
  }
  if ((top.data.format_version ?? FORMAT_VERSION) > FORMAT_VERSION) {
    problems.push({
      file,
      line: source.lineOf(["format_version"]),
      message:
        `Unsupported format_version ${top.data.format_version}: this bm reads rule format ${FORMAT_VERSION}`,
    });
    return undefined;
  }
  return { file, source, rules: top.data.rule ?? [], lists: top.data.lists ?? {} };
}

/**
 * The pack's `[lists]`, from every file: a name is defined once in the pack;
 * a list may include another (`"@other"`), resolved here once.
 */
export function packLists(files: ParsedFile[], problems: RuleProblem[]): PackLists {
  const raw = new Map<string, { pf: ParsedFile; values: (string | number)[] }>();
  for (const pf of files) {
    for (const [name, values] of Object.entries(pf.lists)) {
      const prev = raw.get(name);
      if (prev) {
        problems.push({
          file: pf.file,
          line: pf.source.lineOf(["lists", name]),
          message: `Duplicate list "${name}": first defined at ${prev.pf.file}:${
            prev.pf.source.lineOf(["lists", name])
          }`,
        });
      } else raw.set(name, { pf, values });
    }
  }
  const done = new Map<string, (string | number)[]>();
  const resolving = new Set<string>();
  const failed = new Set<string>();
  const resolve = (name: string): (string | number)[] | undefined => {
    const got = done.get(name);
    if (got) return got;
    if (failed.has(name)) return undefined;
    const def = raw.get(name)!;
    resolving.add(name);
    const out: (string | number)[] = [];
    let ok = true;
    def.values.forEach((v, i) => {
      const line = def.pf.source.lineOf(["lists", name, i]);
      if (typeof v === "string" && LIST_REF.test(v) && !v.startsWith("@@")) {
        const other = v.slice(1);
        if (!raw.has(other)) {
          problems.push({
            file: def.pf.file,
            line,
            message: `Unknown list "${v}" in list "${name}"`,
          });
          ok = false;
        } else if (resolving.has(other)) {
          problems.push({
            file: def.pf.file,
            line,
            message: `List "${name}" includes itself through "${v}"`,
          });
          ok = false;
        } else {
          const r = resolve(other);
          if (r) out.push(...r);
          else ok = false;
        }
      } else out.push(typeof v === "string" && LIST_REF.test(v) ? v.slice(1) : v);
    });
    resolving.delete(name);
    if (!ok) {
      failed.add(name);
      return undefined;
    }
    done.set(name, out);
    return out;
  };
  for (const name of raw.keys()) resolve(name);
  return done;
}

/** Parses and compiles one rule file's text (its own lists only); problems are appended. */
export function compileFile(
  file: string,
  text: string,
  problems: RuleProblem[],
  options: LoadOptions = {},
  seen: Map<string, { file: string; line: number }> = new Map(),
): CompiledRule[] {
  const pf = parseFile(file, text, problems);
  if (!pf) return [];
  return compileParsed(pf, packLists([pf], problems), problems, options, seen);
}

function compileParsed(
  pf: ParsedFile,
  lists: PackLists,
  problems: RuleProblem[],
  options: LoadOptions,
  seen: Map<string, { file: string; line: number }>,
): CompiledRule[] {
  const { file, source } = pf;
  const out: CompiledRule[] = [];
  pf.rules.forEach((raw, i) => {
    const rawId = (raw as { id?: unknown } | null)?.id;
    const ruleId = typeof rawId === "string" ? rawId : undefined;
    const lineOf = (loc: Loc) => source.lineOf(["rule", i, ...loc]);
    const push = (loc: Loc, message: string) => {
      const p: RuleProblem = { file, line: lineOf(loc), message };
      if (ruleId !== undefined) p.ruleId = ruleId;
      problems.push(p);
    };
    const parsed = ruleSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const loc = locOfIssue(issue.path);
        if (issue.code === "unrecognized_keys") {
          for (const k of issue.keys) push([...loc, k], `Unknown field "${[...loc, k].join(".")}"`);
        } else {
          push(loc, `${loc.length ? `"${loc.join(".")}": ` : ""}${issue.message}`);
        }
      }
      checkRawConditions(raw, lists, push);
      return;
    }
    const before = problems.length;
    const prev = seen.get(parsed.data.id);
    if (prev) {
      push(
        ["id"],
        `Duplicate rule id "${parsed.data.id}": first defined at ${prev.file}:${prev.line}`,
      );
    } else seen.set(parsed.data.id, { file, line: lineOf(["id"]) });
    const rule = compileRule(parsed.data, file, lineOf([]), lists, push, options);
    if (rule && problems.length === before) out.push(rule);
  });
  return out;
}

/** When the rule's shape is wrong, its conditions are still checked so every problem shows at once. */
function checkRawConditions(
  raw: unknown,
  lists: PackLists,
  report: (loc: Loc, message: string) => void,
): void {
  const steps = (raw as { steps?: unknown } | null)?.steps;
  if (!Array.isArray(steps)) return;
  const captures = { fields: steps.map(() => [] as string[]) };
  steps.forEach((st, i) => {
    const where = (st as { where?: unknown } | null)?.where;
    if (!Array.isArray(where)) return;
    const scope: CompileScope = {
      stepIndex: i,
      captures,
      lists,
      report: (loc, m) => report(["steps", i, ...loc], m),
    };
    where.forEach((c, j) => compileCondition(c, ["where", j], scope));
  });
}

function compileRule(
  spec: RuleSpec,
  file: string,
  line: number,
  lists: PackLists,
  report: (loc: Loc, message: string) => void,
  options: LoadOptions,
): CompiledRule | undefined {
  const osOfName = spec.name.startsWith("Behavior:Linux/") ? "linux" : "macos";
  if (!spec.platforms.includes(osOfName)) {
    report(["name"], `Name "${spec.name}" names a platform the rule does not list in platforms`);
  }
  const maxspanMs = spec.maxspan !== undefined ? parseDuration(spec.maxspan)! : DEFAULT_MAXSPAN_MS;
  const captures = { fields: spec.steps.map(() => [] as string[]) };
  const needs = spec.steps.map(() => 0);
  const steps: (Omit<CompiledStep, "captures" | "needs"> | undefined)[] = spec.steps.map((s, i) => {
    const scope: CompileScope = {
      stepIndex: i,
      captures,
      needs,
      lists,
      report: (loc, m) => report(["steps", i, ...loc], m),
    };
    const preds = (s.where ?? []).map((c, j) => compileCondition(c, ["where", j], scope));
    let ok = preds.every((p) => p !== undefined);
    if (i === 0 && (s.relation !== undefined || s.of !== undefined)) {
      report(
        ["steps", 0, s.relation !== undefined ? "relation" : "of"],
        "The first step has no relation",
      );
      ok = false;
    }
    if (s.of !== undefined && s.of > i) {
      report(["steps", i, "of"], `"of" must name an earlier step (1..${i})`);
      ok = false;
    }
    let distinct;
    if (s.distinct !== undefined) {
      distinct = compileAccessor(s.distinct);
      if (!distinct) {
        report(["steps", i, "distinct"], `Unknown field path "${s.distinct}"`);
        ok = false;
      }
      if (s.count === undefined) {
        report(["steps", i, "distinct"], `"distinct" needs "count"`);
        ok = false;
      }
      noteNeed(scope, i, s.distinct);
    }
    if (s.group !== undefined && s.count === undefined) {
      report(["steps", i, "group"], `"group" needs "count"`);
      ok = false;
    }
    if (!ok) return undefined;
    const plain = options.reference === true;
    const actions = Array.isArray(s.action) ? [...new Set(s.action)] : [s.action];
    return {
      actions,
      paths: stepPaths(s.where ?? [], lists),
      interest: stepInterests(s.where ?? [], lists, actions),
      pred: plain
        ? allOf(preds as Pred[])
        : withPrefilter(allOf(preds as Pred[]), pathPrefilter(s.where ?? [], lists)),
      segments: plain ? undefined : pathSegments(s.where ?? [], lists),
      keys: plain ? undefined : stepKeys(s.where ?? [], lists),
      gate: plain ? undefined : stepGate(s.where ?? [], lists),
      cmdLiterals: plain ? undefined : stepCmdLiterals(s.where ?? [], lists),
      imageOrCmd: plain ? undefined : imageOrCmd(s.where ?? [], lists),
      relations: s.relation === undefined
        ? ["same"]
        : Array.isArray(s.relation)
        ? [...new Set(s.relation)]
        : [s.relation],
      of: s.of !== undefined ? s.of - 1 : Math.max(0, i - 1),
      count: s.count ?? 1,
      distinct,
      group: s.group ?? "entity",
    };
  });
  const exclNeeds = [0];
  const exclScope: CompileScope = {
    stepIndex: 0,
    captures,
    report,
    needs: exclNeeds,
    lists,
  };
  const excl = spec.exclude.map((c, j) => compileCondition(c, ["exclude", j], exclScope));
  const actions: CompiledAction[] = [];
  spec.actions.forEach((a, j) => {
    const step = a.step ?? spec.steps.length;
    if (step > spec.steps.length) {
      report(["actions", j, "step"], `Action step ${step} but the rule has ${spec.steps.length}`);
      return;
    }
    if (a.type === "report" || a.type === "block") {
      if (a.step !== undefined || a.tree !== undefined) {
        report(["actions", j], `"${a.type}" takes no step or tree`);
        return;
      }
      actions.push({ type: a.type });
    } else if (a.type === "kill") {
      actions.push({ type: "kill", step: step - 1, tree: a.tree ?? false });
    } else {
      if (a.tree !== undefined) report(["actions", j, "tree"], `"quarantine" takes no tree`);
      actions.push({ type: "quarantine", step: step - 1 });
    }
  });
  const dir = dirname(resolve(file));
  const tests = {
    positive: spec.tests.positive.map((t) => resolve(dir, t)),
    negative: spec.tests.negative.map((t) => resolve(dir, t)),
  };
  if (options.checkTests ?? true) {
    for (
      const [kind, list] of [["positive", tests.positive], ["negative", tests.negative]] as const
    ) {
      list.forEach((t, j) => {
        try {
          if (!Deno.statSync(t).isFile) throw new Error();
        } catch {
          report(["tests", kind, j], `Test trace "${spec.tests[kind][j]}" not found`);
        }
      });
    }
  }
  const unorderedOk = spec.ordered || checkUnordered(spec, captures.fields, report);
  if (steps.some((s) => s === undefined) || excl.some((e) => e === undefined)) return undefined;
  if (!unorderedOk) return undefined;
  const exPreds = excl as Pred[];
  const compiled = (steps as Omit<CompiledStep, "captures" | "needs">[]).map((s, i) => ({
    ...s,
    captures: captures.fields[i]!.map((f) => compileAccessor(f)!),
    needs: needs[i]! | exclNeeds[0]!,
  }));
  if (spec.ordered && spec.steps.length >= 2 && holdsUntilExec(spec.steps[0]!, spec.steps[1]!)) {
    compiled[0]!.holdUntilExec = true;
  }
  let orders: StepOrder[] | undefined;
  if (!spec.ordered && compiled.length > 1) {
    orders = unorderedSteps(compiled, report);
    if (orders === undefined) return undefined;
  }
  return {
    id: spec.id,
    name: spec.name,
    description: spec.description,
    platforms: [...new Set(spec.platforms)],
    severity: spec.severity,
    score: spec.score,
    techniques: spec.techniques,
    tactics: spec.tactics,
    maxspanMs,
    actions,
    excluded: exPreds.length === 0 ? undefined : (c) => exPreds.some((p) => p(c)),
    steps: compiled,
    orders,
    tests,
    excludeNames: excludedNames(spec.exclude, lists),
    file,
    line,
  };
}

/** What a step's conditions require of the process name and executable (step_keys.ts), if anything. */
function stepGate(where: unknown[], lists: PackLists): Pred | undefined {
  const cs = where.map(imageGate).filter((c) => c !== undefined);
  if (cs.length === 0) return undefined;
  // Already compiled once with the step, so no problem can arise here.
  const scope: CompileScope = { stepIndex: 0, captures: { fields: [[]] }, lists, report: () => {} };
  const preds = cs.map((c) => compileCondition(c, [], scope));
  return preds.every((p) => p !== undefined) ? allOf(preds as Pred[]) : undefined;
}

/** The step's "name or command line" filter (step_keys.ts stepImageOrCmd), compiled. */
function imageOrCmd(
  where: unknown[],
  lists: PackLists,
): { gate: Pred; literals: readonly string[] } | undefined {
  const shape = stepImageOrCmd(where, lists);
  if (shape === undefined) return undefined;
  // Already compiled once with the step, so no problem can arise here.
  const scope: CompileScope = { stepIndex: 0, captures: { fields: [[]] }, lists, report: () => {} };
  const gate = compileCondition(shape.image, [], scope);
  return gate === undefined ? undefined : { gate, literals: shape.literals };
}

/** `pred` checked after its cheap necessary condition (prefilter.ts), when there is one. */
function withPrefilter(pred: Pred, pre: Pred | undefined): Pred {
  return pre === undefined ? pred : (c) => pre(c) && pred(c);
}

/** Relations that hold both ways, so a step may arrive before the step it names. */
const SYMMETRIC: ReadonlySet<Relation> = new Set(["same", "sibling", "lineage"]);
const MAX_UNORDERED_STEPS = 4;

/**
 * `ordered = false`: the steps may complete in any order. Each order becomes
 * an ordered variant whose steps keep their written relation, checked from
 * whichever of the two steps arrives second (hence symmetric relations only).
 * A step that arrives before every step it is related to is related through
 * a chain of one transitive relation (all `same`, or all `sibling`: same
 * parent); otherwise the rule is refused.
 */
/** What `ordered = false` cannot take; reported from the spec, so every problem shows at once. */
function checkUnordered(
  spec: RuleSpec,
  captured: string[][],
  report: (loc: Loc, message: string) => void,
): boolean {
  const n = spec.steps.length;
  let ok = true;
  if (n > MAX_UNORDERED_STEPS) {
    report(["ordered"], `"ordered = false" takes at most ${MAX_UNORDERED_STEPS} steps, got ${n}`);
    ok = false;
  }
  if (captured.some((f) => f.length > 0)) {
    report(["ordered"], `Step references ({ step = N, ... }) need ordered steps`);
    ok = false;
  }
  spec.steps.forEach((s, i) => {
    if (s.count !== undefined && s.count > 1) {
      report(["steps", i, "count"], `"count" needs ordered steps`);
      ok = false;
    }
    const rels = s.relation === undefined
      ? []
      : Array.isArray(s.relation)
      ? s.relation
      : [s.relation];
    const bad = rels.filter((r) => !SYMMETRIC.has(r));
    if (i > 0 && bad.length > 0) {
      report(
        ["steps", i, "relation"],
        `With "ordered = false" a relation must hold both ways (same, sibling, lineage), not "${
          bad[0]
        }"`,
      );
      ok = false;
    }
  });
  return ok;
}

function unorderedSteps(
  steps: CompiledStep[],
  report: (loc: Loc, message: string) => void,
): StepOrder[] | undefined {
  const n = steps.length;
  // Tree edges: step k relates to step of(k).
  const edge = (a: number, b: number): CompiledStep | undefined => {
    if (a > 0 && steps[a]!.of === b) return steps[a];
    if (b > 0 && steps[b]!.of === a) return steps[b];
    return undefined;
  };
  /** A single transitive relation along the tree path from a to b, if there is one. */
  const chain = (a: number, b: number): Relation | undefined => {
    const path: number[] = [];
    const walk = (x: number, from: number): boolean => {
      if (x === b) return true;
      for (let y = 0; y < n; y++) {
        if (y !== from && edge(x, y) !== undefined && walk(y, x)) {
          path.push(edge(x, y) === steps[x] ? x : y);
          return true;
        }
      }
      return false;
    };
    if (!walk(a, -1)) return undefined;
    const rels = new Set(path.map((k) => steps[k]!.relations.join(",")));
    const only = [...rels][0];
    return rels.size === 1 && (only === "same" || only === "sibling") ? only : undefined;
  };
  const orders: StepOrder[] = [];
  const perms = permutations(n);
  for (const perm of perms) {
    const pos = new Array<number>(n);
    perm.forEach((w, i) => (pos[w] = i));
    const out: CompiledStep[] = [];
    for (let i = 0; i < n; i++) {
      const w = perm[i]!;
      const base = { ...steps[w]! };
      if (i === 0) {
        out.push({ ...base, relations: ["same"], of: 0 });
        continue;
      }
      let linked: { relations: readonly Relation[]; of: number } | undefined;
      for (let j = 0; j < i && linked === undefined; j++) {
        const e = edge(w, perm[j]!);
        if (e !== undefined) linked = { relations: e.relations, of: j };
      }
      for (let j = 0; j < i && linked === undefined; j++) {
        const r = chain(w, perm[j]!);
        if (r !== undefined) linked = { relations: [r], of: j };
      }
      if (linked === undefined) {
        report(
          ["ordered"],
          `With "ordered = false" step ${
            w + 1
          } may arrive before every step it is related to (order ${
            perm.map((x) => x + 1).join(", ")
          }): relate the steps in a chain of one relation, or keep them ordered`,
        );
        return undefined;
      }
      out.push({ ...base, ...linked });
    }
    orders.push({ steps: out, perm });
  }
  return orders;
}

/** Every permutation of 0..n-1, the identity first. */
function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  const out: number[][] = [];
  for (const p of permutations(n - 1)) {
    for (let i = p.length; i >= 0; i--) out.push([...p.slice(0, i), n - 1, ...p.slice(i)]);
  }
  return out;
}
