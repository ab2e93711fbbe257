import assert from "node:assert/strict";
import * as fs from "node:fs";
import { FakeClock } from "../clock_test_utils.ts";
import { BmError } from "../errors.ts";
import { SqliteThreatStore } from "./threat_store.ts";
import { threatDbPath } from "./state_dir.ts";
import { sampleVerdict } from "./verdict_test_utils.ts";
import { SCHEMA_VERSION } from "./_schema.ts";
import { DatabaseSync } from "node:sqlite";

const DAY = 86_400_000;

function open(dir: string, clock = new FakeClock(1_790_000_100_000), extra = {}) {
  return new SqliteThreatStore({ path: threatDbPath(dir), clock, ...extra });
}

Deno.test("record commits a threat that a second connection reads back whole", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = open(`${dir}/state`);
    const v = sampleVerdict();
    const id = store.record(v);
    assert.match(id, /^[0-9a-f-]{36}$/);
    // A separate read-only connection sees it without any close or checkpoint.
    const ro = open(`${dir}/state`, undefined, { readOnly: true });
    const t = ro.get(id);
    assert.ok(t);
    assert.equal(t.name, v.name);
    assert.equal(t.type, "behavior");
    assert.equal(t.status, "active");
    assert.equal(t.detection_time, v.time);
    assert.deepEqual(t.lineage, v.lineage);
    assert.deepEqual(t.events, v.events);
    assert.deepEqual(t.score_path, v.score_path);
    assert.deepEqual(t.hits, v.hits);
    assert.deepEqual(t.rule_ids, v.rule_ids);
    assert.deepEqual(t.techniques, v.techniques);
    assert.deepEqual(t.requested_actions, v.actions);
    assert.deepEqual(t.process, v.process);
    ro.close();
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("actions and status updates are kept in order; audit verdicts start audited", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = open(dir);
    const id = store.record(sampleVerdict());
    store.addAction(id, { type: "kill", target: "pid 4242", result: "ok", time: 5 });
    store.addAction(id, {
      type: "quarantine",
      target: "/tmp/payload",
      result: "error",
      detail: "gone",
      time: 6,
    });
    store.setStatus(id, "killed");
    const t = store.get(id)!;
    assert.equal(t.status, "killed");
    assert.deepEqual(t.actions, [
      { type: "kill", target: "pid 4242", result: "ok", time: 5 },
      { type: "quarantine", target: "/tmp/payload", result: "error", detail: "gone", time: 6 },
    ]);
    const a = store.record(sampleVerdict({ mode: "audit", actions: [{ type: "report" }] }));
    assert.equal(store.get(a)!.status, "audited");
    assert.throws(() => store.setStatus("nope", "killed"), (e: BmError) => e.exitCode === 2);
    assert.throws(() =>
      store.addAction("nope", { type: "report", target: "", result: "ok", time: 1 })
    );
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("list is newest first, filters by status and honours limit", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = open(dir);
    const ids = [1, 2, 3].map((i) => store.record(sampleVerdict({ time: 1_790_000_000_000 + i })));
    store.setStatus(ids[0]!, "killed");
    assert.deepEqual(store.list().map((t) => t.id), [...ids].reverse());
    assert.deepEqual(store.list({ status: "killed" }).map((t) => t.id), [ids[0]]);
    assert.deepEqual(store.list({ limit: 1 }).map((t) => t.id), [ids[2]]);
    const s = store.list()[0]!;
    assert.deepEqual(Object.keys(s).sort(), [
      "detection_time",
      "id",
      "name",
      "process",
      "severity",
      "status",
      "type",
    ]);
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("quarantine index and allowed names", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = open(dir);
    const id = store.record(sampleVerdict());
    const q = {
      id: crypto.randomUUID(),
      threat_id: id,
      original_path: "/tmp/payload",
      uid: 1000,
      gid: 1000,
      mode: 0o755,
      size: 12,
      sha256: "ab".repeat(32),
      quarantined_time: 7,
    };
    store.addQuarantine(q);
    assert.deepEqual(store.getQuarantine(q.id), q);
    assert.deepEqual(store.listQuarantine({ threatId: id }), [q]);
    store.markRestored(q.id, "/tmp/back", 9);
    assert.deepEqual(store.listQuarantine(), []);
    assert.deepEqual(store.listQuarantine({ includeRestored: true }), [{
      ...q,
      restored_time: 9,
      restored_path: "/tmp/back",
    }]);
    assert.equal(store.addAllowed("Behavior:Linux/X.A"), true);
    assert.equal(store.addAllowed("Behavior:Linux/X.A"), false);
    assert.deepEqual(store.listAllowed().map((a) => a.name), ["Behavior:Linux/X.A"]);
    assert.equal(store.removeAllowed("Behavior:Linux/X.A"), true);
    assert.equal(store.removeAllowed("Behavior:Linux/X.A"), false);
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("retention deletes by age and count but keeps threats holding a vault file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const clock = new FakeClock(1_800_000_000_000);
    const store = open(dir, clock, { retention: { maxAgeDays: 30, maxCount: 3 } });
    const now = clock.now();
    const old = store.record(sampleVerdict({ time: now - 40 * DAY }));
    const oldHeld = store.record(sampleVerdict({ time: now - 50 * DAY }));
    store.addQuarantine({
      id: crypto.randomUUID(),
      threat_id: oldHeld,
      original_path: "/x",
      uid: 0,
      gid: 0,
      mode: 0o644,
      size: 0,
      sha256: "",
      quarantined_time: 0,
    });
    const recent = [1, 2, 3, 4].map((i) => store.record(sampleVerdict({ time: now - i * DAY })));
    assert.equal(store.prune(), 2); // `old` by age, recent[3] by count
    const left = new Set(store.list().map((t) => t.id));
    assert.ok(!left.has(old));
    assert.ok(left.has(oldHeld));
    assert.ok(!left.has(recent[3]!));
    for (const id of recent.slice(0, 3)) assert.ok(left.has(id));
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("files are private: directory 0700, database 0600, schema versioned", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const state = `${dir}/a/b`;
    const store = open(state);
    store.record(sampleVerdict());
    assert.equal(fs.statSync(state).mode & 0o777, 0o700);
    for (const f of ["threats.db", "threats.db-wal", "threats.db-shm"]) {
      assert.equal(fs.statSync(`${state}/${f}`).mode & 0o777, 0o600, f);
    }
    assert.equal(store.integrityCheck(), "ok");
    store.close();
    const db = new DatabaseSync(`${state}/threats.db`);
    assert.equal(db.prepare("PRAGMA user_version").get()!.user_version, SCHEMA_VERSION);
    assert.equal(db.prepare("PRAGMA journal_mode").get()!.journal_mode, "wal");
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(
      () => open(state),
      new RegExp(`schema version ${SCHEMA_VERSION + 1} is newer than this bm`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("read-only open of a missing store creates nothing; a corrupt file is left untouched", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.throws(() => open(`${dir}/none`, undefined, { readOnly: true }), BmError);
    assert.equal(fs.existsSync(`${dir}/none`), false);
    const junk = new TextEncoder().encode("not a database, just some bytes\n".repeat(200));
    const path = threatDbPath(dir);
    fs.writeFileSync(path, junk);
    for (const readOnly of [true, false]) {
      assert.throws(
        () => open(dir, undefined, { readOnly }),
        (e: BmError) => e.exitCode === 1 && e.message.includes(path),
      );
      assert.deepEqual(new Uint8Array(fs.readFileSync(path)), junk);
    }
    assert.deepEqual(fs.readdirSync(dir), ["threats.db"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a store with damaged pages fails with the file named and is not modified", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = open(dir);
    for (let i = 0; i < 50; i++) store.record(sampleVerdict({ time: 1_790_000_000_000 + i }));
    store.close();
    const path = threatDbPath(dir);
    const bytes = new Uint8Array(fs.readFileSync(path));
    assert.ok(bytes.length > 5 * 4096);
    bytes.fill(0xa5, 4096, bytes.length); // keep the header page, ruin the rest
    fs.writeFileSync(path, bytes);
    let err: unknown;
    try {
      const ro = open(dir, undefined, { readOnly: true });
      try {
        ro.list();
      } finally {
        ro.close();
      }
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof BmError, String(err));
    assert.ok(err.message.includes(`"${path}"`), err.message);
    assert.deepEqual(new Uint8Array(fs.readFileSync(path)), bytes);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
