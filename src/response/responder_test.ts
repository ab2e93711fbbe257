import assert from "node:assert/strict";
import * as fs from "node:fs";
import { FakeClock } from "../clock_test_utils.ts";
import { FakeThreatStore } from "../store/fake_threat_store_test_utils.ts";
import { SqliteThreatStore } from "../store/threat_store.ts";
import { threatDbPath, vaultDir } from "../store/state_dir.ts";
import { sampleVerdict } from "../store/verdict_test_utils.ts";
import type { ProcessInspector } from "./process_inspector.ts";
import { LinuxProcessInspector, parseStat } from "./process_inspector.ts";
import { Responder } from "./responder.ts";

/** One fake process, pid 4242 started when sampleVerdict says, no children. */
function fakeWorld() {
  const v = sampleVerdict();
  const clock = new FakeClock(10);
  const store = new FakeThreatStore(clock);
  const signals: string[] = [];
  const denied: number[] = [];
  const inspector: ProcessInspector = {
    info: (pid) =>
      pid === 4242 ? { pid, ppid: 4000, state: "S", start: v.process.start } : undefined,
    children: () => [],
  };
  const sensor = { denyProcess: (pid: number) => void denied.push(pid) };
  const signal = (pid: number, sig: Deno.Signal) => void signals.push(`${sig} ${pid}`);
  return {
    v,
    signals,
    denied,
    inspector,
    sensor,
    signal,
    clock,
    store,
    /** A Responder on this world's store, clock, sensor, inspector and signals. */
    responder(o: { vaultDir: string; allowedThreats?: string[] }) {
      return new Responder({ store, sensor, clock, inspector, signal, ...o });
    },
  };
}

Deno.test("records before acting, runs block, kill, quarantine in that order, keeps outcomes", async () => {
  const w = fakeWorld();
  const { store } = w;
  const r = w.responder({ vaultDir: "/nonexistent/vault" });
  const verdict = sampleVerdict({
    actions: [
      { type: "report" },
      { type: "quarantine", path: "/nonexistent/dir/payload", entity_id: "x" },
      { type: "kill", pid: 4242, start: w.v.process.start, entity_id: "x", tree: true },
      { type: "block", auth_id: 9, pid: 4242, entity_id: "x" },
    ],
  });
  const res = await r.handle(verdict);
  assert.match(store.calls[0]!, /^record /);
  assert.deepEqual(res.actions.map((a) => [a.type, a.result]), [
    ["block", "ok"],
    ["kill", "ok"],
    ["quarantine", "error"],
    ["report", "ok"],
  ]);
  assert.match(res.actions[2]!.detail!, /Cannot quarantine "\/nonexistent\/dir\/payload"/);
  assert.deepEqual(w.denied, [4242]);
  assert.deepEqual(w.signals, ["SIGSTOP 4242", "SIGKILL 4242"]);
  assert.equal(res.status, "killed");
  const t = store.get(res.threatId)!;
  assert.equal(t.status, "killed");
  assert.deepEqual(t.actions, res.actions);
});

Deno.test("audit mode records audited and acts on nothing", async () => {
  const w = fakeWorld();
  const { store } = w;
  const r = w.responder({ vaultDir: "/nonexistent" });
  const res = await r.handle(sampleVerdict({ mode: "audit" }));
  assert.equal(res.status, "audited");
  assert.equal(store.get(res.threatId)!.status, "audited");
  assert.ok(res.actions.every((a) => a.result === "skipped" && a.detail === "audit mode"));
  assert.deepEqual(w.signals, []);
  assert.deepEqual(w.denied, []);
});

Deno.test("an allowed threat name is recorded as allowed and nothing is done", async () => {
  const w = fakeWorld();
  const r = w.responder({
    vaultDir: "/nonexistent",
    allowedThreats: [w.v.name],
  });
  const res = await r.handle(w.v);
  assert.equal(res.status, "allowed");
  assert.deepEqual(w.signals, []);
  r.setAllowedThreats([]);
  const res2 = await r.handle(w.v);
  assert.notEqual(res2.status, "allowed");
  assert.ok(w.signals.length > 0);
});

