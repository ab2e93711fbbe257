import assert from "node:assert/strict";
import { FakeClock } from "../clock_test_utils.ts";
import type { Verdict } from "../engine/verdict.ts";
import type { BmEvent } from "../sensor/event.ts";
import { Responder } from "../response/responder.ts";
import { FakeSensor } from "../sensor/fake_sensor_test_utils.ts";
import type { AuthAnswer } from "../sensor/sensor.ts";
import { FakeThreatStore } from "../store/fake_threat_store_test_utils.ts";
import { sampleVerdict } from "../store/verdict_test_utils.ts";
import { Agent, type EngineLike, type RespondFn } from "./agent.ts";
import { Logger, MemorySink } from "./log.ts";

function exec(pid: number, authId?: number): BmEvent {
  return {
    "@timestamp": 1000 + pid,
    event: { action: "exec" },
    process: { pid, executable: `/bin/p${pid}` },
    ...(authId !== undefined ? { bm: { auth_id: authId } } : {}),
  };
}

function setup(engine: EngineLike) {
  const clock = new FakeClock(5000);
  const sensor = new FakeSensor();
  const store = new FakeThreatStore(clock);
  const sink = new MemorySink();
  const order: string[] = [];
  const respond: RespondFn = (v: Verdict) => {
    order.push(`respond ${v.name} after ${sensor.responses.length} answers`);
    const threatId = store.record(v);
    return Promise.resolve({ threatId, status: "killed", actions: [] });
  };
  const agent = new Agent({
    sensor,
    engine,
    store,
    respond,
    logger: new Logger("debug", [sink], clock),
    clock,
    failOpen: true,
  });
  return { sensor, store, sink, agent, order };
}

Deno.test("agent: every auth event is answered before any verdict is handled", async () => {
  const verdict = sampleVerdict({ name: "Behavior:Linux/Test.A" });
  const engine: EngineLike = {
    process(e) {
      const auth: AuthAnswer | undefined = e.bm?.auth_id !== undefined
        ? { authId: e.bm.auth_id, allow: e.process.pid !== 2, cache: false }
        : undefined;
      return { verdicts: e.process.pid === 2 ? [verdict] : [], ...(auth ? { auth } : {}) };
    },
  };
  const { sensor, store, sink, agent, order } = setup(engine);
  sensor.push(exec(1, 11), exec(2, 12), exec(3, 13), exec(4));
  sensor.end();
  await agent.run({ untilSourceEnds: true });
  assert.deepEqual(sensor.responses.map((r) => [r.authId, r.allow]), [[11, true], [12, false], [
    13,
    true,
  ]]);
  assert.deepEqual(sensor.pendingAuth, []);
  assert.deepEqual(order, ["respond Behavior:Linux/Test.A after 3 answers"]);
  assert.equal(store.list().length, 1);
  assert.equal(agent.counters.events, 4);
  assert.equal(agent.hot.total, 4);
  const alert = sink.records().find((r) => r.message === "Threat detected");
  assert.equal(alert?.["rule.name"], "Behavior:Linux/Test.A");
  assert.equal(alert?.["bm.status"], "killed");
});

Deno.test("agent: an engine failure still answers the auth event with the fail-open default", async () => {
  const engine: EngineLike = {
    process(e) {
      if (e.process.pid === 7) throw new Error("rule bug");
      return { verdicts: [] };
    },
  };
  const { sensor, sink, agent } = setup(engine);
  sensor.push(exec(7, 70));
  sensor.end();
  await agent.run({ untilSourceEnds: true });
  assert.deepEqual(sensor.responses, [{ authId: 70, allow: true, cache: false }]);
  assert.equal(agent.counters.engineErrors, 1);
  assert.ok(sink.records().some((r) => r.message === "Engine failed on an event"));
});

Deno.test("agent: a store failure is counted and logged, never thrown into the loop", async () => {
  const engine: EngineLike = { process: () => ({ verdicts: [sampleVerdict()] }) };
  const { sensor, sink, agent } = setup(engine);
  (agent as unknown as { parts: { respond: RespondFn } }).parts.respond = () =>
    Promise.reject(new Error("disk full"));
  sensor.push(exec(1));
  sensor.end();
  await agent.run({ untilSourceEnds: true });
  assert.equal(agent.counters.storeFailures, 1);
  assert.ok(sink.records().some((r) => r.message === "Cannot record or act on a threat"));
});

