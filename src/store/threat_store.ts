/**
 * The ThreatStore port and its SQLite implementation.
 *
 * Invariant 6 (what `bm threats` shows survives `kill -9` of the daemon):
 * `record()` commits before it returns, so the daemon logs or reports a
 * threat only after it is on disk. The database runs in WAL mode with
 * `synchronous=FULL`: NORMAL would already survive a killed process (the WAL
 * is in the page cache), but can lose the last commits on power loss, and a
 * threat whose log line already left the machine must not vanish. Threats
 * are rare, so the fsync per commit costs nothing that matters
 * (scripts/bench_threat_store.ts prints the figures).
 *
 * Retention (`RetentionOptions`): threats older than `maxAgeDays` (default 90)
 * and beyond the newest `maxCount` (default 10000) are deleted at open and
 * every 100 records; threats that still hold a file in the quarantine vault
 * are kept whatever their age, so a quarantined file can always be restored.
 *
 * The same file holds the alerts (every rule firing, src/store/alert.ts):
 * SqliteThreatStore implements AlertStore too, so an alert can name its
 * threat by a foreign key. Alert batches commit without an fsync of their
 * own (`synchronous=NORMAL` for that transaction: a killed process loses
 * nothing, power loss may lose the last ones, and the next threat's commit
 * syncs them): they are frequent, and the daemon writes them between
 * batches of events.
 *
 * At-least-once reporting: a threat or alert is stored with `reported = 0`
 * and marked when the daemon has logged and exported it (that mark is not
 * fsynced either: losing it only reports the threat again); the daemon
 * reports the unmarked ones at its next start.
 */
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import * as fs from "node:fs";
import type { Clock } from "../clock.ts";
import { BmError } from "../errors.ts";
import type { Verdict } from "../engine/verdict.ts";
import { ensurePrivateDir, errText } from "./state_dir.ts";
import {
  type ActionRecord,
  type AllowedThreat,
  initialStatus,
  type QuarantineEntry,
  type Threat,
  THREAT_STATUSES,
  type ThreatStatus,
  type ThreatSummary,
} from "./threat.ts";
import { MIGRATIONS, SCHEMA_VERSION } from "./_schema.ts";
import { num, type Row, str } from "./_sql_row.ts";
import {
  type Alert,
  type AlertQuery,
  type AlertRetention,
  type AlertStore,
  type AlertSummary,
  type AlertWrite,
  DEFAULT_ALERT_RETENTION,
  type NewAlert,
} from "./alert.ts";
import type { Severity } from "../engine/verdict.ts";
import {
  alertCountRows,
  getAlertRow,
  linkAlertRows,
  listAlertRows,
  markAlertRowsReported,
  pruneAlertRows,
  unreportedAlertRows,
  writeAlertRows,
} from "./_alert_sql.ts";

export interface ListQuery {
  /** Only this status. */
  status?: ThreatStatus;
  /** Newest first, at most this many (default: all). */
  limit?: number;
}

export interface QuarantineQuery {
  threatId?: string;
  /** Include entries already restored (default false). */
  includeRestored?: boolean;
}

export interface RetentionOptions {
  /** Threats older than this are deleted (default 90). 0 disables. */
  maxAgeDays: number;
  /** At most this many threats are kept, newest first (default 10000). 0 disables. */
  maxCount: number;
}

export const DEFAULT_RETENTION: RetentionOptions = { maxAgeDays: 90, maxCount: 10_000 };

/**
 * Where threats live. The daemon builds the SQLite one; upper-layer unit
 * tests use FakeThreatStore. Every method is synchronous and each write is
 * committed when it returns.
 */
export interface ThreatStore {
  /** Writes and commits the verdict as a new threat; returns its id (UUID). */
  record(verdict: Verdict, status?: ThreatStatus): string;
  /** Appends the outcome of one action. */
  addAction(threatId: string, action: ActionRecord): void;
  setStatus(threatId: string, status: ThreatStatus): void;
  get(id: string): Threat | undefined;
  /** Newest first. */
  list(query?: ListQuery): ThreatSummary[];
  addQuarantine(entry: QuarantineEntry): void;
  getQuarantine(id: string): QuarantineEntry | undefined;
  /** Oldest first. */
  listQuarantine(query?: QuarantineQuery): QuarantineEntry[];
  markRestored(quarantineId: string, path: string, time: number): void;
  /** False when the name was already there. */
  addAllowed(name: string): boolean;
  /** False when the name was not there. */
  removeAllowed(name: string): boolean;
  listAllowed(): AllowedThreat[];
  /** Applies retention; returns how many threats were deleted. */
  prune(): number;
  /** Marks a threat as logged and exported (at-least-once reporting). */
  markReported(threatId: string): void;
  /** Threats committed but never reported (the daemon died in between), oldest first. */
  unreported(limit?: number): Threat[];
  close(): void;
}

