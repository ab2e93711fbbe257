/**
 * One rule firing as the engine reports it (the engine only reports: the
 * daemon stores it as an alert, `bm replay` prints it). Every firing is one,
 * below the threshold too: a verdict is a lineage whose score crossed, an
 * alert is one rule that matched.
 */
import type { BmEvent } from "../sensor/event.ts";
import type { LineageEntry, Severity, Verdict } from "./verdict.ts";

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
  /** The verdict this firing gave in the same engine output, if it gave one. */
  verdict?: Verdict;
}

/** Evidence kept per alert; a `count` step can match thousands of events. */
export const MAX_ALERT_EVENTS = 32;

/** The first and the last events when there are more than the bound. */
export function boundEvidence(events: readonly BmEvent[]): BmEvent[] {
  if (events.length <= MAX_ALERT_EVENTS) return [...events];
  const half = MAX_ALERT_EVENTS / 2;
  return [...events.slice(0, half), ...events.slice(events.length - half)];
}
