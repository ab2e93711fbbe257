/**
 * What the store keeps about an alert: one rule firing (or several of the
 * same rule on the same process within ALERT_MERGE_WINDOW_MS, merged with a
 * count). `bm alert list --output json` prints these objects as they are.
 */
import type { LineageEntry, Severity } from "../engine/verdict.ts";
import type { AlertProcess } from "../engine/rule_alert.ts";
import type { BmEvent } from "../sensor/event.ts";

export const SEVERITIES: readonly Severity[] = ["low", "medium", "high", "critical"];

/** Firings of one rule on one process entity this close together update one alert. */
export const ALERT_MERGE_WINDOW_MS = 10 * 60_000;

/** One line of `bm alert list`. */
export interface AlertSummary {
  /** UUID. */
  id: string;
  rule_id: string;
  /** `Behavior:Linux/Name.A`. */
  name: string;
  severity: Severity;
  score: number;
  /** First and last firing merged into this alert, ms since epoch (event time). */
  first_seen: number;
  last_seen: number;
  /** Firings merged into this alert. */
  count: number;
  process: AlertProcess;
  /** The threat this alert's rule contributed to, if any. */
  threat_id: string | null;
}

/** Everything about one alert (`bm alert show`). */
export interface Alert extends AlertSummary {
  techniques: string[];
  tactics: string[];
  /** When the store first committed it, ms since epoch. */
  recorded_time: number;
  lineage: LineageEntry[];
  /** Evidence of the first firing, oldest first. */
  events: BmEvent[];
}

/** One firing to store. */
export interface NewAlert {
  rule_id: string;
  name: string;
  severity: Severity;
  score: number;
  techniques: string[];
  tactics: string[];
  time: number;
  process: AlertProcess;
  lineage: LineageEntry[];
  events: BmEvent[];
  threat_id?: string | undefined;
}

export interface AlertQuery {
  /** This severity or higher. */
  minSeverity?: Severity;
  /** Alerts last seen at or after this time (ms since epoch). */
  since?: number;
  /** Newest first, at most this many (default: all). */
  limit?: number;
}

/** What `writeAlerts` did with one firing. */
export interface AlertWrite {
  id: string;
  /** False when the firing was merged into an existing alert. */
  created: boolean;
}

export interface AlertRetention {
  /** Alerts last seen longer ago than this are deleted. 0 disables. */
  maxAgeDays: number;
  /** At most this many alerts are kept, newest first. 0 disables. */
  maxCount: number;
}

export const DEFAULT_ALERT_RETENTION: AlertRetention = { maxAgeDays: 90, maxCount: 20_000 };

/**
 * Where alerts live: the same SQLite file as threats (SqliteThreatStore
 * implements both), a FakeAlertStore for unit tests. Each write commits
 * before it returns.
 */
export interface AlertStore {
  /**
   * Writes a batch in one transaction: each firing merges into the alert of
   * the same rule and process entity last seen within ALERT_MERGE_WINDOW_MS,
   * else becomes a new alert. Results in the batch's order.
   */
  writeAlerts(batch: readonly NewAlert[]): AlertWrite[];
  /** Sets the threat id of alerts of these firings that have none yet. */
  linkAlerts(threatId: string, firings: readonly { rule_id: string; entity_id: string }[]): void;
  getAlert(id: string): Alert | undefined;
  /** Newest (last seen) first. */
  listAlerts(query?: AlertQuery): AlertSummary[];
  /** Alerts kept, by severity (every severity present, 0 when none). */
  alertCounts(): Record<Severity, number>;
  /** Marks alerts as written to the log and export (at-least-once reporting). */
  markAlertsReported(ids: readonly string[]): void;
  /** Alerts committed but never reported (the daemon died in between), oldest first. */
  unreportedAlerts(limit?: number): Alert[];
  /** Applies alert retention; returns how many were deleted. */
  pruneAlerts(): number;
  /** Alerts deleted by retention since the store was opened. */
  readonly alertsPruned: number;
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}