Deno.test("agent: stop() ends a running loop; swapped sensors keep their counters", async () => {
  const { sensor, agent } = setup({ process: () => ({ verdicts: [] }) });
  const loop = agent.run();
  sensor.push(exec(1), exec(2));
  await new Promise((r) => setTimeout(r, 50));
  const next = new FakeSensor();
  await agent.replaceSensor(next);
  assert.equal(sensor.closed, true);
  next.push(exec(3));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(agent.sensorStats().events, 3);
  await agent.stop();
  await loop;
});

Deno.test("agent: while a verdict's handling is in flight, the sensor is asked to let the event loop run", async () => {
  const engine: EngineLike = {
    process: (e) => ({ verdicts: e.process.pid === 1 ? [sampleVerdict()] : [] }),
  };
  const { sensor, agent } = setup(engine);
  let release = () => {};
  (agent as unknown as { parts: { respond: RespondFn } }).parts.respond = () =>
    new Promise((r) => {
      release = () => r({ threatId: "t1", status: "killed", actions: [] });
    });
  const loop = agent.run();
  sensor.push(exec(1));
  await new Promise((r) => setTimeout(r, 20));
  const busy = () => sensor.nextOptions.map((o) => o.busy ?? false);
  assert.equal(busy()[0], false); // nothing in flight yet
  assert.equal(busy().at(-1), true); // the kill and threat write are pending
  release();
  await new Promise((r) => setTimeout(r, 20));
  sensor.push(exec(2));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(busy().at(-1), false);
  await agent.stop();
  await loop;
});

Deno.test("agent: the store cannot write, yet the responder kills; the outcome is kept for health", async () => {
  const v = sampleVerdict({
    actions: [{ type: "report" }, {
      type: "kill",
      pid: 4242,
      start: sampleVerdict().process.start,
      entity_id: "x",
      tree: true,
    }],
  });
  const engine: EngineLike = { process: () => ({ verdicts: [v] }) };
  const { sensor, sink, agent, store } = setup(engine);
  store.failWrites = "disk I/O error";
  const signals: string[] = [];
  const responder = new Responder({
    store,
    sensor: { denyProcess: () => {} },
    clock: new FakeClock(5000),
    vaultDir: "/nonexistent",
    inspector: {
      info: (pid) =>
        pid === 4242 ? { pid, ppid: 1, state: "S", start: v.process.start } : undefined,
      children: () => [],
    },
    signal: (pid, sig) => void signals.push(`${sig} ${pid}`),
  });
  (agent as unknown as { parts: { respond: RespondFn } }).parts.respond = (x) =>
    responder.handle(x);
  sensor.push(exec(1));
  sensor.end();
  await agent.run({ untilSourceEnds: true });
  assert.deepEqual(signals, ["SIGSTOP 4242", "SIGKILL 4242"]);
  assert.equal(agent.counters.storeFailures, 1);
  assert.equal(agent.unsaved.length, 1);
  assert.equal(agent.unsaved[0]!.status, "killed");
  assert.match(agent.unsaved[0]!.error, /disk I\/O error/);
  assert.ok(agent.unsaved[0]!.actions.includes("kill pid 4242 and descendants: ok"));
  assert.ok(
    sink.records().some((r) =>
      r.message === "Cannot record a threat: its actions were carried out"
    ),
  );
});

Deno.test("agent: in one batch, verdicts with a tree kill are handled before single kills", async () => {
  const start = sampleVerdict().process.start;
  const kill = (name: string, tree: boolean) =>
    sampleVerdict({
      name,
      actions: [{ type: "report" }, { type: "kill", pid: 4242, start, entity_id: "x", tree }],
    });
  const engine: EngineLike = {
    process: (e) => ({
      verdicts: e.process.pid === 1
        ? [kill("Behavior:Linux/Single.A", false), kill("Behavior:Linux/Tree.A", true)]
        : [kill("Behavior:Linux/Later.A", false)],
    }),
  };
  const { sensor, agent, order } = setup(engine);
  sensor.push(exec(1), exec(2));
  sensor.end();
  await agent.run({ untilSourceEnds: true });
  assert.deepEqual(order.map((o) => o.split(" ")[1]), [
    "Behavior:Linux/Tree.A",
    "Behavior:Linux/Single.A",
    "Behavior:Linux/Later.A",
  ]);
});
