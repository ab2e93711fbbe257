/**
 * Keeps every rule firing as an alert, off the exec's critical path: the
 * agent hands firings over after a batch's auth answers went out; they wait
 * in a bounded queue and are committed in one transaction per flush (a timer,
 * so a write never runs between an event and its answer), then logged and
 * exported, then marked reported. Alerts committed but not reported when the
 * daemon died are reported at the next start (`reportUnreported`).
 *
 * Sampling: a rule firing more than `maxPerRulePerMinute` times in a minute
 * of event time keeps the first that many; the rest are counted
 * (`alerts_suppressed` in `bm health`), never silently lost (invariant 2).
 */
import type { RuleAlert } from "../engine/rule_alert.ts";
import type { AlertStore, NewAlert } from "../store/alert.ts";
import type { Alert } from "../store/alert.ts";
import type { EventExporter } from "./event_export.ts";
import type { Logger } from "./log.ts";

export interface AlertCounters {
  /** Firings the agent handed over. */
  firings: number;
  /** New alerts committed. */
  created: number;
  /** Firings merged into an existing alert (same rule, same process, within 10 minutes). */
  merged: number;
  /** Firings over `alerts.maxPerRulePerMinute`, not stored. */
  suppressed: number;
  /** Firings lost because the queue was full or the store could not write them. */
  dropped: number;
  /** Store writes that failed. */
  failures: number;
  /** Alerts of an earlier run reported at this start. */
  lateReported: number;
}

export interface AlertWriterOptions {
  store: AlertStore;
  /** The current exporter (a reload may replace it). */
  exporter: () => EventExporter | undefined;
  logger: Logger;
  maxPerRulePerMinute: number;
  /** Delay before a flush after the first queued firing (default 100 ms). */
  flushDelayMs?: number;
  /** Most firings waiting (default 10,000); more are dropped and counted. */
  maxQueue?: number;
  /**
   * Most firings one flush writes (default 25); the rest wait for the next
   * turn of the event loop, so events (and auth answers) get in between.
   */
  maxBatch?: number;
}

const MINUTE = 60_000;

export class AlertWriter {
  readonly counters: AlertCounters = {
    firings: 0,
    created: 0,
    merged: 0,
    suppressed: 0,
    dropped: 0,
    failures: 0,
    lateReported: 0,
  };
  maxPerRulePerMinute: number;
  private queue: NewAlert[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private rate = new Map<string, { minute: number; n: number }>();
  private closed = false;

  constructor(private readonly o: AlertWriterOptions) {
    this.maxPerRulePerMinute = o.maxPerRulePerMinute;
  }

  /** Queues one firing (sampled); the write happens later, on a timer. */
  offer(a: RuleAlert): void {
    this.counters.firings++;
    if (this.closed) {
      this.counters.dropped++;
      return;
    }
    const minute = Math.floor(a.time / MINUTE);
    let r = this.rate.get(a.rule_id);
    if (r === undefined || r.minute !== minute) {
      if (this.rate.size > 10_000) this.rate.clear();
      r = { minute, n: 0 };
      this.rate.set(a.rule_id, r);
    }
    if (++r.n > this.maxPerRulePerMinute) {
      this.counters.suppressed++;
      return;
    }
    if (this.queue.length >= (this.o.maxQueue ?? 10_000)) {
      this.counters.dropped++;
      return;
    }
    this.queue.push({ ...a });
    this.schedule(this.o.flushDelayMs ?? 100);
  }

  private schedule(ms: number): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush(this.o.maxBatch ?? 25);
      if (this.queue.length > 0) this.schedule(0);
    }, ms);
  }

  /**
   * A threat was recorded: the alerts of the firings that made it (queued or
   * stored, without a threat yet) name it.
   */
  link(threatId: string, firings: readonly { rule_id: string; entity_id: string }[]): void {
    for (const q of this.queue) {
      if (q.threat_id !== undefined) continue;
      if (firings.some((f) => f.rule_id === q.rule_id && f.entity_id === q.process.entity_id)) {
        q.threat_id = threatId;
      }
    }
    try {
      this.o.store.linkAlerts(threatId, firings);
    } catch (e) {
      this.counters.failures++;
      this.o.logger.error("Cannot link alerts to their threat", {
        error: e instanceof Error ? e.message : String(e),
        "bm.threat_id": threatId,
      });
    }
  }

  /**
   * Commits what is queued (at most `max`, oldest first), then logs, exports
   * and marks the new alerts reported.
   */
  flush(max = Infinity): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.queue.length === 0) return;
    const batch = this.queue.length <= max ? this.queue : this.queue.slice(0, max);
    this.queue = this.queue.length <= max ? [] : this.queue.slice(max);
    let writes;
    try {
      writes = this.o.store.writeAlerts(batch);
    } catch (e) {
      this.counters.failures++;
      this.counters.dropped += batch.length;
      this.o.logger.error("Cannot record alerts", {
        error: e instanceof Error ? e.message : String(e),
        "bm.alerts": batch.length,
      });
      return;
    }
    const fresh: { a: NewAlert; id: string }[] = [];
    writes.forEach((w, i) => {
      if (w.created) fresh.push({ a: batch[i]!, id: w.id });
      else this.counters.merged++;
    });
    this.counters.created += fresh.length;
    this.report(fresh, false);
  }

  /** Reports the alerts an earlier run committed but never logged and exported. */
  reportUnreported(): void {
    let late: Alert[];
    try {
      late = this.o.store.unreportedAlerts(10_000);
    } catch (e) {
      this.o.logger.error("Cannot read unreported alerts", {
        error: e instanceof Error ? e.message : String(e),
      });
      return;
    }
    this.counters.lateReported += late.length;
    this.report(
      late.map((a) => ({
        id: a.id,
        a: {
          rule_id: a.rule_id,
          name: a.name,
          severity: a.severity,
          score: a.score,
          techniques: a.techniques,
          tactics: a.tactics,
          time: a.first_seen,
          process: a.process,
          lineage: a.lineage,
          events: a.events,
          ...(a.threat_id !== null ? { threat_id: a.threat_id } : {}),
        },
      })),
      true,
    );
  }

  /** Flushes what is queued and stops taking firings. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private report(items: { a: NewAlert; id: string }[], late: boolean): void {
    if (items.length === 0) return;
    const exporter = this.o.exporter();
    for (const { a, id } of items) {
      this.o.logger.info(late ? "Alert (reported after a restart)" : "Alert", {
        "event.kind": "alert",
        "bm.alert_id": id,
        "rule.id": a.rule_id,
        "rule.name": a.name,
        "event.severity": a.severity,
        "bm.score": a.score,
        "process.pid": a.process.pid,
        "process.executable": a.process.executable,
        ...(a.threat_id !== undefined ? { "bm.threat_id": a.threat_id } : {}),
      });
      exporter?.alert(a, id);
    }
    if (exporter !== undefined && !exporter.flush()) return; // not exported: reported next start
    try {
      this.o.store.markAlertsReported(items.map((x) => x.id));
    } catch (e) {
      this.counters.failures++;
      this.o.logger.warn("Cannot mark alerts reported (they will be reported again)", {
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }
}