export interface SqliteStoreOptions {
  /** The database file. Its directory is created 0700 unless `readOnly`. */
  path: string;
  clock: Clock;
  /** Open for reading only: never creates, migrates or writes anything. */
  readOnly?: boolean;
  retention?: Partial<RetentionOptions>;
  alertRetention?: Partial<AlertRetention>;
  /** Default "FULL" (see the file comment); "NORMAL" exists for the benchmark's baseline. */
  synchronous?: "FULL" | "NORMAL";
}

const PRUNE_EVERY = 100;
const SQLITE_MAGIC = "SQLite format 3\0";

export class SqliteThreatStore implements ThreatStore, AlertStore {
  readonly path: string;
  private readonly db: DatabaseSync;
  private readonly clock: Clock;
  private readonly retention: RetentionOptions;
  private readonly alertRetention: AlertRetention;
  private readonly synchronous: "FULL" | "NORMAL";
  private sinceprune = 0;
  private alertsSincePrune = 0;
  /** Alerts deleted by retention since this store was opened. */
  alertsPruned = 0;

  /** Throws BmError naming the file when it cannot be opened, is not a bm store or is corrupt. */
  constructor(options: SqliteStoreOptions) {
    this.path = options.path;
    this.clock = options.clock;
    this.retention = { ...DEFAULT_RETENTION, ...options.retention };
    this.alertRetention = { ...DEFAULT_ALERT_RETENTION, ...options.alertRetention };
    this.synchronous = options.synchronous === "NORMAL" ? "NORMAL" : "FULL";
    const readOnly = options.readOnly ?? false;
    checkHeader(this.path);
    if (!readOnly) {
      ensurePrivateDir(dirname(this.path));
      precreate(this.path);
    }
    try {
      this.db = new DatabaseSync(this.path, { readOnly, enableForeignKeyConstraints: true });
    } catch (e) {
      throw this.fail("open", e);
    }
    try {
      this.db.exec("PRAGMA busy_timeout = 5000");
      const version = this.userVersion();
      if (version > SCHEMA_VERSION) {
        throw new BmError(
          `Cannot open threat store "${this.path}": schema version ${version} is newer than this bm (${SCHEMA_VERSION})`,
        );
      }
      if (readOnly) {
        if (version !== SCHEMA_VERSION) {
          throw new BmError(
            `Cannot read threat store "${this.path}": schema version ${version}, expected ${SCHEMA_VERSION} (run a bm command as root to migrate it)`,
          );
        }
      } else {
        this.db.exec("PRAGMA journal_mode = WAL");
        this.db.exec(`PRAGMA synchronous = ${this.synchronous}`);
        this.migrate(version);
        for (const suffix of ["", "-wal", "-shm"]) {
          try {
            fs.chmodSync(this.path + suffix, 0o600);
          } catch { /* -wal/-shm may not exist yet; SQLite gives them the db's mode */ }
        }
        this.prune();
        this.pruneAlerts();
      }
    } catch (e) {
      try {
        this.db.close();
      } catch { /* already failing */ }
      throw this.fail("open", e);
    }
  }

