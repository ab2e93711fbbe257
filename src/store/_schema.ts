/**
 * Schema migrations, applied in order; `PRAGMA user_version` is the number
 * applied. Never edit a shipped migration: append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: threats, their actions, the quarantine index, allowed threat names.
  `CREATE TABLE threats (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     type TEXT NOT NULL,
     detection_time INTEGER NOT NULL,
     recorded_time INTEGER NOT NULL,
     updated_time INTEGER NOT NULL,
     status TEXT NOT NULL,
     severity TEXT NOT NULL,
     mode TEXT NOT NULL,
     score REAL NOT NULL,
     threshold REAL NOT NULL,
     techniques TEXT NOT NULL,
     tactics TEXT NOT NULL,
     rule_ids TEXT NOT NULL,
     process TEXT NOT NULL,
     detail TEXT NOT NULL
   );
   CREATE INDEX threats_by_time ON threats (detection_time);
   CREATE TABLE actions (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     threat_id TEXT NOT NULL REFERENCES threats (id) ON DELETE CASCADE,
     type TEXT NOT NULL,
     target TEXT NOT NULL,
     result TEXT NOT NULL,
     detail TEXT,
     time INTEGER NOT NULL
   );
   CREATE INDEX actions_by_threat ON actions (threat_id);
   CREATE TABLE quarantine (
     id TEXT PRIMARY KEY,
     threat_id TEXT NOT NULL REFERENCES threats (id) ON DELETE CASCADE,
     original_path TEXT NOT NULL,
     uid INTEGER NOT NULL,
     gid INTEGER NOT NULL,
     mode INTEGER NOT NULL,
     size INTEGER NOT NULL,
     sha256 TEXT NOT NULL,
     quarantined_time INTEGER NOT NULL,
     restored_time INTEGER,
     restored_path TEXT
   );
   CREATE INDEX quarantine_by_threat ON quarantine (threat_id);
   CREATE TABLE allowed_threats (
     name TEXT PRIMARY KEY,
     added_time INTEGER NOT NULL
   );`,
  // 2: alerts (every rule firing), and the threats' reported flag: a threat
  // committed but not yet logged and exported when the daemon died is
  // reported at the next start. Threats stored before this were reported.
  `CREATE TABLE alerts (
     id TEXT PRIMARY KEY,
     rule_id TEXT NOT NULL,
     name TEXT NOT NULL,
     severity TEXT NOT NULL,
     severity_rank INTEGER NOT NULL,
     score REAL NOT NULL,
     techniques TEXT NOT NULL,
     tactics TEXT NOT NULL,
     first_seen INTEGER NOT NULL,
     last_seen INTEGER NOT NULL,
     count INTEGER NOT NULL,
     recorded_time INTEGER NOT NULL,
     entity_id TEXT NOT NULL,
     process TEXT NOT NULL,
     lineage TEXT NOT NULL,
     events TEXT NOT NULL,
     threat_id TEXT REFERENCES threats (id) ON DELETE SET NULL,
     reported INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX alerts_by_time ON alerts (last_seen);
   CREATE INDEX alerts_by_rule_entity ON alerts (rule_id, entity_id, last_seen);
   CREATE INDEX alerts_by_threat ON alerts (threat_id);
   CREATE INDEX alerts_unreported ON alerts (reported) WHERE reported = 0;
   ALTER TABLE threats ADD COLUMN reported INTEGER NOT NULL DEFAULT 1;
   CREATE INDEX threats_unreported ON threats (reported) WHERE reported = 0;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
