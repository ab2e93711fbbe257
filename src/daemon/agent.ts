/**
 * The agent's event loop, independent of how its parts were built:
 *
 *   sensor.next(batch) -> engine.process(event) -> sensor.respond(auth) at once
 *   -> for each verdict: responder (store.record committed -> actions -> store update)
 *   -> log and export -> mark the threat reported
 *   -> every rule firing to the alert writer (queued; written later, off this path).
 *
 * Auth answers go out before anything slow (the store fsyncs, response
 * signals processes), so a held exec waits only for the engine. When the
 * engine throws on an event, the event is answered with the fail-open default
 * and counted: an auth event is never left to the watchdog by a bug here.
 *
 * At-least-once reporting: a threat is marked reported only after its log
 * line and export line are out; `reportUnreported` (at start) reports the
 * threats an earlier run committed and died before reporting.
 */
import type { Clock } from "../clock.ts";
import type { Verdict } from "../engine/verdict.ts";
import type { BmEvent } from "../sensor/event.ts";
import type { AuthAnswer, FilesystemMark, Sensor, SensorStats } from "../sensor/sensor.ts";
import type { RuleAlert } from "../engine/rule_alert.ts";
import { type ActionRecord, type ThreatStatus, threatVerdict } from "../store/threat.ts";
import type { ThreatStore } from "../store/threat_store.ts";
import type { EventExporter } from "./event_export.ts";
import { HotSources } from "./hot_sources.ts";
import type { Logger } from "./log.ts";

/** What the agent needs of the engine (src/engine/engine.ts Engine). */
export interface EngineLike {
  process(event: BmEvent): { verdicts: Verdict[]; auth?: AuthAnswer; alerts?: RuleAlert[] };
}

/** Where rule firings go (src/daemon/alert_writer.ts AlertWriter). */
export interface AlertSink {
  offer(alert: RuleAlert): void;
  link(threatId: string, firings: readonly { rule_id: string; entity_id: string }[]): void;
}

/**
 * Records the verdict as a threat (committed first), then carries out its
 * actions (src/response/responder.ts Responder.handle).
 */
export type RespondFn = (verdict: Verdict) => Promise<RespondResult>;

export interface RespondResult {
  threatId: string;
  status: ThreatStatus;
  actions: ActionRecord[];
  /** Set when the store could not record the threat; the actions were carried out anyway. */
  storeError?: string;
}

/** A detection the store could not record, kept in memory for `bm health`. */
export interface UnsavedThreat {
  time: number;
  name: string;
  pid: number;
  executable: string;
  status: ThreatStatus;
  actions: string[];
  error: string;
}

/** How many unsaved detections health shows (the newest). */
const MAX_UNSAVED = 20;

export interface AgentParts {
  sensor: Sensor;
  engine: EngineLike;
  store: ThreatStore;
  respond: RespondFn;
  logger: Logger;
  clock: Clock;
  exporter?: EventExporter | undefined;
  /** Auth answer when the engine fails on an event. */
  failOpen: boolean;
  /** Takes exec and close_modified events after they are answered (forwardRtpToBm). */
  rtp?: { offer(event: BmEvent): void } | undefined;
  /** Takes every rule firing after the batch is answered. */
  alerts?: AlertSink | undefined;
  /**
   * Debug only (BM_DEBUG_STALL_AFTER_COMMIT_MS): wait this long after a threat
   * is committed and acted on, before it is logged and exported (the
   * at-least-once test kills the daemon in that window).
   */
  stallAfterCommitMs?: number;
}

export interface AgentCounters {
  batches: number;
  events: number;
  verdicts: number;
  engineErrors: number;
  storeFailures: number;
  responseFailures: number;
  /** Auth answers the agent sent (the sensor counts which arrived in time). */
  authAnswered: number;
}

const BATCH_WAIT_MS = 200;