Deno.test("a kill refused for a reused pid is recorded as an error and the status stays active", async () => {
  const w = fakeWorld();
  const r = w.responder({ vaultDir: "/x" });
  const res = await r.handle(sampleVerdict({
    actions: [{
      type: "kill",
      pid: 4242,
      start: w.v.process.start + 60_000,
      entity_id: "x",
      tree: false,
    }],
  }));
  assert.equal(res.status, "active");
  assert.equal(res.actions[0]!.result, "error");
  assert.match(res.actions[0]!.detail!, /pid reused/);
  assert.deepEqual(w.signals, []);
});

Deno.test({
  name: "end to end: real process tree killed, real file quarantined, real store says quarantined",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const dir = await Deno.makeTempDir();
    const clock = new FakeClock(1_800_000_000_000);
    const store = new SqliteThreatStore({ path: threatDbPath(`${dir}/state`), clock });
    // Fixed literal script, tests only.
    const child = new Deno.Command("sh", {
      args: ["-c", "sleep 300 & wait"],
      stdout: "null",
    }).spawn();
    try {
      const ins = new LinuxProcessInspector();
      for (let i = 0; i < 100 && ins.children(child.pid).length === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const sleeper = ins.children(child.pid)[0]!;
      const payload = `${dir}/payload`;
      fs.writeFileSync(payload, "#!/bin/sh\necho hi\n", { mode: 0o755 });
      const r = new Responder({
        store,
        sensor: { denyProcess: () => {} },
        clock,
        vaultDir: vaultDir(`${dir}/state`),
      });
      const res = await r.handle(sampleVerdict({
        actions: [
          {
            type: "kill",
            pid: child.pid,
            start: ins.info(child.pid)!.start,
            entity_id: "e",
            tree: true,
          },
          { type: "quarantine", path: payload, entity_id: "e" },
        ],
      }));
      assert.deepEqual(res.actions.map((a) => a.result), ["ok", "ok"]);
      assert.equal((await child.status).signal, "SIGKILL");
      let state = "";
      for (let i = 0; i < 100; i++) {
        try {
          state = parseStat(fs.readFileSync(`/proc/${sleeper}/stat`, "utf8")).state;
        } catch {
          state = "gone";
        }
        if (state === "gone" || state === "Z") break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(state === "gone" || state === "Z", `sleeper ${state}`);
      assert.equal(fs.existsSync(payload), false);
      const t = store.get(res.threatId)!;
      assert.equal(t.status, "quarantined");
      assert.equal(store.listQuarantine({ threatId: t.id }).length, 1);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* dead */ }
      await child.status;
      store.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** "alive" unless the pid is gone or a zombie. */
function alive(pid: number): boolean {
  try {
    return parseStat(fs.readFileSync(`/proc/${pid}/stat`, "utf8")).state !== "Z";
  } catch {
    return false;
  }
}

Deno.test({
  name: "single and tree kills of one tree: the tree kill runs first and no grandchild survives",
  ignore: Deno.build.os !== "linux",
  sanitizeResources: false,
  async fn() {
    const ins = new LinuxProcessInspector();
    // Fixed literal script, tests only: sh -> {sh -> sleep, sleep}.
    const tree = new Deno.Command("sh", {
      args: ["-c", "sh -c 'sleep 300; :' & sleep 300 & wait"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const all: number[] = [];
    try {
      for (let i = 0; i < 200 && all.length < 3; i++) {
        await new Promise((r) => setTimeout(r, 20));
        all.length = 0;
        const walk = (p: number) => {
          for (const c of ins.children(p)) {
            all.push(c);
            walk(c);
          }
        };
        walk(tree.pid);
      }
      assert.equal(all.length, 3, "tree did not appear");
      const mid = all.find((p) => ins.children(p).length > 0)!;
      const kill = (pid: number, tree: boolean) => ({
        type: "kill" as const,
        pid,
        start: ins.info(pid)!.start,
        entity_id: `e${pid}`,
        tree,
      });
      const clock = new FakeClock(10);
      const store = new FakeThreatStore(clock);
      const r = new Responder({ store, sensor: { denyProcess: () => {} }, clock, vaultDir: "/x" });
      // A rule's single kill of the target and of its child, listed before another's tree kill.
      const res = await r.handle(sampleVerdict({
        actions: [kill(tree.pid, false), kill(mid, false), kill(tree.pid, true)],
      }));
      assert.deepEqual(res.actions.map((a) => [a.target, a.result]), [
        [`pid ${tree.pid} and descendants`, "ok"],
        [`pid ${mid}`, "skipped"],
      ]);
      assert.equal(res.status, "killed");
      assert.equal((await tree.status).signal, "SIGKILL");
      for (let i = 0; i < 100 && all.some(alive); i++) await new Promise((r) => setTimeout(r, 20));
      for (const p of all) assert.equal(alive(p), false, `pid ${p} survived`);
    } finally {
      try {
        tree.kill("SIGKILL");
      } catch { /* dead */ }
      for (const p of all) {
        try {
          Deno.kill(p, "SIGKILL");
        } catch { /* dead */ }
      }
      await tree.status;
    }
  },
});

Deno.test("the store cannot write: block and kill are still carried out, the outcome kept in the result", async () => {
  const w = fakeWorld();
  const { store } = w;
  store.failWrites = "disk full";
  const r = w.responder({ vaultDir: "/nonexistent/vault" });
  const res = await r.handle(sampleVerdict({
    actions: [
      { type: "report" },
      { type: "quarantine", path: "/nonexistent/dir/payload", entity_id: "x" },
      { type: "kill", pid: 4242, start: w.v.process.start, entity_id: "x", tree: true },
      { type: "block", auth_id: 9, pid: 4242, entity_id: "x" },
    ],
  }));
  assert.deepEqual(w.denied, [4242]);
  assert.deepEqual(w.signals, ["SIGSTOP 4242", "SIGKILL 4242"]);
  assert.equal(res.status, "killed");
  assert.equal(res.stored, false);
  assert.match(res.storeError!, /disk full/);
  assert.match(res.threatId, /^unsaved-\d+$/);
  assert.deepEqual(res.actions.map((a) => [a.type, a.result]), [
    ["block", "ok"],
    ["kill", "ok"],
    ["quarantine", "error"],
    ["report", "ok"],
  ]);
  // Not moved into a vault it could never be restored from.
  assert.match(res.actions[2]!.detail!, /threat store could not record it/);
  assert.equal(store.threats.size, 0);
  // The store is back: the next verdict is recorded as usual.
  store.failWrites = undefined;
  const ok = await r.handle(sampleVerdict({ actions: [{ type: "report" }] }));
  assert.equal(ok.stored, true);
  assert.equal(ok.storeError, undefined);
  assert.ok(store.get(ok.threatId));
});

Deno.test({
  name: "a block of bm's own ancestor is refused and nothing is pushed down",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const clock = new FakeClock(10);
    const store = new FakeThreatStore(clock);
    const denied: number[] = [];
    const r = new Responder({
      store,
      sensor: { denyProcess: (pid) => void denied.push(pid) },
      clock,
      vaultDir: "/x",
      inspector: new LinuxProcessInspector(),
    });
    const parent = Deno.ppid;
    const res = await r.handle(sampleVerdict({
      actions: [{ type: "block", auth_id: 1, pid: parent, entity_id: "p" }],
    }));
    assert.deepEqual(denied, []);
    assert.equal(res.actions[0]!.result, "error");
    assert.match(res.actions[0]!.detail!, /ancestor of bm/);
    assert.equal(res.status, "active");
  },
});
