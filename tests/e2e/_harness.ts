/**
 * End-to-end harness: a real `bm daemon` child process (the real native
 * sensor, engine, responder and SQLite store) whose fanotify marks are
 * confined to tmpfs mounts this harness creates, with BM_STATE_DIR,
 * BM_LOCAL_CONFIG and BM_MANAGED_CONFIG in a private temp dir. Root only.
 *
 * Every wait has a deadline; `stop()` always unmounts and removes what it
 * made, even after a failure.
 */
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { buildTestLibrary } from "../../ffi/synthetic_test_utils.ts";
import { callDaemon } from "../../src/daemon/control_socket.ts";
import { selfCommand } from "../../src/daemon/self_command.ts";
import type { HealthReport } from "../../src/daemon/health.ts";
import type { ThreatSummary } from "../../src/store/threat.ts";

const repo = new URL("../../", import.meta.url).pathname;
export const canRunE2e = Deno.build.os === "linux" && Deno.uid() === 0 &&
  exists(`${repo}dylib/build/libbm_sensor.so`);

function exists(p: string): boolean {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
}

export interface AgentOptions {
  mode: "block" | "audit";
  /** Extra tmpfs mounts to create and mark (e.g. a fake home under /home). */
  extraMounts?: string[];
  /**
   * Run the production "every filesystem" mode (mountinfo scan and following)
   * through the test build of the library, confined to tmpfs mounts under the
   * agent's own directory (BM_TEST_MARKS_ONLY_UNDER); the production library
   * would refuse that and mark the machine's real filesystems.
   */
  followMounts?: boolean;
  /** Extra TOML appended to the local config. */
  toml?: string;
  /**
   * BM_DEBUG_STALL_MS for the daemon: it sits on every batch with an auth
   * event this long. Only the test build of the library takes it, so the
   * daemon runs on that build.
   */
  stallMs?: number;
  /**
   * Start the daemon through `bin/bm` (the V8 flags a release runs with, e.g.
   * its young-generation size) instead of bare `deno run`; benches that
   * measure memory need it.
   */
  viaBinBm?: boolean;
  /** Export every raw event (default true: a scenario that misses can show why). */
  rawEvents?: boolean;
}

/** What a stopped agent leaves for keepingLogs to keep if its test fails. */
interface Kept {
  health: string;
  events: string;
  log: string;
}

/** The agents started by the keepingLogs test now running (tests run one at a time); else undefined. */
let current: TestAgent[] | undefined;

export class TestAgent {
  private logged: Promise<void> | undefined;
  /** Set by stop() in a keepingLogs test: the agent's dir is gone by the time its failure is seen. */
  kept: Kept | undefined;
  constructor(
    readonly dir: string,
    /** The marked scratch tmpfs, under /tmp so download rules see a temp path. */
    readonly scratch: string,
    readonly mounts: string[],
    readonly env: Record<string, string>,
    readonly proc: Deno.ChildProcess,
    logFile: Deno.FsFile,
  ) {
    this.logged = copyOut(proc.stderr, logFile);
  }

  get socket(): string {
    return `${this.env.BM_STATE_DIR}/bm.sock`;
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    return callDaemon(method, params, { path: this.socket, timeoutMs: 5000 });
  }

  async health(): Promise<Record<string, unknown>> {
    return ((await this.call("health")) as HealthReport).fields;
  }

  threats(): Promise<ThreatSummary[]> {
    return this.call("threat_list") as Promise<ThreatSummary[]>;
  }

