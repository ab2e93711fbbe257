/**
 * One rule firing as the engine reports it (the engine only reports: the
 * daemon stores it as an alert, `bm replay` prints it). Every firing is one,
 * below the threshold too: a verdict is a lineage whose score crossed, an
 * alert is one rule that matched.
 */
import type { BmEvent } from "../sensor/event.ts";
import type { Proc } from "./process_table.ts";
import type { CompiledRule } from "./rule_set.ts";
import type { LineageEntry, Severity } from "./verdict.ts";
import { lineageEntry } from "./verdict_plan.ts";

/** The process a firing matched (the rule's last step). */
export interface AlertProcess {
  entity_id: string;
  pid: number;
  /** Start time, ms since epoch. */
  start: number;
  executable: string;
  args: string[];
  /** The process's uid, when known. */
  user?: { id: number };
}

export interface RuleAlert {
  rule_id: string;
  /** `Behavior:Linux/Name.A`. */
  name: string;
  severity: Severity;
  /** What the firing added to the lineage score. */
  score: number;
  techniques: string[];
  tactics: string[];
  /** Time of the event that completed the rule, ms since epoch. */
  time: number;
  process: AlertProcess;
  /** Root first, the firing process last. */
  lineage: LineageEntry[];
  /** The events each step matched, oldest first (at most MAX_ALERT_EVENTS). */
  events: BmEvent[];
}

/** Evidence kept per alert; a `count` step can match thousands of events. */
export const MAX_ALERT_EVENTS = 32;

/** The first and the last events when there are more than the bound. */
export function boundEvidence(events: readonly BmEvent[]): BmEvent[] {
  if (events.length <= MAX_ALERT_EVENTS) return [...events];
  const half = MAX_ALERT_EVENTS / 2;
  return [...events.slice(0, half), ...events.slice(events.length - half)];
}

/** The alert of one firing: `firingProc` matched the rule's last step; `lineage` root first. */
export function ruleAlert(
  rule: CompiledRule,
  firingProc: Proc,
  events: readonly (readonly BmEvent[])[],
  time: number,
  lineage: readonly Proc[],
): RuleAlert {
  const flat = events.flat().map((e, i) => [e, i] as const)
    .sort((a, b) => a[0]["@timestamp"] - b[0]["@timestamp"] || a[1] - b[1])
    .map(([e]) => e);
  const process: AlertProcess = {
    entity_id: firingProc.entity_id,
    pid: firingProc.pid,
    start: firingProc.start,
    executable: firingProc.executable,
    args: firingProc.args ?? [],
  };
  if (firingProc.uid !== undefined) process.user = { id: firingProc.uid };
  return {
    rule_id: rule.id,
    name: rule.name,
    severity: rule.severity,
    score: rule.score,
    techniques: [...rule.techniques],
    tactics: [...rule.tactics],
    time,
    process,
    lineage: lineage.map(lineageEntry),
    events: boundEvidence([...new Set(flat)]),
  };
}
