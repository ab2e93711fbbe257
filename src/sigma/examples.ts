/**
 * Test traces for an imported rule: a positive trace whose events satisfy the
 * detection and a negative one that breaks one selection. Candidates come
 * from the detection tree; each is replayed through the compiled rule (the
 * engine itself decides), so a written example is known to hold.
 */
import type { BmEvent } from "../sensor/event.ts";
import type { CompiledRule } from "../engine/rule_set.ts";
import { ruleFires } from "../engine/rule_tests.ts";
import type { DetNode, Matcher, SigmaCategory, Val } from "./detection.ts";

type Atom = { m: Matcher; pos: boolean; val?: Val };
type Values = Map<string, string | number>;

const MAX_ALTERNATIVES = 48;

function product(a: Atom[][], b: Atom[][]): Atom[][] {
  const out: Atom[][] = [];
  for (const x of a) {
    for (const y of b) {
      out.push([...x, ...y]);
      if (out.length >= MAX_ALTERNATIVES) return out;
    }
  }
  return out;
}

/** Conjunctions of atoms, any of which satisfies `n` (or its negation when !pol). */
function sat(n: DetNode, pol: boolean): Atom[][] {
  switch (n.t) {
    case "m": {
      if (!pol || n.m.op === "exists" || n.m.all) return [[{ m: n.m, pos: pol }]];
      const missing = (v: Val) => (sampleOf(v) === undefined ? 1 : 0);
      const vals = [...n.m.values].sort((a, b) => missing(a) - missing(b));
      return vals.slice(0, 6).map((val) => [{ m: n.m, pos: true, val }]);
    }
    case "not":
      return sat(n.x, !pol);
    case "and":
    case "or": {
      const conj = (n.t === "and") === pol;
      const parts = n.xs.map((x) => sat(x, pol));
      if (conj) return parts.reduce((acc, p) => product(acc, p), [[]] as Atom[][]);
      return parts.flat().slice(0, MAX_ALTERNATIVES);
    }
  }
}

function sampleOf(v: Val): string | number | undefined {
  return "lit" in v ? v.lit : v.sample;
}

const DEFAULTS: Record<string, string | number> = {
  "process.executable": "/usr/local/bin/example",
  "process.parent.executable": "/usr/bin/bash",
  "process.working_directory": "/home/user",
  "user.id": 1000,
  "file.path": "/home/user/example.txt",
  "file.target_path": "/home/user/example.renamed",
};

const NEUTRAL: Record<string, string | number> = {
  "process.executable": "/usr/bin/bm-neutral",
  "process.name": "bm-neutral",
  "process.command_line": "bm-neutral",
  "process.parent.executable": "/usr/sbin/bm-neutral-parent",
  "process.parent.command_line": "bm-neutral-parent",
  "process.working_directory": "/var/empty/bm-neutral",
  "process.pid": 4343,
  "process.parent.pid": 4141,
  "user.id": 54321,
  "file.path": "/var/empty/bm-neutral.txt",
  "file.target_path": "/var/empty/bm-neutral.renamed",
};

/** Field values satisfying the positive atoms; undefined when a value has no sample. */
function valuesOf(atoms: Atom[]): Values | undefined {
  const byField = new Map<string, Atom[]>();
  for (const a of atoms) {
    if (!a.pos) continue;
    const l = byField.get(a.m.field) ?? [];
    l.push(a);
    byField.set(a.m.field, l);
  }
  const out: Values = new Map();
  for (const [field, list] of byField) {
    let exact: string | number | undefined;
    let prefix = "";
    let suffix = "";
    const middle: string[] = [];
    let absent = false;
    for (const a of list) {
      if (a.m.op === "exists") {
        if (a.m.present === false) absent = true;
        continue;
      }
      const vals = a.val !== undefined ? [a.val] : a.m.values;
      for (const v of vals) {
        const s = sampleOf(v);
        if (s === undefined) return undefined;
        if (typeof s === "number") exact = s;
        else if (a.m.op === "eq" || ("re" in v && v.re.startsWith("^") && v.re.endsWith("$"))) {
          exact = s;
        } else if (a.m.op === "starts_with") prefix = s + prefix;
        else if (a.m.op === "ends_with") suffix += s;
        else middle.push(s);
      }
    }
    if (absent) continue;
    if (exact !== undefined) out.set(field, exact);
    else {
      const sep = field.endsWith("command_line") ? " " : "";
      const s = [prefix, middle.join(" "), suffix].filter((x) => x !== "").join(sep);
      out.set(field, s === "" ? (DEFAULTS[field] ?? NEUTRAL[field] ?? "x") : s);
    }
  }
  return out;
}

