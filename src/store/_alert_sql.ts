/**
 * The alerts table's SQL, run by SqliteThreatStore inside its transactions
 * (one file, one connection: alerts and threats commit together and a
 * threat id an alert names is checked by a foreign key).
 */
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import type { Severity } from "../engine/verdict.ts";
import { num, type Row, str } from "./_sql_row.ts";
import {
  type Alert,
  ALERT_MERGE_WINDOW_MS,
  type AlertQuery,
  type AlertRetention,
  type AlertSummary,
  type AlertWrite,
  type NewAlert,
  SEVERITIES,
  severityRank,
} from "./alert.ts";

const SUMMARY_COLUMNS =
  "id, rule_id, name, severity, score, first_seen, last_seen, count, process, threat_id";

/** Inserts or merges each firing; runs inside the caller's transaction. */
export function writeAlertRows(
  db: DatabaseSync,
  batch: readonly NewAlert[],
  now: number,
): AlertWrite[] {
  const find = db.prepare(
    `SELECT id, first_seen, last_seen FROM alerts
     WHERE rule_id = ? AND entity_id = ? AND last_seen >= ? AND first_seen <= ?
     ORDER BY last_seen DESC LIMIT 1`,
  );
  const merge = db.prepare(
    `UPDATE alerts SET count = count + 1, first_seen = MIN(first_seen, ?),
       last_seen = MAX(last_seen, ?), threat_id = COALESCE(threat_id, ?) WHERE id = ?`,
  );
  const insert = db.prepare(
    `INSERT INTO alerts (id, rule_id, name, severity, severity_rank, score, techniques, tactics,
       first_seen, last_seen, count, recorded_time, entity_id, process, lineage, events,
       threat_id, reported)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, 0)`,
  );
  const out: AlertWrite[] = [];
  for (const a of batch) {
    const w = ALERT_MERGE_WINDOW_MS;
    const hit = find.get(a.rule_id, a.process.entity_id, a.time - w, a.time + w);
    if (hit) {
      const id = str(hit.id);
      merge.run(a.time, a.time, a.threat_id ?? null, id);
      out.push({ id, created: false });
      continue;
    }
    const id = crypto.randomUUID();
    insert.run(
      id,
      a.rule_id,
      a.name,
      a.severity,
      severityRank(a.severity),
      a.score,
      JSON.stringify(a.techniques),
      JSON.stringify(a.tactics),
      a.time,
      a.time,
      now,
      a.process.entity_id,
      JSON.stringify(a.process),
      JSON.stringify(a.lineage),
      JSON.stringify(a.events),
      a.threat_id ?? null,
    );
    out.push({ id, created: true });
  }
  return out;
}

export function linkAlertRows(
  db: DatabaseSync,
  threatId: string,
  firings: readonly { rule_id: string; entity_id: string }[],
): void {
  const link = db.prepare(
    "UPDATE alerts SET threat_id = ? WHERE rule_id = ? AND entity_id = ? AND threat_id IS NULL",
  );
  for (const f of firings) link.run(threatId, f.rule_id, f.entity_id);
}

export function getAlertRow(db: DatabaseSync, id: string): Alert | undefined {
  const row = db.prepare("SELECT * FROM alerts WHERE id = ?").get(id);
  return row ? toAlert(row) : undefined;
}

export function listAlertRows(db: DatabaseSync, q: AlertQuery): AlertSummary[] {
  const cond: string[] = [];
  const params: SQLInputValue[] = [];
  if (q.minSeverity !== undefined) {
    cond.push("severity_rank >= ?");
    params.push(severityRank(q.minSeverity));
  }
  if (q.since !== undefined) {
    cond.push("last_seen >= ?");
    params.push(q.since);
  }
  const where = cond.length ? `WHERE ${cond.join(" AND ")}` : "";
  const limit = q.limit !== undefined ? `LIMIT ${Math.max(0, Math.floor(q.limit))}` : "";
  return db.prepare(
    `SELECT ${SUMMARY_COLUMNS} FROM alerts ${where}
     ORDER BY last_seen DESC, recorded_time DESC, rowid DESC ${limit}`,
  ).all(...params).map(toSummary);
}

export function alertCountRows(db: DatabaseSync): Record<Severity, number> {
  const out = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (
    const r of db.prepare("SELECT severity, COUNT(*) AS n FROM alerts GROUP BY severity").all()
  ) {
    const s = str(r.severity) as Severity;
    if (s in out) out[s] = num(r.n);
  }
  return out;
}

export function markAlertRowsReported(db: DatabaseSync, ids: readonly string[]): void {
  const mark = db.prepare("UPDATE alerts SET reported = 1 WHERE id = ?");
  for (const id of ids) mark.run(id);
}

export function unreportedAlertRows(db: DatabaseSync, limit: number): Alert[] {
  return db.prepare(
    `SELECT * FROM alerts WHERE reported = 0 ORDER BY recorded_time, rowid LIMIT ?`,
  ).all(Math.max(0, Math.floor(limit))).map(toAlert);
}

/** Oldest first by last seen; returns how many were deleted. */
export function pruneAlertRows(db: DatabaseSync, r: AlertRetention, now: number): number {
  let n = 0;
  if (r.maxAgeDays > 0) {
    n += Number(
      db.prepare("DELETE FROM alerts WHERE last_seen < ?").run(now - r.maxAgeDays * 86_400_000)
        .changes,
    );
  }
  if (r.maxCount > 0) {
    // Count, then delete only the excess, oldest first along the time index:
    // a "NOT IN (newest N)" would sort the whole table at every prune.
    const total = num(db.prepare("SELECT COUNT(*) AS n FROM alerts").get()?.n);
    if (total > r.maxCount) {
      n += Number(
        db.prepare(
          `DELETE FROM alerts WHERE rowid IN
             (SELECT rowid FROM alerts ORDER BY last_seen, recorded_time LIMIT ?)`,
        ).run(total - r.maxCount).changes,
      );
    }
  }
  return n;
}

function toSummary(row: Row): AlertSummary {
  const sev = str(row.severity) as Severity;
  return {
    id: str(row.id),
    rule_id: str(row.rule_id),
    name: str(row.name),
    severity: SEVERITIES.includes(sev) ? sev : "low",
    score: num(row.score),
    first_seen: num(row.first_seen),
    last_seen: num(row.last_seen),
    count: num(row.count),
    process: JSON.parse(str(row.process)),
    threat_id: row.threat_id === null || row.threat_id === undefined ? null : str(row.threat_id),
  };
}

function toAlert(row: Row): Alert {
  return {
    ...toSummary(row),
    techniques: JSON.parse(str(row.techniques)),
    tactics: JSON.parse(str(row.tactics)),
    recorded_time: num(row.recorded_time),
    lineage: JSON.parse(str(row.lineage)),
    events: JSON.parse(str(row.events)),
  };
}
