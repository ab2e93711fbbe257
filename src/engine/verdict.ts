/**
 * What the engine decides, with its explanation (invariant 5). The store
 * persists a Verdict as a threat; the response layer carries out its actions.
 */
import type { BmEvent } from "../sensor/event.ts";

export type Severity = "low" | "medium" | "high" | "critical";

/** One process in the lineage snapshot, root first, the verdict's process last. */
export interface LineageEntry {
  entity_id: string;
  pid: number;
  /** Start time, ms since epoch (response checks it before any signal). */
  start: number;
  executable: string;
  args: string[];
  working_directory?: string;
  /** The configured environment variables of its image ("NAME=value"), when any is set. */
  env_vars?: string[];
  uid?: number;
  exited?: boolean;
}

/** One rule firing. */
export interface RuleHit {
  rule_id: string;
  /** Threat name, `Behavior:Linux/Name.A`. */
  name: string;
  score: number;
  /** Time of the event that completed the rule, ms since epoch. */
  time: number;
  /** entity_id of the process the rule's last step matched. */
  entity_id: string;
  /** Indexes into `Verdict.events` of the events each step matched. */
  event_indexes: number[];
}

/** One change of a score on the way to the verdict. */
export interface ScoreStep {
  time: number;
  entity_id: string;
  rule_id: string;
  /** Score after decay, before this hit. */
  before: number;
  added: number;
  after: number;
}

/** An action the verdict asks for; the response layer carries it out. */
export type ActionRequest =
  | { type: "report" }
  /** Deny the pending auth event and push a deny entry down for the lineage. */
  | { type: "block"; auth_id: number; pid: number; entity_id: string }
  | { type: "kill"; pid: number; start: number; entity_id: string; tree: boolean }
  | { type: "quarantine"; path: string; entity_id: string };

export interface Verdict {
  /** Threat name: the name of the rule that carried the score over the threshold. */
  name: string;
  /** Every rule that contributed, in firing order. */
  rule_ids: string[];
  severity: Severity;
  techniques: string[];
  tactics: string[];
  /**
   * Score of the process whose score crossed the threshold: the verdict's
   * process or one of its ancestors (`score_path` entries name it).
   */
  score: number;
  threshold: number;
  /** Detection time, ms since epoch (from the event, never the wall clock). */
  time: number;
  /** "block" when blockExecution is enabled, "audit" when verdicts are reports only. */
  mode: "block" | "audit";
  /**
   * The process the firing rule matched (its last step), never an ancestor
   * merely because that ancestor's accumulated score crossed.
   */
  process: {
    pid: number;
    entity_id: string;
    executable: string;
    args: string[];
    start: number;
    /** The configured environment variables of its image ("NAME=value"), when any is set. */
    env_vars?: string[];
  };
  lineage: LineageEntry[];
  hits: RuleHit[];
  score_path: ScoreStep[];
  /** The evidence events, oldest first. */
  events: BmEvent[];
  /**
   * What should happen; empty or report-only in audit mode. Targets are what
   * the rule names (its steps' processes and files, the auth event that
   * completed it); at most one kill per process (a tree kill subsumes a single one).
   */
  actions: ActionRequest[];
}