  record(verdict: Verdict, status: ThreatStatus = initialStatus(verdict)): string {
    const id = crypto.randomUUID();
    const now = this.clock.now();
    const p = verdict.process;
    const detail = {
      score_path: verdict.score_path,
      hits: verdict.hits,
      lineage: verdict.lineage,
      events: verdict.events,
      requested_actions: verdict.actions,
    };
    this.write("record threat", () => {
      this.db.prepare(
        `INSERT INTO threats (id, name, type, detection_time, recorded_time, updated_time, status,
           severity, mode, score, threshold, techniques, tactics, rule_ids, process, detail,
           reported)
         VALUES (?, ?, 'behavior', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
      ).run(
        id,
        verdict.name,
        verdict.time,
        now,
        now,
        status,
        verdict.severity,
        verdict.mode,
        verdict.score,
        verdict.threshold,
        JSON.stringify(verdict.techniques),
        JSON.stringify(verdict.tactics),
        JSON.stringify(verdict.rule_ids),
        JSON.stringify({
          pid: p.pid,
          entity_id: p.entity_id,
          executable: p.executable,
          args: p.args,
          start: p.start,
        }),
        JSON.stringify(detail),
      );
    });
    if (++this.sinceprune >= PRUNE_EVERY) this.prune();
    return id;
  }

  addAction(threatId: string, a: ActionRecord): void {
    this.write("record action", () => {
      this.mustExist(threatId);
      this.db.prepare(
        "INSERT INTO actions (threat_id, type, target, result, detail, time) VALUES (?, ?, ?, ?, ?, ?)",
      ).run(threatId, a.type, a.target, a.result, a.detail ?? null, a.time);
    });
  }

  setStatus(threatId: string, status: ThreatStatus): void {
    this.write("update status", () => {
      const r = this.db.prepare("UPDATE threats SET status = ?, updated_time = ? WHERE id = ?")
        .run(status, this.clock.now(), threatId);
      if (Number(r.changes) === 0) throw unknownThreat(threatId);
    });
  }

  markReported(threatId: string): void {
    // No fsync of its own: a flag lost to power loss only reports the threat again.
    this.relaxed(() =>
      this.write("mark threat reported", () => {
        this.db.prepare("UPDATE threats SET reported = 1 WHERE id = ?").run(threatId);
      })
    );
  }

  unreported(limit = 1000): Threat[] {
    return this.read("list unreported threats", () =>
      this.db.prepare(
        "SELECT id FROM threats WHERE reported = 0 ORDER BY recorded_time, rowid LIMIT ?",
      ).all(Math.max(0, Math.floor(limit))).map((r) => this.get(str(r.id))!));
  }

  writeAlerts(batch: readonly NewAlert[]): AlertWrite[] {
    if (batch.length === 0) return [];
    return this.relaxed(() => {
      const out = this.write(
        "record alerts",
        () => writeAlertRows(this.db, batch, this.clock.now()),
      );
      this.alertsSincePrune += batch.length;
      if (this.alertsSincePrune >= PRUNE_EVERY) this.pruneAlerts();
      return out;
    });
  }

  /** Runs `fn`'s transactions with `synchronous=NORMAL` (see the file comment). */
  private relaxed<T>(fn: () => T): T {
    if (this.synchronous !== "FULL") return fn();
    this.db.exec("PRAGMA synchronous = NORMAL");
    try {
      return fn();
    } finally {
      this.db.exec("PRAGMA synchronous = FULL");
    }
  }

  linkAlerts(threatId: string, firings: readonly { rule_id: string; entity_id: string }[]): void {
    this.write("link alerts", () => linkAlertRows(this.db, threatId, firings));
  }

  getAlert(id: string): Alert | undefined {
    return this.read("read alert", () => getAlertRow(this.db, id));
  }

  listAlerts(query: AlertQuery = {}): AlertSummary[] {
    return this.read("list alerts", () => listAlertRows(this.db, query));
  }

  alertCounts(): Record<Severity, number> {
    return this.read("count alerts", () => alertCountRows(this.db));
  }

  markAlertsReported(ids: readonly string[]): void {
    if (ids.length === 0) return;
    this.write("mark alerts reported", () => markAlertRowsReported(this.db, ids));
  }

  unreportedAlerts(limit = 1000): Alert[] {
    return this.read("list unreported alerts", () => unreportedAlertRows(this.db, limit));
  }

  pruneAlerts(): number {
    this.alertsSincePrune = 0;
    const n = this.write(
      "apply alert retention",
      () => pruneAlertRows(this.db, this.alertRetention, this.clock.now()),
    );
    this.alertsPruned += n;
    return n;
  }

  get(id: string): Threat | undefined {
    return this.read("read threat", () => {
      const row = this.db.prepare("SELECT * FROM threats WHERE id = ?").get(id);
      if (!row) return undefined;
      const actions = this.db.prepare(
        "SELECT type, target, result, detail, time FROM actions WHERE threat_id = ? ORDER BY seq",
      ).all(id).map(toAction);
      const detail = JSON.parse(str(row.detail)) as Pick<
        Threat,
        "score_path" | "hits" | "lineage" | "events" | "requested_actions"
      >;
      return {
        ...toSummary(row),
        recorded_time: num(row.recorded_time),
        updated_time: num(row.updated_time),
        mode: str(row.mode) as Threat["mode"],
        techniques: JSON.parse(str(row.techniques)),
        tactics: JSON.parse(str(row.tactics)),
        rule_ids: JSON.parse(str(row.rule_ids)),
        score: num(row.score),
        threshold: num(row.threshold),
        score_path: detail.score_path,
        hits: detail.hits,
        lineage: detail.lineage,
        events: detail.events,
        requested_actions: detail.requested_actions,
        actions,
      };
    });
  }

  list(query: ListQuery = {}): ThreatSummary[] {
    return this.read("list threats", () => {
      const where = query.status ? "WHERE status = ?" : "";
      const params: SQLInputValue[] = query.status ? [query.status] : [];
      const limit = query.limit !== undefined
        ? `LIMIT ${Math.max(0, Math.floor(query.limit))}`
        : "";
      return this.db.prepare(
        `SELECT id, name, type, detection_time, status, severity, process FROM threats ${where}
         ORDER BY detection_time DESC, recorded_time DESC ${limit}`,
      ).all(...params).map(toSummary);
    });
  }

  addQuarantine(q: QuarantineEntry): void {
    this.write("record quarantine", () => {
      this.mustExist(q.threat_id);
      this.db.prepare(
        `INSERT INTO quarantine (id, threat_id, original_path, uid, gid, mode, size, sha256,
           quarantined_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        q.id,
        q.threat_id,
        q.original_path,
        q.uid,
        q.gid,
        q.mode,
        q.size,
        q.sha256,
        q.quarantined_time,
      );
    });
  }

