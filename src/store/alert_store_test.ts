import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { FakeClock } from "../clock_test_utils.ts";
import { SqliteThreatStore } from "./threat_store.ts";
import { threatDbPath } from "./state_dir.ts";
import { sampleAlert } from "./alert_test_utils.ts";
import { sampleVerdict } from "./verdict_test_utils.ts";
import { MIGRATIONS, SCHEMA_VERSION } from "./_schema.ts";
import { ALERT_MERGE_WINDOW_MS } from "./alert.ts";
import { FakeAlertStore } from "./fake_alert_store_test_utils.ts";

const DAY = 86_400_000;
const NOW = 1_790_000_100_000;

function open(dir: string, clock = new FakeClock(NOW), extra = {}) {
  return new SqliteThreatStore({ path: threatDbPath(dir), clock, ...extra });
}

async function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("alerts: a firing is stored whole and a second connection reads it back", () =>
  withDir((dir) => {
    const store = open(dir);
    const a = sampleAlert();
    const [w] = store.writeAlerts([a]);
    assert.ok(w?.created);
    const ro = open(dir, undefined, { readOnly: true });
    const got = ro.getAlert(w.id);
    assert.ok(got);
    assert.equal(got.rule_id, a.rule_id);
    assert.equal(got.name, a.name);
    assert.equal(got.severity, "medium");
    assert.equal(got.score, 60);
    assert.deepEqual(got.techniques, a.techniques);
    assert.deepEqual(got.tactics, a.tactics);
    assert.deepEqual(got.process, a.process);
    assert.deepEqual(got.lineage, a.lineage);
    assert.deepEqual(got.events, a.events);
    assert.equal(got.first_seen, a.time);
    assert.equal(got.last_seen, a.time);
    assert.equal(got.count, 1);
    assert.equal(got.threat_id, null);
    assert.equal(got.recorded_time, NOW);
    ro.close();
    store.close();
  }));

Deno.test("alerts: the same rule on the same process within 10 minutes updates one alert", () =>
  withDir((dir) => {
    const store = open(dir);
    const a = sampleAlert();
    const [first] = store.writeAlerts([a, { ...a, time: a.time + 60_000 }]);
    const [again] = store.writeAlerts([{ ...a, time: a.time + ALERT_MERGE_WINDOW_MS + 30_000 }]);
    assert.equal(again?.id, first?.id);
    assert.equal(again?.created, false);
    const got = store.getAlert(first!.id)!;
    assert.equal(got.count, 3);
    assert.equal(got.first_seen, a.time);
    assert.equal(got.last_seen, a.time + ALERT_MERGE_WINDOW_MS + 30_000);
    // Another process, another rule, or a firing more than 10 minutes after the last: new alerts.
    const other = store.writeAlerts([
      { ...a, process: { ...a.process, entity_id: "9-9" } },
      { ...a, rule_id: "linux.other" },
      { ...a, time: a.time + 3 * ALERT_MERGE_WINDOW_MS },
    ]);
    assert.deepEqual(other.map((w) => w.created), [true, true, true]);
    assert.equal(store.listAlerts().length, 4);
    store.close();
  }));

Deno.test("alerts: list is newest first and filters by minimum severity and time", () =>
  withDir((dir) => {
    const store = open(dir);
    const t = 1_790_000_000_000;
    store.writeAlerts([
      sampleAlert({ rule_id: "r.low", severity: "low", time: t }),
      sampleAlert({ rule_id: "r.crit", severity: "critical", time: t + 1000 }),
      sampleAlert({ rule_id: "r.med", severity: "medium", time: t + 2000 }),
      sampleAlert({ rule_id: "r.high", severity: "high", time: t + 3000 }),
    ]);
    assert.deepEqual(store.listAlerts().map((a) => a.rule_id), [
      "r.high",
      "r.med",
      "r.crit",
      "r.low",
    ]);
    assert.deepEqual(store.listAlerts({ minSeverity: "high" }).map((a) => a.rule_id), [
      "r.high",
      "r.crit",
    ]);
    assert.deepEqual(store.listAlerts({ since: t + 1500 }).map((a) => a.rule_id), [
      "r.high",
      "r.med",
    ]);
    assert.deepEqual(store.listAlerts({ limit: 1 }).map((a) => a.rule_id), ["r.high"]);
    assert.deepEqual(store.alertCounts(), { low: 1, medium: 1, high: 1, critical: 1 });
    store.close();
  }));

