/**
 * Exports detections (and, when `logging.eventExport.rawEvents` is on, every
 * event) as JSON lines with Elastic Common Schema field names, for fleets to
 * ship to their SIEM with the collector they already run (Filebeat, Fluent
 * Bit, Vector ...). Lines are routed by `event.kind`: "alert" for a
 * detection (a threat, `event.dataset` "bm.detection") and for an alert (one
 * rule firing, `event.dataset` "bm.alert"), "event" for a raw event. Raw event lines are also trace lines:
 * `bm replay` reads them (it skips the alert lines as bad lines, counted).
 *
 * Lines are buffered per batch and written with one call by `flush()`.
 */
import * as fs from "node:fs";
import type { BmEvent } from "../sensor/event.ts";
import type { Verdict } from "../engine/verdict.ts";
import { VERSION } from "../version.ts";
import type { NewAlert } from "../store/alert.ts";

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

/** ECS `threat`: the ATT&CK techniques and tactics of a detection or alert. */
function attack(d: { techniques: string[]; tactics: string[] }) {
  return { framework: "MITRE ATT&CK", technique: { id: d.techniques }, tactic: { id: d.tactics } };
}

/** ECS `process` fields every alert line carries (detections add env_vars). */
function processFields(p: Verdict["process"]) {
  return {
    pid: p.pid,
    entity_id: p.entity_id,
    executable: p.executable,
    args: p.args,
    start: new Date(p.start).toISOString(),
  };
}

/** `bm.lineage`: the process chain, root first, without the per-process facts. */
function lineage(chain: Verdict["lineage"]) {
  return chain.map((l) => ({ pid: l.pid, executable: l.executable, args: l.args }));
}

/** ECS `host` and `agent`: which machine and which bm wrote the line. */
function reporter(host: string) {
  return { host: { hostname: host }, agent: { type: "bm", version: VERSION } };
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
    threat: attack(v),
    process: {
      ...processFields(v.process),
      ...(v.process.env_vars ? { env_vars: v.process.env_vars } : {}),
    },
    ...reporter(host),
    bm: {
      threat_id: threatId,
      status,
      mode: v.mode,
      score: v.score,
      threshold: v.threshold,
      rule_ids: v.rule_ids,
      lineage: lineage(v.lineage),
      actions,
    },
  };
}

/** The ECS document for one alert (one rule firing), as first stored. */
export function alertDocument(
  a: NewAlert,
  alertId: string,
  host: string,
): Record<string, unknown> {
  return {
    "@timestamp": new Date(a.time).toISOString(),
    event: {
      kind: "alert",
      module: "bm",
      dataset: "bm.alert",
      category: ["process"],
      type: ["info"],
      action: "rule_firing",
      id: alertId,
      severity: SEVERITY[a.severity],
      risk_score: a.score,
    },
    rule: { id: a.rule_id, name: a.name, ruleset: "bm" },
    threat: attack(a),
    process: processFields(a.process),
    ...(a.process.user !== undefined ? { user: { id: String(a.process.user.id) } } : {}),
    ...reporter(host),
    bm: {
      alert_id: alertId,
      severity: a.severity,
      score: a.score,
      ...(a.threat_id !== undefined ? { threat_id: a.threat_id } : {}),
      lineage: lineage(a.lineage),
      evidence: a.events.map((e) => ({
        "@timestamp": new Date(e["@timestamp"]).toISOString(),
        action: e.event.action,
        pid: e.process.pid,
        ...("file" in e && e.file ? { path: e.file.path } : {}),
      })),
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
  /** Writes the detection at once; false when it could not be written. */
  detection(v: Verdict, threatId: string, status: string, actions: ActionOutcome[]): boolean {
    this.buf.push(JSON.stringify(detectionDocument(v, threatId, status, actions, this.host)));
    return this.flush();
  }
  alert(a: NewAlert, alertId: string): void {
    this.buf.push(JSON.stringify(alertDocument(a, alertId, this.host)));
  }
  /** Writes the buffered lines; false when they could not be written (counted). */
  flush(): boolean {
    if (this.buf.length === 0) return true;
    if (this.fd === undefined) return false;
    const text = this.buf.join("\n") + "\n";
    this.buf = [];
    try {
      fs.writeSync(this.fd, text);
      return true;
    } catch {
      this.failures++;
      return false;
    }
  }
  close(): void {
    this.flush();
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