  getQuarantine(id: string): QuarantineEntry | undefined {
    return this.read("read quarantine", () => {
      const row = this.db.prepare("SELECT * FROM quarantine WHERE id = ?").get(id);
      return row ? toQuarantine(row) : undefined;
    });
  }

  listQuarantine(query: QuarantineQuery = {}): QuarantineEntry[] {
    return this.read("list quarantine", () => {
      const cond: string[] = [];
      const params: SQLInputValue[] = [];
      if (query.threatId !== undefined) {
        cond.push("threat_id = ?");
        params.push(query.threatId);
      }
      if (!query.includeRestored) cond.push("restored_time IS NULL");
      const where = cond.length ? `WHERE ${cond.join(" AND ")}` : "";
      return this.db.prepare(`SELECT * FROM quarantine ${where} ORDER BY quarantined_time, rowid`)
        .all(...params).map(toQuarantine);
    });
  }

  markRestored(quarantineId: string, path: string, time: number): void {
    this.write("record restore", () => {
      const r = this.db.prepare(
        "UPDATE quarantine SET restored_time = ?, restored_path = ? WHERE id = ?",
      ).run(time, path, quarantineId);
      if (Number(r.changes) === 0) {
        throw new BmError(`Unknown quarantine entry "${quarantineId}"`, 2);
      }
    });
  }

  addAllowed(name: string): boolean {
    return this.write("add allowed threat", () =>
      Number(
        this.db.prepare("INSERT OR IGNORE INTO allowed_threats (name, added_time) VALUES (?, ?)")
          .run(name, this.clock.now()).changes,
      ) > 0);
  }

  removeAllowed(name: string): boolean {
    return this.write(
      "remove allowed threat",
      () =>
        Number(this.db.prepare("DELETE FROM allowed_threats WHERE name = ?").run(name).changes) > 0,
    );
  }

  listAllowed(): AllowedThreat[] {
    return this.read(
      "list allowed threats",
      () =>
        this.db.prepare("SELECT name, added_time FROM allowed_threats ORDER BY name").all().map((
          r,
        ) => ({ name: str(r.name), added_time: num(r.added_time) })),
    );
  }

  prune(): number {
    this.sinceprune = 0;
    const { maxAgeDays, maxCount } = this.retention;
    // A threat that still holds a file in the vault is never pruned.
    const keep = "id NOT IN (SELECT threat_id FROM quarantine WHERE restored_time IS NULL)";
    return this.write("apply retention", () => {
      let n = 0;
      if (maxAgeDays > 0) {
        const cutoff = this.clock.now() - maxAgeDays * 86_400_000;
        n += Number(
          this.db.prepare(`DELETE FROM threats WHERE detection_time < ? AND ${keep}`).run(cutoff)
            .changes,
        );
      }
      if (maxCount > 0) {
        n += Number(
          this.db.prepare(
            `DELETE FROM threats WHERE ${keep} AND id NOT IN
               (SELECT id FROM threats ORDER BY detection_time DESC, recorded_time DESC LIMIT ?)`,
          ).run(maxCount).changes,
        );
      }
      return n;
    });
  }

