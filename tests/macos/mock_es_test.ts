/**
 * The real macOS sensor (dylib/macos/bm_sensor_macos.m) compiled on Linux
 * against the mock EndpointSecurity framework (dylib/macos/mock_es), loaded by
 * the same FFI code as the shipped library and driven through the TS agent,
 * engine, responder and SQLite store: what a Mac would run, minus the kernel.
 * Root only (ffi/library.ts refuses a library root does not own).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { buildLibrary, withTimeout } from "../sensor/_harness.ts";
import { NativeSensor } from "../../src/sensor/native_sensor.ts";
import { Engine } from "../../src/engine/engine.ts";
import { DEFAULT_ENGINE_OPTIONS } from "../../src/engine/engine.ts";
import { loadRules } from "../../src/engine/rule_loader.ts";
import { SqliteThreatStore } from "../../src/store/threat_store.ts";
import { Responder } from "../../src/response/responder.ts";
import { NativeProcessInspector } from "../../src/response/native_process_inspector.ts";
import { nativeProcessInfo } from "../../ffi/proc.ts";
import { Agent } from "../../src/daemon/agent.ts";
import { Logger, MemorySink } from "../../src/daemon/log.ts";
import { systemClock } from "../../src/clock.ts";
import { callDaemon } from "../../src/daemon/control_socket.ts";
import { selfCommand } from "../../src/daemon/self_command.ts";
import type { BmEvent } from "../../src/sensor/event.ts";

const repo = new URL("../../", import.meta.url).pathname;
const LIB = `${repo}dylib/build/libbm_sensor_mock_es.so`;
const ROOT = Deno.build.os === "linux" && Deno.uid() === 0;

// es_auth_result_t and es_new_client_result_t as dylib/macos/test_es_decls declares them.
const ALLOW = 0, DENY = 1;
const NEW_CLIENT_ERRORS: [number, RegExp][] = [
  [1, /invalid argument/],
  [2, /internal error/],
  [3, /not entitled/],
  [4, /not permitted: grant Full Disk Access/],
  [5, /not privileged: run "bm daemon" as root/],
  [6, /too many clients/],
];
// mock_es.h enums
const R = { answered: 0, result: 1, flags: 2, cache: 3, late: 4, latency: 5, delivered: 6 };
const S = { retains: 1, releases: 2, live: 3, late: 4, missed: 5, duplicate: 6 };

function driver() {
  const lib = Deno.dlopen(
    LIB,
    {
      bm_mock_es_reset: { parameters: [], result: "void" },
      bm_mock_es_post: { parameters: ["buffer"], result: "i32" },
      bm_mock_es_wait: { parameters: ["i32", "i32"], result: "i32", nonblocking: true },
      bm_mock_es_response: { parameters: ["i32", "buffer"], result: "i32" },
      bm_mock_es_stats: { parameters: ["buffer", "i32"], result: "i32" },
    } as const,
  );
  const enc = new TextEncoder();
  return {
    lib,
    post(fields: Record<string, string | number | (string | number)[]>): number {
      const lines: string[] = [];
      for (const [k, v] of Object.entries(fields)) {
        for (const x of Array.isArray(v) ? v : [v]) lines.push(`${k}=${x}`);
      }
      const id = lib.symbols.bm_mock_es_post(enc.encode(lines.join("\n") + "\0"));
      assert.ok(id > 0, `mock refused the message spec: ${lines.join(" | ")}`);
      return id;
    },
    async wait(id: number, ms = 15_000): Promise<boolean> {
      return (await lib.symbols.bm_mock_es_wait(id, ms)) === 1;
    },
    response(id: number): Int32Array {
      const out = new Int32Array(8);
      lib.symbols.bm_mock_es_response(id, out);
      return out;
    },
    stats(): BigInt64Array {
      const out = new BigInt64Array(16);
      lib.symbols.bm_mock_es_stats(out, 16);
      return out;
    },
  };
}

Deno.test({
  name:
    "mock ES: signing id, team id, cdhash, platform flag, responsible pid and argv reach the engine's fields",
  ignore: !ROOT,
  sanitizeResources: false,
  async fn() {
    buildLibrary();
    const d = driver();
    d.lib.symbols.bm_mock_es_reset();
    const sensor = NativeSensor.open({ libraryPath: LIB, blockExecution: true });
    try {
      const id = d.post({
        type: "AUTH_EXEC",
        "p.pid": 4200700,
        "p.ppid": 1,
        "p.exe": "/bin/zsh",
        "t.pid": 4200700,
        "t.ppid": 1,
        "t.uid": 501,
        "t.euid": 0,
        "t.exe": "/Applications/Tool.app/Contents/MacOS/tool",
        "t.signing_id": "com.example.tool",
        "t.team_id": "ABCDE12345",
        "t.cdhash": "00112233445566778899aabbccddeeff00112233",
        "t.platform": 0,
        "t.responsible": 4200650,
        "t.start_ms": 1796000000000,
        "t.tty": "/dev/ttys003",
        arg: ["tool", "--flag", "a b"],
        cwd: "/Users/alex",
      });
      let exec: BmEvent | undefined;
      await withTimeout(
        5000,
        "the exec record",
        (async () => {
          while (!exec) {
            const batch = await sensor.next(200);
            exec = batch?.find((e) => e.event.action === "exec");
          }
        })(),
      );
      const p = exec!.process;
      assert.equal(p.pid, 4200700);
      assert.equal(p.executable, "/Applications/Tool.app/Contents/MacOS/tool");
      assert.deepEqual(p.args, ["tool", "--flag", "a b"]);
      assert.equal(p.working_directory, "/Users/alex");
      assert.equal(p.responsible_pid, 4200650);
      assert.equal(p.tty, "/dev/ttys003");
      assert.equal(p.entity_id, "4200700-1796000000000");
      assert.deepEqual(p.code_signature, {
        signing_id: "com.example.tool",
        team_id: "ABCDE12345",
        cdhash: "00112233445566778899aabbccddeeff00112233",
        platform_binary: false,
      });
      assert.deepEqual(exec!.user, { id: 501, effective: { id: 0 } });
      sensor.respond({ authId: exec!.bm!.auth_id!, allow: true, cache: false });
      assert.ok(await d.wait(id));
      const r = d.response(id);
      assert.equal(r[R.result], ALLOW);
      assert.equal(r[R.late], 0);
    } finally {
      await sensor.close();
      d.lib.close();
    }
  },
});

/** The agent as the daemon composes it, over the mock-ES library and the macOS pack. */
async function macAgent(dir: string) {
  const { rules, problems } = await loadRules(`${repo}policies`, {
    requireRootOwned: false,
    checkTests: false,
  });
  assert.deepEqual(problems, []);
  const store = new SqliteThreatStore({ path: join(dir, "threats.db"), clock: systemClock });
  const sensor = NativeSensor.open({ libraryPath: LIB, blockExecution: true });
  const engine = new Engine(rules, { ...DEFAULT_ENGINE_OPTIONS, platform: "macos" }, systemClock);
  const responder = new Responder({
    store,
    sensor: { denyProcess: (pid: number) => sensor.denyProcess(pid) },
    clock: systemClock,
    vaultDir: join(dir, "vault"),
    inspector: new NativeProcessInspector(LIB),
  });
  const agent = new Agent({
    sensor,
    engine,
    store,
    respond: (v) => responder.handle(v),
    logger: new Logger("error", [new MemorySink()], systemClock),
    clock: systemClock,
    failOpen: true,
  });
  const loop = agent.run({ untilSourceEnds: false });
  return {
    store,
    async threat(name: string, statuses: string[]) {
      return await withTimeout(
        10_000,
        `threat ${name}`,
        (async () => {
          for (;;) {
            const t = store.list({}).find((x) => x.name === name && statuses.includes(x.status));
            if (t) return t;
            await new Promise((r) => setTimeout(r, 50));
          }
        })(),
      );
    },
    async close() {
      await agent.stop();
      await loop;
      await sensor.close();
      store.close();
    },
  };
}

