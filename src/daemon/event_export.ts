/**
 * Exports detections (and, when `logging.eventExport.rawEvents` is on, every
 * event) as JSON lines with Elastic Common Schema field names, for fleets to
 * ship to their SIEM with the collector they already run (Filebeat, Fluent
 * Bit, Vector ...). Lines are routed by `event.kind`: "alert" for a
 * detection, "event" for a raw event. Raw event lines are also trace lines:
 * `bm replay` reads them (it skips the alert lines as bad lines, counted).
 *
 * Lines are buffered per batch and written with one call by `flush()`.
 */
import * as fs from "node:fs";
import type { BmEvent } from "../sensor/event.ts";
import type { Verdict } from "../engine/verdict.ts";
import { VERSION } from "../version.ts";

const SEVERITY: Record<Verdict["severity"], number> = {
  low: 21,
  medium: 47,
  high: 73,
  critical: 99,
};

export interface ActionOutcome {
  type: string;
  target: string;
  result: string;
  detail?: string;
}

/** The ECS document for one detection. */
export function detectionDocument(
  v: Verdict,
  threatId: string,
  status: string,
  actions: ActionOutcome[],
  host: string,
): Record<string, unknown> {
  return {
    "@timestamp": new Date(v.time).toISOString(),
    event: {
      kind: "alert",
      module: "bm",
      dataset: "bm.detection",
      category: ["malware", "process"],
      type: ["info"],
      action: "behavior_detection",
      id: threatId,
      severity: SEVERITY[v.severity],
      risk_score: v.score,
      outcome: status === "audited" ? "unknown" : "success",
    },
    rule: { name: v.name, id: v.rule_ids[v.rule_ids.length - 1] ?? "", ruleset: "bm" },
    threat: {
      framework: "MITRE ATT&CK",
      technique: { id: v.techniques },
      tactic: { id: v.tactics },
    },
    process: {
      pid: v.process.pid,
      entity_id: v.process.entity_id,
      executable: v.process.executable,
      args: v.process.args,
      start: new Date(v.process.start).toISOString(),
    },
    host: { hostname: host },
    agent: { type: "bm", version: VERSION },
    bm: {
      threat_id: threatId,
      status,
      mode: v.mode,
      score: v.score,
      threshold: v.threshold,
      rule_ids: v.rule_ids,
      lineage: v.lineage.map((l) => ({ pid: l.pid, executable: l.executable, args: l.args })),
      actions,
    },
  };
}

/** The ECS line for one raw event (also a valid trace line). */
export function eventLine(e: BmEvent, host: string): string {
  const { "@timestamp": ts, event, ...rest } = e;
  return JSON.stringify({
    "@timestamp": new Date(ts).toISOString(),
    event: { ...event, kind: "event", module: "bm", dataset: "bm.events" },
    ...rest,
    host: { hostname: host },
  });
}

export class EventExporter {
  private fd: number | undefined;
  private buf: string[] = [];
  /** Lines that could not be written (disk full ...), for health. */
  failures = 0;
  constructor(readonly path: string, readonly rawEvents: boolean, readonly host: string) {
    this.fd = fs.openSync(path, "a", 0o600);
  }
  event(e: BmEvent): void {
    if (this.rawEvents) this.buf.push(eventLine(e, this.host));
  }
  detection(v: Verdict, threatId: string, status: string, actions: ActionOutcome[]): void {
    this.buf.push(JSON.stringify(detectionDocument(v, threatId, status, actions, this.host)));
    this.flush();
  }
  flush(): void {
    if (this.buf.length === 0 || this.fd === undefined) return;
    const text = this.buf.join("\n") + "\n";
    this.buf = [];
    try {
      fs.writeSync(this.fd, text);
    } catch {
      this.failures++;
    }
  }
  close(): void {
    this.flush();
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
