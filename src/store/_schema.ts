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
];

export const SCHEMA_VERSION = MIGRATIONS.length;