/** ES process fields of a real process (so the response's start-time check passes). */
function esProc(prefix: "p" | "t", pid: number, start: number, exe: string) {
  return {
    [`${prefix}.pid`]: pid,
    [`${prefix}.ppid`]: Deno.pid,
    [`${prefix}.exe`]: exe,
    [`${prefix}.platform`]: 1,
    [`${prefix}.start_ms`]: start,
  };
}

function assertBalanced(st: BigInt64Array): void {
  assert.equal(st[S.retains], st[S.releases], "retain/release balance");
  assert.equal(st[S.live], 0n);
  assert.equal(st[S.late], 0n);
  assert.equal(st[S.duplicate], 0n);
}

Deno.test({
  name:
    "mock ES: the demonstration's chain on ES messages kills the real process through the response path",
  ignore: !ROOT,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    buildLibrary();
    const d = driver();
    d.lib.symbols.bm_mock_es_reset();
    const dir = await Deno.makeTempDir({ prefix: "bm_mock_es_" });
    // The process the ES messages describe is real, so the kill is real.
    const victim = new Deno.Command("sleep", { args: ["60"] }).spawn();
    const info = nativeProcessInfo(victim.pid, LIB);
    assert.ok(info, "the victim's /proc facts");
    const a = await macAgent(dir);
    try {
      const sh = (k: "p" | "t") => esProc(k, victim.pid, info!.start, "/bin/sh");
      d.post({ type: "NOTIFY_EXEC", ...sh("p"), ...sh("t"), arg: ["sh", "/tmp/demo.sh"] });
      for (const n of [1, 2]) {
        d.post({
          type: "NOTIFY_CLOSE",
          ...sh("p"),
          path: `/private/tmp/bm_change_file_test_${n}.txt`,
        });
      }
      const status = await withTimeout(10_000, "the victim to be killed", victim.status);
      assert.equal(status.signal, "SIGKILL");
      const t = await a.threat("Behavior:MacOS/BmChangeFileTest", ["killed"]);
      assert.equal(t.status, "killed");
    } finally {
      try {
        victim.kill("SIGKILL");
      } catch { /* already killed */ }
      await victim.status;
      await a.close();
      const st = d.stats();
      d.lib.close();
      await Deno.remove(dir, { recursive: true });
      assertBalanced(st);
    }
  },
});

