/** An in-memory AlertStore for unit tests of the layers above (alert writer, CLI, daemon). */
import type { Clock } from "../clock.ts";
import { BmError } from "../errors.ts";
import type { Severity } from "../engine/verdict.ts";
import {
  type Alert,
  ALERT_MERGE_WINDOW_MS,
  type AlertQuery,
  type AlertStore,
  type AlertSummary,
  type AlertWrite,
  type NewAlert,
  SEVERITIES,
  severityRank,
} from "./alert.ts";

export class FakeAlertStore implements AlertStore {
  /** Insertion order. */
  readonly alerts: (Alert & { reported: boolean })[] = [];
  /** Every write call, in order. */
  readonly calls: string[] = [];
  /** When set, every write throws this. */
  failWrites: string | undefined;

  constructor(private readonly clock: Clock) {}

  writeAlerts(batch: readonly NewAlert[]): AlertWrite[] {
    this.failing();
    this.calls.push(`write ${batch.length}`);
    return batch.map((a) => {
      const hit = this.alerts.filter((x) =>
        x.rule_id === a.rule_id && x.process.entity_id === a.process.entity_id &&
        x.last_seen >= a.time - ALERT_MERGE_WINDOW_MS &&
        x.first_seen <= a.time + ALERT_MERGE_WINDOW_MS
      ).sort((x, y) =>
        y.last_seen - x.last_seen
      )[0];
      if (hit) {
        hit.count++;
        hit.first_seen = Math.min(hit.first_seen, a.time);
        hit.last_seen = Math.max(hit.last_seen, a.time);
        hit.threat_id ??= a.threat_id ?? null;
        return { id: hit.id, created: false };
      }
      const id = crypto.randomUUID();
      this.alerts.push(structuredClone({
        id,
        rule_id: a.rule_id,
        name: a.name,
        severity: a.severity,
        score: a.score,
        first_seen: a.time,
        last_seen: a.time,
        count: 1,
        process: a.process,
        threat_id: a.threat_id ?? null,
        techniques: a.techniques,
        tactics: a.tactics,
        recorded_time: this.clock.now(),
        lineage: a.lineage,
        events: a.events,
        reported: false,
      }));
      return { id, created: true };
    });
  }

  linkAlerts(threatId: string, firings: readonly { rule_id: string; entity_id: string }[]): void {
    this.failing();
    this.calls.push(`link ${threatId}`);
    for (const f of firings) {
      for (const a of this.alerts) {
        if (a.rule_id === f.rule_id && a.process.entity_id === f.entity_id) {
          a.threat_id ??= threatId;
        }
      }
    }
  }

  getAlert(id: string): Alert | undefined {
    const a = this.alerts.find((x) => x.id === id);
    if (!a) return undefined;
    const { reported: _, ...rest } = a;
    return structuredClone(rest);
  }

  listAlerts(q: AlertQuery = {}): AlertSummary[] {
    const min = q.minSeverity !== undefined ? severityRank(q.minSeverity) : 0;
    return this.alerts.map((a, i) => [a, i] as const)
      .filter(([a]) => severityRank(a.severity) >= min && a.last_seen >= (q.since ?? -Infinity))
      .sort(([a, i], [b, j]) => b.last_seen - a.last_seen || j - i)
      .slice(0, q.limit ?? Infinity)
      .map(([a]) => ({
        id: a.id,
        rule_id: a.rule_id,
        name: a.name,
        severity: a.severity,
        score: a.score,
        first_seen: a.first_seen,
        last_seen: a.last_seen,
        count: a.count,
        process: structuredClone(a.process),
        threat_id: a.threat_id,
      }));
  }

  alertCounts(): Record<Severity, number> {
    const out = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
    for (const a of this.alerts) out[a.severity]++;
    return out;
  }

  markAlertsReported(ids: readonly string[]): void {
    this.failing();
    this.calls.push(`reported ${ids.length}`);
    for (const a of this.alerts) if (ids.includes(a.id)) a.reported = true;
  }

  unreportedAlerts(limit = 1000): Alert[] {
    return this.alerts.filter((a) => !a.reported).slice(0, limit).map((a) => this.getAlert(a.id)!);
  }

  pruneAlerts(): number {
    return 0;
  }

  readonly alertsPruned = 0;

  private failing(): void {
    if (this.failWrites !== undefined) {
      throw new BmError(`Cannot write the alert store: ${this.failWrites}`);
    }
  }
}