  /** `PRAGMA integrity_check` result: "ok" when sound. */
  integrityCheck(): string {
    return this.read(
      "check integrity",
      () =>
        this.db.prepare("PRAGMA integrity_check").all().map((r) => String(Object.values(r)[0]))
          .join("; "),
    );
  }

  close(): void {
    this.db.close();
  }

  private userVersion(): number {
    const row = this.db.prepare("PRAGMA user_version").get();
    return num(row?.user_version ?? 0);
  }

  private migrate(from: number): void {
    for (let v = from; v < SCHEMA_VERSION; v++) {
      this.db.exec("BEGIN IMMEDIATE");
      try {
        // Another process may have migrated while we waited for the lock.
        if (this.userVersion() > v) {
          this.db.exec("COMMIT");
          continue;
        }
        this.db.exec(MIGRATIONS[v]!);
        this.db.exec(`PRAGMA user_version = ${v + 1}`);
        this.db.exec("COMMIT");
      } catch (e) {
        this.db.exec("ROLLBACK");
        throw e;
      }
    }
  }

  private mustExist(threatId: string): void {
    if (!this.db.prepare("SELECT 1 FROM threats WHERE id = ?").get(threatId)) {
      throw unknownThreat(threatId);
    }
  }

  private write<T>(what: string, fn: () => T): T {
    try {
      this.db.exec("BEGIN IMMEDIATE");
    } catch (e) {
      throw this.fail(what, e);
    }
    try {
      const r = fn();
      this.db.exec("COMMIT");
      return r;
    } catch (e) {
      try {
        this.db.exec("ROLLBACK");
      } catch { /* the transaction is gone already */ }
      throw this.fail(what, e);
    }
  }

  private read<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw this.fail(what, e);
    }
  }

  private fail(what: string, e: unknown): BmError {
    if (e instanceof BmError) return e;
    return new BmError(`Cannot ${what} in threat store "${this.path}": ${errText(e)}`);
  }
}

function unknownThreat(id: string): BmError {
  return new BmError(`Unknown threat "${id}"`, 2);
}

/**
 * Refuses a file that exists, is not empty and is not an SQLite database,
 * before SQLite touches it: nothing is created, truncated or deleted.
 */
function checkHeader(path: string): void {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ENOENT") return;
    throw new BmError(`Cannot open threat store "${path}": ${errText(e)}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new BmError(`Cannot open threat store "${path}": not a regular file`);
    if (st.size === 0) return;
    const head = new Uint8Array(16);
    const n = fs.readSync(fd, head, 0, 16, 0);
    if (n < 16 || new TextDecoder().decode(head) !== SQLITE_MAGIC) {
      throw new BmError(
        `Cannot open threat store "${path}": file is not an SQLite database (corrupt or foreign; left untouched)`,
      );
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Creates the database file 0600 so SQLite gives its -wal and -shm files the same mode. */
function precreate(path: string): void {
  try {
    fs.closeSync(
      fs.openSync(
        path,
        fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW,
        0o600,
      ),
    );
  } catch (e) {
    throw new BmError(`Cannot create threat store "${path}": ${errText(e)}`);
  }
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? (i === 0 ? "/" : ".") : path.slice(0, i);
}

function toSummary(row: Row): ThreatSummary {
  const status = str(row.status) as ThreatStatus;
  return {
    id: str(row.id),
    name: str(row.name),
    type: "behavior",
    detection_time: num(row.detection_time),
    status: (THREAT_STATUSES as readonly string[]).includes(status) ? status : "active",
    severity: str(row.severity) as ThreatSummary["severity"],
    process: JSON.parse(str(row.process)),
  };
}

function toAction(row: Row): ActionRecord {
  const a: ActionRecord = {
    type: str(row.type) as ActionRecord["type"],
    target: str(row.target),
    result: str(row.result) as ActionRecord["result"],
    time: num(row.time),
  };
  if (row.detail !== null && row.detail !== undefined) a.detail = str(row.detail);
  return a;
}

function toQuarantine(row: Row): QuarantineEntry {
  const q: QuarantineEntry = {
    id: str(row.id),
    threat_id: str(row.threat_id),
    original_path: str(row.original_path),
    uid: num(row.uid),
    gid: num(row.gid),
    mode: num(row.mode),
    size: num(row.size),
    sha256: str(row.sha256),
    quarantined_time: num(row.quarantined_time),
  };
  if (row.restored_time !== null && row.restored_time !== undefined) {
    q.restored_time = num(row.restored_time);
  }
  if (row.restored_path !== null && row.restored_path !== undefined) {
    q.restored_path = str(row.restored_path);
  }
  return q;
}
