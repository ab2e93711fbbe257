/** The agent's alert hand-over and at-least-once threat reporting. */
import assert from "node:assert/strict";
import { FakeClock } from "../clock_test_utils.ts";
import type { RuleAlert } from "../engine/rule_alert.ts";
import type { Verdict } from "../engine/verdict.ts";
import type { BmEvent } from "../sensor/event.ts";
import { FakeSensor } from "../sensor/fake_sensor_test_utils.ts";
import { FakeThreatStore } from "../store/fake_threat_store_test_utils.ts";
import { sampleAlert } from "../store/alert_test_utils.ts";
import { sampleVerdict } from "../store/verdict_test_utils.ts";
import { Agent, type AlertSink, type EngineLike, type RespondFn } from "./agent.ts";
import { EventExporter } from "./event_export.ts";
import { Logger, MemorySink } from "./log.ts";

function exec(pid: number, authId?: number): BmEvent {
  return {
    "@timestamp": 1000 + pid,
    event: { action: "exec" },
    process: { pid, executable: `/bin/p${pid}` },
    ...(authId !== undefined ? { bm: { auth_id: authId } } : {}),
  };
}

function firing(rule_id: string): RuleAlert {
  const { threat_id: _, ...a } = sampleAlert({ rule_id });
  return a;
}

async function setup(engine: EngineLike, o: { stallAfterCommitMs?: number } = {}) {
  const dir = await Deno.makeTempDir();
  const clock = new FakeClock(5000);
  const sensor = new FakeSensor();
  const store = new FakeThreatStore(clock);
  const sink = new MemorySink();
  const seen: string[] = [];
  const alerts: AlertSink = {
    offer: (a) => seen.push(`offer ${a.rule_id} after ${sensor.responses.length} answers`),
    link: (id, f) => seen.push(`link ${id} ${f.map((x) => x.rule_id).join(",")}`),
  };
  const respond: RespondFn = (v: Verdict) =>
    Promise.resolve({ threatId: store.record(v), status: "killed", actions: [] });
  const exporter = new EventExporter(`${dir}/events.jsonl`, false, "h");
  const agent = new Agent({
    sensor,
    engine,
    store,
    respond,
    logger: new Logger("debug", [sink], clock),
    clock,
    failOpen: true,
    exporter,
    alerts,
    ...o,
  });
  const exported = () =>
    Deno.readTextFileSync(`${dir}/events.jsonl`).split("\n").filter((l) => l).map((l) =>
      JSON.parse(l)
    );
  const done = async () => {
    exporter.close();
    await Deno.remove(dir, { recursive: true });
  };
  return { sensor, store, sink, agent, seen, exported, done };
}

Deno.test("agent: every firing goes to the alert sink after the batch's auth answers; a threat links its firings", async () => {
  const v = sampleVerdict();
  const engine: EngineLike = {
    process(e) {
      const auth = e.bm?.auth_id !== undefined
        ? { auth: { authId: e.bm.auth_id, allow: true, cache: false } }
        : {};
      if (e.process.pid === 1) return { verdicts: [], alerts: [firing("r.low")], ...auth };
      return { verdicts: [v], alerts: [firing("r.cross")], ...auth };
    },
  };
  const s = await setup(engine);
  try {
    s.sensor.push(exec(1, 11), exec(2, 12));
    s.sensor.end();
    await s.agent.run({ untilSourceEnds: true });
    const id = [...s.store.threats.keys()][0];
    assert.deepEqual(s.seen, [
      "offer r.low after 2 answers",
      "offer r.cross after 2 answers",
      `link ${id} ${v.hits.map((h) => h.rule_id).join(",")}`,
    ]);
  } finally {
    await s.done();
  }
});

Deno.test("agent: a threat is marked reported only after its log and export lines are out", async () => {
  const s = await setup({ process: () => ({ verdicts: [sampleVerdict()] }) });
  try {
    s.sensor.push(exec(1));
    s.sensor.end();
    await s.agent.run({ untilSourceEnds: true });
    const id = [...s.store.threats.keys()][0]!;
    const calls = s.store.calls.filter((c) => c.startsWith("record") || c.startsWith("reported"));
    assert.deepEqual(calls, [`record ${id}`, `reported ${id}`]);
    assert.equal(s.exported()[0].bm.threat_id, id);
    assert.deepEqual(s.store.unreported(), []);
  } finally {
    await s.done();
  }
});

Deno.test("agent: threats committed but never reported by an earlier run are reported at start", async () => {
  const s = await setup({ process: () => ({ verdicts: [] }) });
  try {
    const id = s.store.record(sampleVerdict()); // committed; the daemon died before reporting
    assert.equal(s.agent.reportUnreported(), 1);
    const [doc] = s.exported();
    assert.equal(doc.bm.threat_id, id);
    assert.equal(doc.rule.name, "Behavior:Linux/DownloadExec.A");
    assert.ok(
      s.sink.records().some((r) =>
        r.message === "Threat detected (reported after a restart)" && r["bm.threat_id"] === id
      ),
    );
    assert.deepEqual(s.store.unreported(), []);
    assert.equal(s.agent.reportUnreported(), 0);
  } finally {
    await s.done();
  }
});

Deno.test("agent: a threat whose export line could not be written stays unreported", async () => {
  const s = await setup({ process: () => ({ verdicts: [sampleVerdict()] }) });
  try {
    (s.agent.exporter as unknown as { fd: number | undefined }).fd = -1; // writes now fail
    s.sensor.push(exec(1));
    s.sensor.end();
    await s.agent.run({ untilSourceEnds: true });
    assert.equal(s.store.unreported().length, 1);
  } finally {
    (s.agent.exporter as unknown as { fd: number | undefined }).fd = undefined;
    await s.done();
  }
});
