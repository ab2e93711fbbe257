/** An in-memory ThreatStore for unit tests of the layers above (responder, CLI, daemon). */
import type { Clock } from "../clock.ts";
import { BmError } from "../errors.ts";
import type { Verdict } from "../engine/verdict.ts";
import {
  type ActionRecord,
  type AllowedThreat,
  initialStatus,
  type QuarantineEntry,
  type Threat,
  type ThreatStatus,
  type ThreatSummary,
} from "./threat.ts";
import type { ListQuery, QuarantineQuery, ThreatStore } from "./threat_store.ts";

export class FakeThreatStore implements ThreatStore {
  readonly threats = new Map<string, Threat>();
  readonly quarantine = new Map<string, QuarantineEntry>();
  readonly allowed = new Map<string, number>();
  /** Every call, in order, for tests that check sequencing (e.g. record before act). */
  readonly calls: string[] = [];
  closed = false;
  /** When set, every write throws this, as a real store does when its disk is full or gone. */
  failWrites: string | undefined;

  constructor(private readonly clock: Clock) {}

  record(v: Verdict, status: ThreatStatus = initialStatus(v)): string {
    this.failing();
    const id = crypto.randomUUID();
    const now = this.clock.now();
    this.calls.push(`record ${id}`);
    this.unreportedIds.add(id);
    this.threats.set(
      id,
      structuredClone({
        id,
        name: v.name,
        type: "behavior",
        detection_time: v.time,
        status,
        severity: v.severity,
        process: { ...v.process },
        recorded_time: now,
        updated_time: now,
        mode: v.mode,
        techniques: v.techniques,
        tactics: v.tactics,
        rule_ids: v.rule_ids,
        score: v.score,
        threshold: v.threshold,
        score_path: v.score_path,
        hits: v.hits,
        lineage: v.lineage,
        events: v.events,
        requested_actions: v.actions,
        actions: [],
      }),
    );
    return id;
  }

  addAction(threatId: string, action: ActionRecord): void {
    this.failing();
    this.calls.push(`action ${action.type} ${action.result}`);
    this.must(threatId).actions.push({ ...action });
  }

  setStatus(threatId: string, status: ThreatStatus): void {
    this.failing();
    this.calls.push(`status ${status}`);
    const t = this.must(threatId);
    t.status = status;
    t.updated_time = this.clock.now();
  }

  get(id: string): Threat | undefined {
    const t = this.threats.get(id);
    return t ? structuredClone(t) : undefined;
  }

  list(query: ListQuery = {}): ThreatSummary[] {
    const all = [...this.threats.values()]
      .filter((t) => !query.status || t.status === query.status)
      .sort((a, b) => b.detection_time - a.detection_time)
      .map((t) => ({
        id: t.id,
        name: t.name,
        type: t.type,
        detection_time: t.detection_time,
        status: t.status,
        severity: t.severity,
        process: { ...t.process },
      }));
    return query.limit !== undefined ? all.slice(0, query.limit) : all;
  }

  addQuarantine(entry: QuarantineEntry): void {
    this.failing();
    this.must(entry.threat_id);
    this.calls.push(`quarantine ${entry.original_path}`);
    this.quarantine.set(entry.id, { ...entry });
  }

  getQuarantine(id: string): QuarantineEntry | undefined {
    const q = this.quarantine.get(id);
    return q ? { ...q } : undefined;
  }

  listQuarantine(query: QuarantineQuery = {}): QuarantineEntry[] {
    return [...this.quarantine.values()]
      .filter((q) => query.threatId === undefined || q.threat_id === query.threatId)
      .filter((q) => query.includeRestored || q.restored_time === undefined)
      .map((q) => ({ ...q }));
  }

  markRestored(quarantineId: string, path: string, time: number): void {
    this.failing();
    const q = this.quarantine.get(quarantineId);
    if (!q) throw new BmError(`Unknown quarantine entry "${quarantineId}"`, 2);
    q.restored_path = path;
    q.restored_time = time;
  }

  addAllowed(name: string): boolean {
    if (this.allowed.has(name)) return false;
    this.allowed.set(name, this.clock.now());
    return true;
  }

  removeAllowed(name: string): boolean {
    return this.allowed.delete(name);
  }

  listAllowed(): AllowedThreat[] {
    return [...this.allowed].sort(([a], [b]) => a.localeCompare(b)).map(([name, added_time]) => ({
      name,
      added_time,
    }));
  }

  prune(): number {
    return 0;
  }

  /** Ids of threats recorded and not yet marked reported. */
  readonly unreportedIds = new Set<string>();

  markReported(threatId: string): void {
    this.failing();
    this.calls.push(`reported ${threatId}`);
    this.unreportedIds.delete(threatId);
  }

  unreported(limit = 1000): Threat[] {
    return [...this.unreportedIds].slice(0, limit).map((id) => structuredClone(this.must(id)));
  }

  close(): void {
    this.closed = true;
  }

  private failing(): void {
    if (this.failWrites !== undefined) {
      this.calls.push("write failed");
      throw new BmError(`Cannot write the threat store: ${this.failWrites}`);
    }
  }

  private must(id: string): Threat {
    const t = this.threats.get(id);
    if (!t) throw new BmError(`Unknown threat "${id}"`, 2);
    return t;
  }
}