Deno.test({
  name:
    "mock ES: a file written to /tmp and executed: AUTH_EXEC denied, the file quarantined, the lineage's next exec denied in C",
  ignore: !ROOT,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    buildLibrary();
    const d = driver();
    d.lib.symbols.bm_mock_es_reset();
    const dir = await Deno.makeTempDir({ prefix: "bm_mock_es_" });
    const payload = join(dir, "payload");
    await Deno.writeTextFile(payload, "#!/bin/sh\necho pwned\n");
    const writer = new Deno.Command("sleep", { args: ["60"] }).spawn();
    const info = nativeProcessInfo(writer.pid, LIB);
    assert.ok(info);
    const a = await macAgent(dir);
    try {
      const curl = (k: "p" | "t") => esProc(k, writer.pid, info!.start, "/usr/bin/curl");
      d.post({ type: "NOTIFY_EXEC", ...curl("p"), ...curl("t"), arg: ["curl", "-o", payload] });
      d.post({ type: "NOTIFY_CLOSE", ...curl("p"), path: payload, ino: 4242 });
      const exec = d.post({
        type: "AUTH_EXEC",
        ...curl("p"),
        ...esProc("t", writer.pid, info!.start, payload),
        arg: [payload],
        ino: 4242,
      });
      assert.ok(await d.wait(exec), "the exec was answered");
      const r = d.response(exec);
      assert.equal(r[R.result], DENY, "the engine denied the exec through TS");
      assert.equal(r[R.late], 0);
      const t = await a.threat("Behavior:MacOS/DropExecTemp.A", ["quarantined", "blocked"]);
      assert.ok(t);
      await withTimeout(
        5000,
        "the quarantine",
        (async () => {
          while (await Deno.stat(payload).then(() => true, () => false)) {
            await new Promise((r) => setTimeout(r, 50));
          }
        })(),
      );
      // block pushed the pid down: its next exec is denied in C, before the agent sees it
      const again = d.post({
        type: "AUTH_EXEC",
        ...curl("p"),
        ...esProc("t", writer.pid, info!.start, "/bin/ls"),
        arg: ["ls"],
      });
      assert.ok(await d.wait(again));
      assert.equal(d.response(again)[R.result], DENY);
    } finally {
      writer.kill("SIGKILL");
      await writer.status;
      await a.close();
      const st = d.stats();
      d.lib.close();
      await Deno.remove(dir, { recursive: true });
      assertBalanced(st);
    }
  },
});

Deno.test({
  name: "mock ES: every es_new_client failure gives its one line through bm daemon and bm health",
  ignore: !ROOT,
  sanitizeResources: false,
  async fn() {
    buildLibrary();
    const self = selfCommand();
    for (const [code, why] of NEW_CLIENT_ERRORS) {
      const dir = await Deno.makeTempDir({ prefix: "bm_mock_es_daemon_" });
      const env = {
        BM_SENSOR_LIB: LIB,
        BM_MOCK_ES_NEW_CLIENT_RESULT: String(code),
        BM_STATE_DIR: join(dir, "state"),
        BM_LOCAL_CONFIG: join(dir, "bm.toml"),
        BM_MANAGED_CONFIG: join(dir, "managed.json"),
      };
      const daemon = new Deno.Command(self.cmd, {
        args: [...self.args, "daemon"],
        env,
        stdout: "null",
        stderr: "piped",
      }).spawn();
      try {
        const health = await withTimeout(
          30_000,
          "bm health from the daemon",
          (async () => {
            for (;;) {
              try {
                return await callDaemon("health", {}, {
                  path: join(dir, "state", "bm.sock"),
                  timeoutMs: 2000,
                }) as { fields: Record<string, unknown> };
              } catch {
                await new Promise((r) => setTimeout(r, 200));
              }
            }
          })(),
        );
        assert.equal(health.fields.behavior_monitoring, "unavailable");
        const reason = String(health.fields.behavior_monitoring_reason);
        assert.match(reason, /^Cannot start the EndpointSecurity client: /);
        assert.match(reason, why);
        assert.ok(!reason.includes("\n"));
      } finally {
        daemon.kill("SIGTERM");
        const out = await daemon.output();
        const log = new TextDecoder().decode(out.stderr);
        await Deno.remove(dir, { recursive: true });
        const line = log.split("\n").find((l) => l.includes("Sensor unavailable"));
        assert.ok(line, `no "Sensor unavailable" line in:\n${log}`);
        assert.match(JSON.parse(line).reason, why);
      }
    }
  },
});