Deno.test("alerts: linked to the threat they contributed to; a pruned threat unlinks them", () =>
  withDir((dir) => {
    const clock = new FakeClock(NOW);
    const store = open(dir, clock, { retention: { maxAgeDays: 1 } });
    const a = sampleAlert();
    const [w] = store.writeAlerts([a]);
    const threatId = store.record(sampleVerdict({ time: NOW }));
    store.linkAlerts(threatId, [{ rule_id: a.rule_id, entity_id: a.process.entity_id }]);
    assert.equal(store.getAlert(w!.id)?.threat_id, threatId);
    // A later threat does not take over an alert that already has one.
    const second = store.record(sampleVerdict({ time: NOW }));
    store.linkAlerts(second, [{ rule_id: a.rule_id, entity_id: a.process.entity_id }]);
    assert.equal(store.getAlert(w!.id)?.threat_id, threatId);
    clock.advance(2 * DAY);
    store.prune();
    assert.equal(store.get(threatId), undefined);
    assert.equal(store.getAlert(w!.id)?.threat_id, null);
    store.close();
  }));

Deno.test("alerts: retention deletes the oldest first by age and count, and counts them", () =>
  withDir((dir) => {
    const clock = new FakeClock(NOW);
    const store = open(dir, clock, { alertRetention: { maxAgeDays: 10, maxCount: 3 } });
    const batch = [0, 1, 2, 3, 4].map((i) =>
      sampleAlert({ rule_id: `r.${i}`, time: NOW - (5 - i) * DAY })
    );
    store.writeAlerts(batch);
    assert.equal(store.pruneAlerts(), 2);
    assert.deepEqual(store.listAlerts().map((a) => a.rule_id), ["r.4", "r.3", "r.2"]);
    clock.advance(8 * DAY); // r.2 was last seen 11 days ago, r.3 10 days, r.4 9 days
    assert.equal(store.pruneAlerts(), 1);
    assert.deepEqual(store.listAlerts().map((a) => a.rule_id), ["r.4", "r.3"]);
    assert.equal(store.alertsPruned, 3);
    store.close();
  }));

Deno.test("alerts and threats: unreported until marked, survive reopening", () =>
  withDir((dir) => {
    const store = open(dir);
    const id = store.record(sampleVerdict());
    const [w] = store.writeAlerts([sampleAlert()]);
    assert.deepEqual(store.unreported().map((t) => t.id), [id]);
    assert.deepEqual(store.unreportedAlerts().map((a) => a.id), [w!.id]);
    store.close();
    const again = open(dir);
    assert.deepEqual(again.unreported().map((t) => t.id), [id]);
    again.markReported(id);
    again.markAlertsReported([w!.id]);
    assert.deepEqual(again.unreported(), []);
    assert.deepEqual(again.unreportedAlerts(), []);
    again.close();
  }));

Deno.test("a version 1 store is migrated: its threats count as reported, alerts work", () =>
  withDir((dir) => {
    const path = threatDbPath(dir);
    Deno.mkdirSync(dir, { recursive: true });
    const db = new DatabaseSync(path);
    db.exec(MIGRATIONS[0]!);
    db.exec("PRAGMA user_version = 1");
    db.prepare(
      `INSERT INTO threats VALUES ('old', 'Behavior:Linux/X.A', 'behavior', ?, ?, ?, 'killed',
         'high', 'block', 120, 100, '[]', '[]', '[]', ?, ?)`,
    ).run(
      NOW,
      NOW,
      NOW,
      JSON.stringify({ pid: 1, entity_id: "e", executable: "/x", args: [], start: 0 }),
      JSON.stringify({ score_path: [], hits: [], lineage: [], events: [], requested_actions: [] }),
    );
    db.close();
    const store = open(dir);
    assert.equal(store.get("old")?.status, "killed");
    assert.deepEqual(store.unreported(), []);
    const [w] = store.writeAlerts([sampleAlert()]);
    assert.ok(store.getAlert(w!.id));
    store.close();
    const check = new DatabaseSync(path, { readOnly: true });
    assert.equal(check.prepare("PRAGMA user_version").get()?.user_version, SCHEMA_VERSION);
    check.close();
  }));

Deno.test("the fake alert store merges and filters like the real one", () => {
  const fake = new FakeAlertStore(new FakeClock(NOW));
  const a = sampleAlert();
  const [x] = fake.writeAlerts([a, { ...a, time: a.time + 1000 }]);
  assert.equal(fake.getAlert(x!.id)?.count, 2);
  fake.writeAlerts([sampleAlert({ rule_id: "r.crit", severity: "critical" })]);
  assert.deepEqual(fake.listAlerts({ minSeverity: "high" }).map((y) => y.rule_id), ["r.crit"]);
  assert.equal(fake.unreportedAlerts().length, 2);
});