  /** Runs `bm ARGS` against this agent's state and config; fails unless it exits 0. Its stdout. */
  async bm(...args: string[]): Promise<string> {
    const self = selfCommand();
    const r = await run(self.cmd, [...self.args, ...args], {
      env: { BM_STATE_DIR: this.env.BM_STATE_DIR!, BM_LOCAL_CONFIG: this.env.BM_LOCAL_CONFIG! },
      timeoutMs: 30_000,
    });
    assert.equal(r.code, 0, `bm ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  }

  /**
   * Waits until a threat with one of `names` has one of `statuses` (its
   * response recorded); hard deadline `timeoutMs`.
   */
  async waitThreat(
    names: string[],
    statuses: string[],
    timeoutMs = 10_000,
  ): Promise<ThreatSummary> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const t = (await this.threats()).find((x) =>
        names.includes(x.name) && statuses.includes(x.status)
      );
      if (t) return t;
      await sleep(100);
    }
    const seen: string[] = [];
    for (const t of await this.threats()) {
      const d = await this.call("threat_get", { id: t.id }) as {
        actions: { type: string; target: string; result: string; detail?: string }[];
        process: { executable: string; args: string[] };
      };
      const acts = d.actions.map((a) => `${a.type} ${a.target}: ${a.result} ${a.detail ?? ""}`);
      seen.push(
        `${t.name} (${t.status}; ${d.process.executable} ${d.process.args.join(" ")}; ${
          acts.join("; ")
        })`,
      );
    }
    throw new Error(
      `No threat ${names.join(" or ")} in ${timeoutMs} ms; threats: ${
        seen.join(", ") || "none"
      }\n${this.log()}\nevents naming the scratch mount:\n${this.events()}`,
    );
  }

  /** The last exported events that name the scratch mount (raw export is on in tests). */
  events(limit = 40): string {
    try {
      const dir = `${this.dir}/state`;
      const file = [...Deno.readDirSync(dir)].find((e) => e.name.endsWith(".jsonl"));
      if (!file) return "(no event export)";
      return Deno.readTextFileSync(`${dir}/${file.name}`).split("\n")
        .filter((l) => l.includes(this.scratch)).slice(-limit).join("\n");
    } catch (e) {
      return `(no event export: ${e instanceof Error ? e.message : String(e)})`;
    }
  }

  /** The last `lines` lines of the daemon's log (its stderr). */
  log(lines = 40): string {
    try {
      return Deno.readTextFileSync(`${this.dir}/daemon.log`).split("\n").slice(-lines).join("\n");
    } catch {
      return "";
    }
  }

  /**
   * Polls `probe` every `intervalMs` until `ok` holds for what it returns;
   * hard deadline `timeoutMs`. On timeout it fails an assertion naming `what`
   * and the last value seen (through `show`) or the probe's last error.
   * Returns the value that passed.
   */
  async waitFor<T>(
    what: string,
    probe: () => Promise<T>,
    ok: (v: T) => boolean,
    { timeoutMs = 10_000, intervalMs = 100, show = (v: T) => JSON.stringify(v) }: {
      timeoutMs?: number;
      intervalMs?: number;
      show?: (v: T) => string;
    } = {},
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last = "none (no probe answered)";
    for (;;) {
      try {
        const v = await probe();
        if (ok(v)) return v;
        last = show(v);
      } catch (e) {
        last = `error: ${e instanceof Error ? e.message : String(e)}`;
      }
      if (Date.now() >= deadline) break;
      await sleep(intervalMs);
    }
    assert.fail(`Waited ${timeoutMs} ms for ${what}; last: ${last}`);
  }

  /**
   * Waits until health field `field` equals `want` (deep equality) or, when
   * `want` is a function, satisfies it; returns that health report. On
   * timeout it fails an assertion naming the field, what was wanted and the
   * field's last value.
   */
  waitForHealth(
    field: string,
    want: unknown,
    timeoutMs = 10_000,
  ): Promise<Record<string, unknown>> {
    const ok = typeof want === "function"
      ? (h: Record<string, unknown>) => Boolean(want(h[field]))
      : (h: Record<string, unknown>) => isDeepStrictEqual(h[field], want);
    const wanted = typeof want === "function" ? `to satisfy ${want}` : `= ${JSON.stringify(want)}`;
    return this.waitFor(`health.${field} ${wanted}`, () => this.health(), ok, {
      timeoutMs,
      show: (h) => `health.${field} = ${JSON.stringify(h[field])}`,
    });
  }

  /** SIGTERM, wait (hard 15 s, then SIGKILL), unmount, remove. Returns the daemon's exit code. */
  async stop(): Promise<number | undefined> {
    let code: number | undefined;
    const keeping = current?.includes(this) ?? false;
    // Before SIGTERM: the health the daemon reports at the end of the test.
    const health = keeping
      ? await withTimeout(
        this.health().then((h) => JSON.stringify(h), (e) => `(no health: ${e})`),
        2000,
      ) ?? "(no health within 2 s)"
      : "";
    try {
      this.proc.kill("SIGTERM");
    } catch { /* gone */ }
    const st = await withTimeout(this.proc.status, 15_000);
    if (st === undefined) {
      try {
        this.proc.kill("SIGKILL");
      } catch { /* gone */ }
      await this.proc.status;
    } else code = st.code;
    await withTimeout(this.logged ?? Promise.resolve(), 2000);
    if (keeping) this.kept = { health, events: this.events(), log: this.log(Infinity) };
    for (const m of [...this.mounts].reverse()) await umount(m);
    for (const m of this.mounts) {
      if (!m.startsWith(this.dir)) await Deno.remove(m, { recursive: true }).catch(() => {});
    }
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    return code;
  }
}

/**
 * Copies the daemon's stderr to its log file chunk by chunk, as it comes:
 * `pipeTo(file.writable)` held the lines back while the daemon ran, so
 * `log()` read an empty file when a test failed.
 */
async function copyOut(from: ReadableStream<Uint8Array>, to: Deno.FsFile): Promise<void> {
  try {
    for await (const chunk of from) {
      for (let off = 0; off < chunk.length;) off += to.writeSync(chunk.subarray(off));
    }
  } catch {
    /* the daemon is gone or the file closed */
  } finally {
    try {
      to.close();
    } catch { /* already closed */ }
  }
}

export async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const r = await Promise.race([
    p,
    new Promise<undefined>((res) => (timer = setTimeout(() => res(undefined), ms))),
  ]);
  clearTimeout(timer);
  return r;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function run(
  cmd: string,
  args: string[],
  opts: { timeoutMs?: number; cwd?: string; env?: Record<string, string> } = {},
): Promise<
  {
    pid: number;
    code: number;
    signal: Deno.Signal | null;
    stdout: string;
    stderr: string;
    timedOut: boolean;
  }
> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.env ? { env: opts.env } : {}),
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, opts.timeoutMs ?? 30_000);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return {
    pid: child.pid,
    code: out.code,
    signal: out.signal,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    timedOut,
  };
}

export async function mountTmpfs(path: string): Promise<void> {
  await Deno.mkdir(path, { recursive: true });
  const r = await run("mount", ["-t", "tmpfs", "-o", "mode=0755,size=64m", "bm-e2e", path], {
    timeoutMs: 10_000,
  });
  if (r.code !== 0) throw new Error(`mount tmpfs on ${path} failed: ${r.stderr}`);
}

export async function umount(path: string): Promise<void> {
  const r = await run("umount", [path], { timeoutMs: 10_000 });
  if (r.code !== 0) await run("umount", ["-l", path], { timeoutMs: 10_000 });
}

/** Where a failed keepingLogs test keeps its agents' logs (scripts/test.sh gives each run its own). */
export const testLogDir = Deno.env.get("BM_TEST_LOG_DIR") || "/tmp/bm-test-logs";

/**
 * Wraps the `fn` of a test that starts agents: when it fails, each agent it
 * started leaves `testLogDir/<test name>.log` (`.2.log` for the second, ...;
 * only the last 3 of a test that starts more, such as guardian's 20 rounds,
 * as the one that failed is the last): the daemon's whole log, the recent
 * events naming its scratch mount and its last health report.
 * scripts/test.sh prints their tails when a run fails: under
 * `deno test --quiet` a test's own output (agent.log() printed in a catch)
 * never reaches CI's log. A wrapper of `fn` rather than of `Deno.test`, so
 * that a failure is still reported at the test's own line.
 */
export function keepingLogs(
  fn: (t: Deno.TestContext) => Promise<void>,
): (t: Deno.TestContext) => Promise<void> {
  return async (t) => {
    // A failed step fails the test without throwing here: t.step resolves false.
    let stepFailed = false;
    const step = t.step.bind(t) as (...a: unknown[]) => Promise<boolean>;
    (t as { step: unknown }).step = async (...a: unknown[]) => {
      const ok = await step(...a);
      if (!ok) stepFailed = true;
      return ok;
    };
    const agents: TestAgent[] = [];
    current = agents;
    try {
      await fn(t);
    } catch (e) {
      await keepLogs(t.name, agents);
      throw e;
    } finally {
      current = undefined;
    }
    if (stepFailed) await keepLogs(t.name, agents);
  };
}

async function keepLogs(test: string, agents: TestAgent[]): Promise<void> {
  const base = test.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 120);
  const first = Math.max(0, agents.length - 3);
  for (const [i, a] of agents.entries()) {
    if (i < first) continue;
    // An agent the test did not stop (its dir is still there) is read as it is.
    const k = a.kept ?? { health: "(agent not stopped)", events: a.events(), log: a.log(Infinity) };
    const file = `${testLogDir}/${base}${i === 0 ? "" : `.${i + 1}`}.log`;
    try {
      await Deno.mkdir(testLogDir, { recursive: true });
      await Deno.writeTextFile(
        file,
        [
          `# ${test}: agent ${i + 1} of ${agents.length} started (${a.dir})`,
          "## daemon log",
          k.log,
          "## events naming the scratch mount (last 40)",
          k.events,
          "## health at stop",
          k.health,
          "",
        ].join("\n"),
      );
      console.error(`daemon log kept in ${file}`);
    } catch (e) {
      console.error(`Could not keep the daemon log in ${file}: ${e}`);
    }
  }
}

