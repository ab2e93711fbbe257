/**
 * What the store keeps about a threat: the verdict with its explanation
 * (invariant 5), its status and the actions taken with their outcome.
 * `bm threat list --output json` prints these objects as they are.
 */
import type {
  ActionRequest,
  LineageEntry,
  RuleHit,
  ScoreStep,
  Severity,
  Verdict,
} from "../engine/verdict.ts";
import type { BmEvent } from "../sensor/event.ts";

export const THREAT_STATUSES = [
  "active",
  "blocked",
  "killed",
  "quarantined",
  "allowed",
  "restored",
  "audited",
] as const;
export type ThreatStatus = typeof THREAT_STATUSES[number];

export type ActionType = ActionRequest["type"] | "restore" | "allow";

/** The outcome of one action, as carried out (or not) by the response layer. */
export interface ActionRecord {
  type: ActionType;
  /** What it acted on: `pid 123`, a path, a threat name. */
  target: string;
  /** ok: done; error: tried and failed; skipped: deliberately not done (audit mode, allowed). */
  result: "ok" | "error" | "skipped";
  /** The reason for error or skipped, or facts about the success (pids killed, vault entry). */
  detail?: string;
  /** ms since epoch. */
  time: number;
}

/** The acting process of a threat. */
export interface ThreatProcess {
  pid: number;
  entity_id: string;
  executable: string;
  args: string[];
  start: number;
  /** The configured environment variables of its image ("NAME=value"), when any is set. */
  env_vars?: string[];
}

/** One line of `bm threat list`. */
export interface ThreatSummary {
  /** UUID. */
  id: string;
  /** `Behavior:Linux/Name.A`. */
  name: string;
  type: "behavior";
  /** ms since epoch, from the event that completed the verdict. */
  detection_time: number;
  status: ThreatStatus;
  severity: Severity;
  process: ThreatProcess;
}

/** Everything about one threat (`bm threat show`). */
export interface Threat extends ThreatSummary {
  /** When the store committed it, ms since epoch. */
  recorded_time: number;
  /** Last status change, ms since epoch. */
  updated_time: number;
  mode: Verdict["mode"];
  techniques: string[];
  tactics: string[];
  rule_ids: string[];
  score: number;
  threshold: number;
  score_path: ScoreStep[];
  hits: RuleHit[];
  lineage: LineageEntry[];
  events: BmEvent[];
  /** What the verdict asked for. */
  requested_actions: ActionRequest[];
  /** What was done, in the order it was done. */
  actions: ActionRecord[];
}

/** One file in the quarantine vault. */
export interface QuarantineEntry {
  /** UUID; also the file's name in the vault. */
  id: string;
  threat_id: string;
  original_path: string;
  uid: number;
  gid: number;
  /** Permission bits as they were (including set-id bits), before execute bits were stripped. */
  mode: number;
  size: number;
  sha256: string;
  /** ms since epoch. */
  quarantined_time: number;
  restored_time?: number;
  restored_path?: string;
}

export interface AllowedThreat {
  name: string;
  added_time: number;
}

/** The initial status of a freshly recorded verdict. */
export function initialStatus(v: Verdict): ThreatStatus {
  return v.mode === "audit" ? "audited" : "active";
}

/** The verdict a stored threat was recorded from (to report it again after a restart). */
export function threatVerdict(t: Threat): Verdict {
  return {
    name: t.name,
    rule_ids: t.rule_ids,
    severity: t.severity,
    techniques: t.techniques,
    tactics: t.tactics,
    score: t.score,
    threshold: t.threshold,
    time: t.detection_time,
    mode: t.mode,
    process: t.process,
    lineage: t.lineage,
    hits: t.hits,
    score_path: t.score_path,
    events: t.events,
    actions: t.requested_actions,
  };
}
