/**
 * From a threshold crossing to a Verdict: the explanation (every firing that
 * built the score, its events oldest first, the score path, the lineage) and
 * the actions the firing rule asks for, in block mode.
 */
import type { BmEvent } from "../sensor/event.ts";
import type {
  ActionRequest,
  LineageEntry,
  RuleHit,
  ScoreStep,
  Severity,
  Verdict,
} from "./verdict.ts";
import type { Proc } from "./process_table.ts";
import type { CompiledRule } from "./rule_set.ts";
import type { ScoreRecord } from "./scoring.ts";

const SEVERITY_ORDER: Severity[] = ["low", "medium", "high", "critical"];

/** What a verdict is built from. */
export interface VerdictInput {
  /** The rule that completed and carried the score over. */
  rule: CompiledRule;
  /** The process whose score crossed: the firing process or an ancestor. */
  crossed: Proc;
  /** Its score now. */
  score: number;
  /** The records explaining `crossed`'s score (see `Scoring.explain`). */
  records: readonly ScoreRecord[];
  /** The process the rule's last step matched. */
  firingProc: Proc;
  /** Per written step: the process and the events it matched. */
  procs: readonly Proc[];
  events: readonly BmEvent[][];
  /** The event that completed the rule and its process. */
  ev: BmEvent;
  proc: Proc;
  now: number;
  threshold: number;
  mode: "block" | "audit";
  /** The firing process's lineage, root first. */
  lineage: readonly Proc[];
}

export function buildVerdict(i: VerdictInput): Verdict {
  const { crossed, firingProc, now } = i;
  const allEvents: BmEvent[] = [];
  const index = new Map<BmEvent, number>();
  const hits: RuleHit[] = [];
  const scorePath: ScoreStep[] = [];
  const ruleIds: string[] = [];
  const techniques = new Set<string>();
  const tactics = new Set<string>();
  let sev = 0;
  // Events oldest first across every contributing firing.
  const flat: BmEvent[] = [];
  for (const r of i.records) for (const list of r.firing.events) for (const e of list) flat.push(e);
  const sorted = flat.map((e, n) => [e, n] as const).sort((a, b) =>
    a[0]["@timestamp"] - b[0]["@timestamp"] || a[1] - b[1]
  );
  for (const [e] of sorted) {
    if (!index.has(e)) {
      index.set(e, allEvents.length);
      allEvents.push(e);
    }
  }
  for (const r of i.records) {
    const f = r.firing;
    if (!ruleIds.includes(f.rule.id)) ruleIds.push(f.rule.id);
    for (const t of f.rule.techniques) techniques.add(t);
    for (const t of f.rule.tactics) tactics.add(t);
    sev = Math.max(sev, SEVERITY_ORDER.indexOf(f.rule.severity));
    hits.push({
      rule_id: f.rule.id,
      name: f.rule.name,
      score: f.rule.score,
      time: f.time,
      entity_id: f.entityId,
      event_indexes: f.events.flat().map((e) => index.get(e)!),
    });
    scorePath.push({
      time: f.time,
      entity_id: crossed.entity_id,
      rule_id: f.rule.id,
      before: r.before,
      added: r.added,
      after: r.after,
    });
  }
  return {
    name: i.rule.name,
    rule_ids: ruleIds,
    severity: SEVERITY_ORDER[sev]!,
    techniques: [...techniques],
    tactics: [...tactics],
    score: i.score,
    threshold: i.threshold,
    time: now,
    mode: i.mode,
    // The process the firing rule matched, never an ancestor merely because its score crossed.
    process: {
      pid: firingProc.pid,
      entity_id: firingProc.entity_id,
      executable: firingProc.executable,
      args: firingProc.args ?? [],
      start: firingProc.start,
      ...(firingProc.env_vars?.length ? { env_vars: firingProc.env_vars } : {}),
    },
    lineage: i.lineage.map(lineageEntry),
    hits,
    score_path: scorePath,
    events: allEvents,
    actions: planActions(i),
  };
}

/**
 * The actions of a verdict: always a report; in block mode the rule's
 * actions made concrete (a block answers the completing auth event, or kills
 * when there is none), one kill per process (a tree kill subsumes a single
 * one), no duplicates.
 */
export function planActions(
  i: Pick<VerdictInput, "rule" | "procs" | "events" | "ev" | "proc" | "mode">,
): ActionRequest[] {
  const { ev, proc, procs, events } = i;
  const actions: ActionRequest[] = [{ type: "report" }];
  if (i.mode !== "block") return actions;
  const seen = new Set<string>();
  const push = (a: ActionRequest) => {
    if (a.type === "kill") {
      const n = actions.findIndex((b) => b.type === "kill" && b.entity_id === a.entity_id);
      const b = actions[n];
      if (b?.type === "kill") {
        if (a.tree && !b.tree) actions[n] = a;
        return;
      }
    }
    const key = JSON.stringify(a);
    if (!seen.has(key)) {
      seen.add(key);
      actions.push(a);
    }
  };
  for (const a of i.rule.actions) {
    if (a.type === "block") {
      const authId = ev.bm?.auth_id;
      if (authId !== undefined) {
        push({ type: "block", auth_id: authId, pid: proc.pid, entity_id: proc.entity_id });
      } else {
        push({
          type: "kill",
          pid: proc.pid,
          start: proc.start,
          entity_id: proc.entity_id,
          tree: false,
        });
      }
    } else if (a.type === "kill") {
      const p = procs[a.step] ?? proc;
      push({ type: "kill", pid: p.pid, start: p.start, entity_id: p.entity_id, tree: a.tree });
    } else if (a.type === "quarantine") {
      const list = events[a.step];
      const e = list?.[list.length - 1];
      const p = procs[a.step] ?? proc;
      const f = (e as { file?: { path: string } } | undefined)?.file?.path;
      const path = f ?? (e?.event.action === "exec" ? p.executable : undefined);
      if (path !== undefined && path !== "") {
        push({ type: "quarantine", path, entity_id: p.entity_id });
      }
    }
  }
  return actions;
}

export function lineageEntry(p: Proc): LineageEntry {
  const e: LineageEntry = {
    entity_id: p.entity_id,
    pid: p.pid,
    start: p.start,
    executable: p.executable,
    args: p.args ?? [],
  };
  if (p.working_directory !== undefined) e.working_directory = p.working_directory;
  if (p.env_vars?.length) e.env_vars = p.env_vars;
  if (p.uid !== undefined) e.uid = p.uid;
  if (p.exited) e.exited = true;
  return e;
}