/** Starts a daemon; resolves once behavior monitoring is enabled (hard 30 s). */
export async function startAgent(o: AgentOptions): Promise<TestAgent> {
  const dir = await Deno.makeTempDir({ prefix: "bm_e2e_", dir: "/tmp" });
  const scratch = `${dir}/t`;
  const mounts: string[] = [];
  let proc: Deno.ChildProcess | undefined;
  try {
    await mountTmpfs(scratch);
    mounts.push(scratch);
    for (const m of o.extraMounts ?? []) {
      await mountTmpfs(m);
      mounts.push(m);
    }
    const env = {
      BM_STATE_DIR: `${dir}/state`,
      BM_LOCAL_CONFIG: `${dir}/bm.toml`,
      BM_MANAGED_CONFIG: `${dir}/managed.json`,
      BM_SENSOR_LIB: o.followMounts || o.stallMs
        ? buildTestLibrary()
        : `${repo}dylib/build/libbm_sensor.so`,
      ...(o.followMounts ? { BM_TEST_MARKS_ONLY_UNDER: dir } : {}),
      ...(o.stallMs ? { BM_DEBUG_STALL_MS: String(o.stallMs) } : {}),
    };
    await Deno.writeTextFile(env.BM_LOCAL_CONFIG, agentToml(mounts, o), { mode: 0o644 });
    const log = await Deno.open(`${dir}/daemon.log`, { write: true, create: true });
    const self = o.viaBinBm ? { cmd: `${repo}bin/bm`, args: [] } : selfCommand();
    proc = new Deno.Command(self.cmd, {
      args: [
        ...self.args,
        "daemon",
        // Only this test process's descendants: the machine's other processes are not ours to kill.
        "--scope-pid",
        String(Deno.pid),
      ],
      env,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const agent = new TestAgent(dir, scratch, mounts, env, proc, log);
    current?.push(agent);
    const deadline = Date.now() + 30_000;
    let last = "";
    while (Date.now() < deadline) {
      try {
        const h = await agent.health();
        if (h.behavior_monitoring === "enabled") return agent;
        last = JSON.stringify(h.behavior_monitoring_reason ?? h.behavior_monitoring);
      } catch (e) {
        last = e instanceof Error ? e.message : String(e);
      }
      await sleep(200);
    }
    await agent.stop();
    throw new Error(`bm daemon did not become ready: ${last}\n${agent.log()}`);
  } catch (e) {
    if (proc) {
      try {
        proc.kill("SIGKILL");
      } catch { /* gone */ }
    }
    for (const m of mounts.reverse()) await umount(m);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
}

export function agentToml(mounts: string[], o: AgentOptions): string {
  return [
    ...(o.followMounts
      ? ["[sensor.marks]", `mode = "filesystems"`]
      : ["[sensor.marks]", `mode = "mounts"`, `mounts = ${JSON.stringify(mounts)}`]),
    "",
    "[features.behaviorMonitoringConfigurations]",
    `blockExecution = "${o.mode === "block" ? "enabled" : "disabled"}"`,
    "",
    // Every event the agent saw, so a scenario that misses can show why (TestAgent.events).
    ...(o.rawEvents === false
      ? []
      : ["[logging.eventExport]", "enabled = true", "rawEvents = true", ""]),
    o.toml ?? "",
  ].join("\n");
}

/** Writes an executable script into the scratch tmpfs. */
export async function script(agent: TestAgent, name: string, body: string): Promise<string> {
  const p = `${agent.scratch}/${name}`;
  await Deno.writeTextFile(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

/** A loopback HTTP server serving fixed bodies; port 0 picks a free port. */
export function httpServer(
  files: Record<string, string | Uint8Array<ArrayBuffer>>,
): { port: number; close: () => Promise<void> } {
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    (req) => {
      const path = new URL(req.url).pathname;
      const body = files[path];
      return body === undefined ? new Response("no", { status: 404 }) : new Response(body);
    },
  );
  return {
    port: (server.addr as Deno.NetAddr).port,
    close: async () => {
      ac.abort();
      await server.finished;
    },
  };
}
