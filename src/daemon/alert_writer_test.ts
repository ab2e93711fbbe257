import assert from "node:assert/strict";
import { FakeClock } from "../clock_test_utils.ts";
import type { RuleAlert } from "../engine/rule_alert.ts";
import { FakeAlertStore } from "../store/fake_alert_store_test_utils.ts";
import { sampleAlert } from "../store/alert_test_utils.ts";
import { AlertWriter } from "./alert_writer.ts";
import { EventExporter } from "./event_export.ts";
import { Logger, MemorySink } from "./log.ts";

function firing(over: Partial<RuleAlert> = {}): RuleAlert {
  const { threat_id: _, ...a } = sampleAlert();
  return { ...a, ...over };
}

async function setup(max = 100) {
  const dir = await Deno.makeTempDir();
  const clock = new FakeClock(1_790_000_100_000);
  const store = new FakeAlertStore(clock);
  const sink = new MemorySink();
  const exporter = new EventExporter(`${dir}/events.jsonl`, false, "host1");
  const writer = new AlertWriter({
    store,
    exporter: () => exporter,
    logger: new Logger("info", [sink], clock),
    maxPerRulePerMinute: max,
    flushDelayMs: 10_000,
  });
  const exported = () =>
    Deno.readTextFileSync(`${dir}/events.jsonl`).split("\n").filter((l) => l).map((l) =>
      JSON.parse(l)
    );
  const done = async () => {
    writer.close();
    exporter.close();
    await Deno.remove(dir, { recursive: true });
  };
  return { store, sink, writer, exported, done };
}

Deno.test("alert writer: firings are queued, then committed, logged, exported and marked reported", async () => {
  const s = await setup();
  try {
    s.writer.offer(firing());
    assert.equal(s.store.calls.length, 0, "nothing is written at offer time");
    s.writer.flush();
    assert.deepEqual(s.store.calls, ["write 1", "reported 1"]);
    const [doc] = s.exported();
    assert.equal(doc.event.kind, "alert");
    assert.equal(doc.event.dataset, "bm.alert");
    assert.equal(doc.rule.id, "linux.cron_write");
    assert.equal(doc.rule.name, "Behavior:Linux/CronPersistence.A");
    assert.equal(doc.event.severity, 47);
    assert.deepEqual(doc.threat.technique.id, ["T1053.003"]);
    assert.equal(doc.process.pid, 4242);
    assert.equal(doc.bm.alert_id, s.store.alerts[0]!.id);
    assert.equal(doc.bm.evidence[0].path, "/etc/cron.d/backdoor");
    const log = s.sink.records().find((r) => r.message === "Alert");
    assert.equal(log?.["rule.id"], "linux.cron_write");
    assert.deepEqual(s.store.unreportedAlerts(), []);
    assert.equal(s.writer.counters.created, 1);
  } finally {
    await s.done();
  }
});

Deno.test("alert writer: merged firings update one alert and are not exported again", async () => {
  const s = await setup();
  try {
    const a = firing();
    s.writer.offer(a);
    s.writer.flush();
    s.writer.offer({ ...a, time: a.time + 5000 });
    s.writer.offer({ ...a, time: a.time + 6000 });
    s.writer.flush();
    assert.equal(s.store.alerts.length, 1);
    assert.equal(s.store.alerts[0]!.count, 3);
    assert.equal(s.exported().length, 1);
    assert.equal(s.writer.counters.merged, 2);
  } finally {
    await s.done();
  }
});

Deno.test("alert writer: over maxPerRulePerMinute firings of a rule are sampled and counted", async () => {
  const s = await setup(3);
  try {
    const base = Math.ceil(1_790_000_000_000 / 60_000) * 60_000;
    for (let i = 0; i < 5; i++) {
      s.writer.offer(firing({
        time: base + i,
        process: { ...firing().process, entity_id: `e${i}` },
      }));
    }
    s.writer.offer(firing({ rule_id: "linux.other", time: base + 10 })); // another rule: own budget
    s.writer.offer(
      firing({ time: base + 60_000, process: { ...firing().process, entity_id: "n" } }),
    );
    s.writer.flush();
    assert.equal(s.writer.counters.suppressed, 2);
    assert.equal(s.store.alerts.length, 5);
    assert.deepEqual(s.store.alerts.map((a) => a.process.entity_id), [
      "e0",
      "e1",
      "e2",
      "4242-1790000001500",
      "n",
    ]);
  } finally {
    await s.done();
  }
});

Deno.test("alert writer: alerts of a recorded threat name it, queued or already stored", async () => {
  const s = await setup();
  try {
    const early = firing({ rule_id: "r.early" });
    s.writer.offer(early);
    s.writer.flush();
    const late = firing({ rule_id: "r.late" });
    s.writer.offer(late);
    s.writer.link("threat-1", [
      { rule_id: "r.early", entity_id: early.process.entity_id },
      { rule_id: "r.late", entity_id: late.process.entity_id },
    ]);
    s.writer.flush();
    assert.deepEqual(s.store.alerts.map((a) => [a.rule_id, a.threat_id]), [
      ["r.early", "threat-1"],
      ["r.late", "threat-1"],
    ]);
    assert.equal(s.exported()[1].bm.threat_id, "threat-1");
  } finally {
    await s.done();
  }
});

Deno.test("alert writer: a failed write is logged and counted; unreported alerts are reported at start", async () => {
  const s = await setup();
  try {
    s.store.failWrites = "disk full";
    s.writer.offer(firing());
    s.writer.flush();
    assert.equal(s.writer.counters.failures, 1);
    assert.equal(s.writer.counters.dropped, 1);
    assert.ok(s.sink.records().some((r) => r.message === "Cannot record alerts"));
    s.store.failWrites = undefined;
    // Committed by an earlier run that died before reporting.
    s.store.writeAlerts([sampleAlert({ rule_id: "r.before" })]);
    s.writer.reportUnreported();
    assert.equal(s.writer.counters.lateReported, 1);
    assert.equal(s.exported()[0].rule.id, "r.before");
    assert.ok(s.sink.records().some((r) => r.message === "Alert (reported after a restart)"));
    assert.deepEqual(s.store.unreportedAlerts(), []);
  } finally {
    await s.done();
  }
});

Deno.test("alert writer: a long queue is written in bounded batches, one per event-loop turn", async () => {
  const clock = new FakeClock(0);
  const store = new FakeAlertStore(clock);
  const writer = new AlertWriter({
    store,
    exporter: () => undefined,
    logger: new Logger("error", [new MemorySink()], clock),
    maxPerRulePerMinute: 1000,
    flushDelayMs: 1,
    maxBatch: 4,
  });
  try {
    for (let i = 0; i < 10; i++) {
      writer.offer(firing({ process: { ...firing().process, entity_id: `e${i}` } }));
    }
    for (let i = 0; i < 100 && store.alerts.length < 10; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(store.alerts.length, 10);
    assert.deepEqual(store.calls.filter((c) => c.startsWith("write")), [
      "write 4",
      "write 4",
      "write 2",
    ]);
  } finally {
    writer.close();
  }
});