export class Agent {
  sensor: Sensor;
  engine: EngineLike;
  readonly store: ThreatStore;
  readonly hot = new HotSources();
  readonly counters: AgentCounters = {
    batches: 0,
    events: 0,
    verdicts: 0,
    engineErrors: 0,
    storeFailures: 0,
    responseFailures: 0,
    authAnswered: 0,
  };
  /** Detections the store could not record, newest last (bounded). */
  readonly unsaved: UnsavedThreat[] = [];
  exporter: EventExporter | undefined;
  failOpen: boolean;
  private stopping = false;
  private running: Promise<void> | undefined;
  /** Verdict handling in flight (store, response); awaited on stop. */
  private inflight = new Set<Promise<void>>();
  /** Stats of sensors closed by a reload, so counters never go backwards. */
  private retired: SensorStats | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly parts: AgentParts) {
    this.sensor = parts.sensor;
    this.engine = parts.engine;
    this.store = parts.store;
    this.exporter = parts.exporter;
    this.failOpen = parts.failOpen;
  }

  /** Runs until `stop()` or, for a finite source (replay), until it ends. */
  run(options: { untilSourceEnds?: boolean } = {}): Promise<void> {
    this.running ??= this.loop(options.untilSourceEnds ?? false);
    return this.running;
  }

  private async loop(untilSourceEnds: boolean): Promise<void> {
    while (!this.stopping) {
      const sensor = this.sensor;
      let batch: BmEvent[] | null;
      try {
        // a kill or threat write in flight must not wait for the event loop's next turn
        batch = await sensor.next(BATCH_WAIT_MS, { busy: this.inflight.size > 0 });
      } catch (e) {
        this.parts.logger.error("Sensor read failed", { error: errorText(e) });
        batch = [];
        await sleep(100);
      }
      if (batch === null) {
        if (sensor !== this.sensor) continue; // swapped by a reload
        if (untilSourceEnds) break;
        // a finished source (replay) or a closed sensor: idle until stopped or swapped
        await new Promise<void>((r) => {
          this.wake = r;
          setTimeout(r, BATCH_WAIT_MS);
        });
        this.wake = undefined;
        continue;
      }
      if (batch.length === 0) continue;
      this.counters.batches++;
      // a test build's sensor only (Sensor.debugStallMs): the watchdog and guardian answer
      const stallMs = sensor.debugStallMs ?? 0;
      if (stallMs > 0 && batch.some((e) => e.bm?.auth_id !== undefined)) {
        this.parts.logger.warn("Debug stall: holding a batch with auth events", { ms: stallMs });
        await new Promise<void>((r) => {
          const t = setTimeout(r, stallMs);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = undefined;
      }
      this.processBatch(sensor, batch);
      this.exporter?.flush();
    }
    await Promise.allSettled([...this.inflight]);
  }

  /**
   * Synchronous from the first event to the last auth answer; verdicts are
   * handled after the whole batch is answered, so no held event waits for a
   * store commit.
   */
  private processBatch(sensor: Sensor, batch: BmEvent[]): void {
    const verdicts: Verdict[] = [];
    const alerts: RuleAlert[] = [];
    for (const event of batch) {
      this.counters.events++;
      this.hot.add(event);
      this.exporter?.event(event);
      let out: ReturnType<EngineLike["process"]>;
      try {
        out = this.engine.process(event);
      } catch (e) {
        this.counters.engineErrors++;
        this.parts.logger.error("Engine failed on an event", {
          error: errorText(e),
          "event.action": event.event.action,
          "process.pid": event.process.pid,
        });
        const authId = event.bm?.auth_id;
        if (authId !== undefined) {
          sensor.respond({ authId, allow: this.failOpen, cache: false });
          this.counters.authAnswered++;
        }
        continue;
      }
      if (out.auth) {
        sensor.respond(out.auth);
        this.counters.authAnswered++;
      }
      for (const v of out.verdicts) verdicts.push(v);
      if (out.alerts) { for (const a of out.alerts) alerts.push(a); }
      this.parts.rtp?.offer(event);
    }
    const sink = this.parts.alerts;
    if (sink) { for (const a of alerts) sink.offer(a); }
    // Verdicts with a tree kill act first: a single kill from another verdict
    // would orphan the tree's processes out of it before the tree kill runs.
    const tree = (v: Verdict) => v.actions.some((a) => a.type === "kill" && a.tree) ? 0 : 1;
    verdicts.sort((a, b) => tree(a) - tree(b));
    for (const v of verdicts) this.track(this.handleVerdict(v));
  }

  /**
   * A follow-up event from a stage off the hot path (the RTP scanner): it
   * goes through the same engine, verdict, store and response steps as a
   * sensor event. Never an auth event. Dropped once the agent is stopping.
   */
  inject(event: BmEvent): void {
    if (this.stopping || event.bm?.auth_id !== undefined) return;
    this.processBatch(this.sensor, [event]);
    this.exporter?.flush();
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    p.finally(() => this.inflight.delete(p));
  }

  private async handleVerdict(v: Verdict): Promise<void> {
    this.counters.verdicts++;
    const log = this.parts.logger;
    let r: RespondResult;
    try {
      r = await this.parts.respond(v);
    } catch (e) {
      // The responder acts even when the store fails (storeError below); a
      // throw is a failure it did not foresee. The auth answer already went out.
      this.counters.storeFailures++;
      log.error("Cannot record or act on a threat", {
        error: errorText(e),
        "rule.name": v.name,
        "process.pid": v.process.pid,
      });
      return;
    }
    if (r.actions.some((a) => a.result === "error")) this.counters.responseFailures++;
    if (r.storeError !== undefined) {
      this.counters.storeFailures++;
      const u: UnsavedThreat = {
        time: v.time,
        name: v.name,
        pid: v.process.pid,
        executable: v.process.executable,
        status: r.status,
        actions: r.actions.map((a) => `${a.type} ${a.target}: ${a.result}`),
        error: r.storeError,
      };
      this.unsaved.push(u);
      if (this.unsaved.length > MAX_UNSAVED) this.unsaved.shift();
      log.error("Cannot record a threat: its actions were carried out", {
        error: r.storeError,
        "rule.name": v.name,
        "process.pid": v.process.pid,
        "bm.status": r.status,
        "bm.actions": u.actions,
      });
    }
    if (r.storeError === undefined) {
      this.parts.alerts?.link(
        r.threatId,
        v.hits.map((h) => ({ rule_id: h.rule_id, entity_id: h.entity_id })),
      );
    }
    const stall = this.parts.stallAfterCommitMs ?? 0;
    if (stall > 0 && r.storeError === undefined) {
      log.warn("Debug stall: threat committed, not yet reported", {
        "bm.threat_id": r.threatId,
        ms: stall,
      });
      await sleep(stall);
    }
    this.report(v, r.threatId, r.status, r.actions, r.storeError === undefined, false);
  }

  /** Logs and exports a threat, then marks it reported when it is in the store. */
  private report(
    v: Verdict,
    threatId: string,
    status: ThreatStatus,
    actions: ActionRecord[],
    stored: boolean,
    late: boolean,
  ): void {
    const log = this.parts.logger;
    log.info(late ? "Threat detected (reported after a restart)" : "Threat detected", {
      "event.kind": "alert",
      "bm.threat_id": threatId,
      "rule.name": v.name,
      "bm.status": status,
      "bm.mode": v.mode,
      "process.pid": v.process.pid,
      "process.executable": v.process.executable,
      "bm.actions": actions.map((a) => `${a.type} ${a.target}: ${a.result}`),
    });
    const exported = this.exporter?.detection(v, threatId, status, actions) ?? true;
    if (!stored || !exported) return; // not exported: reported again at the next start
    try {
      this.store.markReported(threatId);
    } catch (e) {
      log.warn("Cannot mark a threat reported (it will be reported again)", {
        error: errorText(e),
        "bm.threat_id": threatId,
      });
    }
  }

  /**
   * Reports the threats an earlier run committed but never logged and
   * exported (it died in between). Called once at start; returns how many.
   */
  reportUnreported(): number {
    let late;
    try {
      late = this.store.unreported();
    } catch (e) {
      this.parts.logger.error("Cannot read unreported threats", { error: errorText(e) });
      return 0;
    }
    for (const t of late) this.report(threatVerdict(t), t.id, t.status, t.actions, true, true);
    return late.length;
  }

  /** Swaps the sensor (settings that need a new one); the old one is closed. */
  async replaceSensor(next: Sensor): Promise<void> {
    const old = this.sensor;
    this.retire(old.stats());
    this.sensor = next;
    this.wake?.();
    await old.close();
  }

  private retire(s: SensorStats): void {
    if (!this.retired) {
      this.retired = { ...s };
      return;
    }
    for (const k of Object.keys(s) as (keyof SensorStats)[]) this.retired[k] += s[k];
  }

  /** Sensor counters since the agent started, across sensor swaps. */
  sensorStats(): SensorStats {
    const s = { ...this.sensor.stats() };
    if (this.retired) {
      for (const k of Object.keys(s) as (keyof SensorStats)[]) s[k] += this.retired[k];
    }
    return s;
  }

  /** What the sensor marks, when marks apply (Linux native sensor). */
  filesystems(): FilesystemMark[] | undefined {
    return this.sensor.filesystems?.();
  }

  /** Stops taking events; resolves when the loop and verdicts in flight are done. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
    await Promise.allSettled([...this.inflight]);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
