import assert from "node:assert/strict";
import { FakeClock } from "../clock_test_utils.ts";
import { threatDbPath } from "../store/state_dir.ts";
import { sampleAlert } from "../store/alert_test_utils.ts";
import { SqliteThreatStore } from "../store/threat_store.ts";
import { parseSince } from "./alert.ts";
import { runBm } from "./run_bm_test_utils.ts";

function bm(state: string, ...args: string[]) {
  return runBm(args, { env: { BM_STATE_DIR: state } });
}

/** A state dir with three alerts: a medium one an hour ago, a high and a low one now. */
async function seeded() {
  const dir = await Deno.makeTempDir();
  const state = `${dir}/state`;
  const now = Date.now();
  const store = new SqliteThreatStore({ path: threatDbPath(state), clock: new FakeClock(now) });
  const [old] = store.writeAlerts([sampleAlert({ time: now - 3_600_000 })]);
  const [high] = store.writeAlerts([
    sampleAlert({ rule_id: "linux.sudoers", name: "Behavior:Linux/Sudoers.A", severity: "high" }),
  ].map((a) => ({ ...a, time: now - 1000 })));
  const [low] = store.writeAlerts([
    sampleAlert({ rule_id: "linux.chattr", name: "Behavior:Linux/Chattr.A", severity: "low" }),
  ].map((a) => ({ ...a, time: now })));
  store.close();
  return { dir, state, old: old!.id, high: high!.id, low: low!.id };
}

Deno.test("bm alert list: newest first, table and JSON, --severity and --since filter", async () => {
  const s = await seeded();
  try {
    const json = await bm(s.state, "alert", "list", "--output", "json");
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as { alerts: { id: string; severity: string }[] };
    assert.deepEqual(doc.alerts.map((a) => a.id), [s.low, s.high, s.old]);
    const text = await bm(s.state, "alert", "list");
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^ID\s+LAST SEEN\s+SEVERITY\s+COUNT\s+NAME\s+THREAT\s+PROCESS/);
    assert.match(text.stdout, /high\s+1\s+Behavior:Linux\/Sudoers\.A\s+-\s+\/bin\/sh \(pid 4242\)/);
    const medium = await bm(s.state, "alert", "list", "--severity", "medium", "--output", "json");
    assert.deepEqual(JSON.parse(medium.stdout).alerts.map((a: { id: string }) => a.id), [
      s.high,
      s.old,
    ]);
    const recent = await bm(s.state, "alert", "list", "--since", "10m", "--output", "json");
    assert.deepEqual(JSON.parse(recent.stdout).alerts.map((a: { id: string }) => a.id), [
      s.low,
      s.high,
    ]);
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("bm alert show: rule, process, lineage and evidence; unknown id exits 2", async () => {
  const s = await seeded();
  try {
    const r = await bm(s.state, "alert", "show", s.old);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Rule:\s+linux\.cron_write \(Behavior:Linux\/CronPersistence\.A\)/);
    assert.match(r.stdout, /Threat:\s+none/);
    assert.match(r.stdout, /close_modified.*file \/etc\/cron\.d\/backdoor/);
    assert.match(
      r.stdout,
      /\/bin\/sh \/tmp\/x\/install\.sh \(pid 4242, .*uid 0\)\s+<= firing process/,
    );
    const j = await bm(s.state, "alert", "show", s.old, "--output", "json");
    const a = JSON.parse(j.stdout).alert;
    assert.equal(a.id, s.old);
    assert.deepEqual(a.techniques, ["T1053.003"]);
    assert.equal(a.events[0].file.path, "/etc/cron.d/backdoor");
    const bad = await bm(s.state, "alert", "show", "nope");
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim(), `Unknown alert "nope": run "bm alert list" for the ids`);
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("bm alert: bad arguments are one line and exit 2; no store lists nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const state = `${dir}/none`;
    const sev = await bm(state, "alert", "list", "--severity", "urgent");
    assert.equal(sev.code, 2);
    assert.equal(
      sev.stderr.trim(),
      `Unknown --severity "urgent": one of low, medium, high, critical`,
    );
    const since = await bm(state, "alert", "list", "--since", "yesterday");
    assert.equal(since.code, 2);
    assert.match(since.stderr.trim(), /^Bad --since "yesterday": expected a number/);
    const empty = await bm(state, "alert", "list", "--output", "json");
    assert.equal(empty.code, 0, empty.stderr);
    assert.deepEqual(JSON.parse(empty.stdout), { alerts: [] });
    const verb = await bm(state, "alert", "delete");
    assert.equal(verb.code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseSince: s, m, h, d", () => {
  assert.equal(parseSince("30s"), 30_000);
  assert.equal(parseSince("5m"), 300_000);
  assert.equal(parseSince("2h"), 7_200_000);
  assert.equal(parseSince("7d"), 604_800_000);
  assert.throws(() => parseSince("7"), /Bad --since "7"/);
  assert.throws(() => parseSince("-1h"), /Bad --since/);
});