function basename(p: string): string {
  const i = p.lastIndexOf("/");
  return i >= 0 ? p.slice(i + 1) : p;
}

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

/** The events of one example: the parent's exec, the process's exec, and its file event. */
export function eventsFor(values: Values, category: SigmaCategory): BmEvent[] {
  const str = (f: string): string | undefined => {
    const v = values.get(f);
    return v === undefined ? undefined : String(v);
  };
  const num = (f: string): number | undefined => {
    const v = values.get(f);
    return typeof v === "number" ? v : undefined;
  };
  const ppid = num("process.parent.pid") ?? 4100;
  const pid = num("process.pid") ?? 4200;
  const pexe = str("process.parent.executable") ?? String(DEFAULTS["process.parent.executable"]);
  const pargs = [str("process.parent.command_line") ?? pexe];
  const name = str("process.name");
  const exe = str("process.executable") ??
    (name !== undefined ? `/usr/bin/${name}` : String(DEFAULTS["process.executable"]));
  const args = [str("process.command_line") ?? exe];
  const cwd = str("process.working_directory") ?? String(DEFAULTS["process.working_directory"]);
  const uid = num("user.id") ?? Number(DEFAULTS["user.id"]);
  const parent = {
    pid: ppid,
    entity_id: `${ppid}-${T0 - 60_000}`,
    executable: pexe,
    name: basename(pexe),
    args: pargs,
  };
  const proc = {
    pid,
    entity_id: `${pid}-${T0}`,
    start: T0,
    executable: exe,
    name: name ?? basename(exe),
    args,
    working_directory: cwd,
    parent,
  };
  const events: BmEvent[] = [
    {
      "@timestamp": T0 - 60_000,
      event: { action: "exec" },
      process: {
        pid: ppid,
        entity_id: parent.entity_id,
        start: T0 - 60_000,
        executable: pexe,
        name: basename(pexe),
        args: pargs,
        working_directory: "/",
        parent: { pid: 1, executable: "/sbin/init", name: "init" },
      },
      user: { id: uid },
    },
    { "@timestamp": T0, event: { action: "exec" }, process: proc, user: { id: uid } },
  ];
  const path = str("file.path") ?? String(DEFAULTS["file.path"]);
  const at = T0 + 5;
  if (category === "file_event") {
    events.push({
      "@timestamp": at,
      event: { action: "create" },
      process: { pid, entity_id: proc.entity_id },
      file: { path },
      user: { id: uid },
    });
  } else if (category === "file_delete") {
    events.push({
      "@timestamp": at,
      event: { action: "unlink" },
      process: { pid, entity_id: proc.entity_id },
      file: { path },
      user: { id: uid },
    });
  } else if (category === "file_rename") {
    events.push({
      "@timestamp": at,
      event: { action: "rename" },
      process: { pid, entity_id: proc.entity_id },
      file: {
        path,
        target_path: str("file.target_path") ?? String(DEFAULTS["file.target_path"]),
      },
      user: { id: uid },
    });
  }
  return events;
}

export interface Examples {
  positive?: BmEvent[];
  negative?: BmEvent[];
  /** Why an example is missing. */
  problem?: string;
}

/** Finds a positive and a negative trace that the compiled rule confirms. */
export function deriveExamples(
  tree: DetNode,
  category: SigmaCategory,
  rule: CompiledRule,
): Examples {
  let posValues: Values | undefined;
  let noSample = false;
  for (const alt of sat(tree, true)) {
    const v = valuesOf(alt);
    if (v === undefined) {
      noSample = true;
      continue;
    }
    if (ruleFires(rule, eventsFor(v, category))) {
      posValues = v;
      break;
    }
  }
  if (posValues === undefined) {
    return {
      problem: noSample
        ? "no positive example derivable (a regex it cannot sample)"
        : "no positive example derivable (conflicting conditions)",
    };
  }
  const positive = eventsFor(posValues, category);
  // Break one selection: one field of the positive example set to a neutral value.
  for (const field of posValues.keys()) {
    const v = new Map(posValues);
    v.set(field, NEUTRAL[field] ?? "bm-neutral");
    const ev = eventsFor(v, category);
    if (!ruleFires(rule, ev)) return { positive, negative: ev };
  }
  // Else anything that satisfies the negated detection.
  for (const alt of sat(tree, false)) {
    const v = valuesOf(alt);
    if (v === undefined) continue;
    const ev = eventsFor(v, category);
    if (!ruleFires(rule, ev)) return { positive, negative: ev };
  }
  return { positive, problem: "no negative example derivable" };
}
