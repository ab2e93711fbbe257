/**
 * Invariant 1 against the whole agent process: no exec waits on a dead,
 * stopped or frozen agent. A real `bm daemon` holds execs on a tmpfs this
 * harness mounts; bm_guardian (a separate process holding the permission
 * group) answers them when the daemon is killed, stopped or frozen, and the
 * daemon restarts a guardian that dies. Every exec runs under `timeout -s
 * KILL` and every wait has a deadline, so a failure cannot hang the machine.
 */
import assert from "node:assert/strict";
import {
  canRunE2e,
  keepingLogs,
  sleep,
  startAgent,
  type TestAgent,
  withTimeout,
} from "./_harness.ts";

const DEADLINE_MS = 3000;
const TOML = `[sensor]\nauthDeadlineMs = ${DEADLINE_MS}\ndeadlineMarginMs = 1000\n`;

interface Exec {
  done: Promise<{ ms: number; code: number }>;
  finished: () => boolean;
}

/**
 * Execs `bin` (on the marked tmpfs) through /bin/sh, so that this process's
 * spawn does not wait for the held exec; hard limit 20 s.
 */
function exec(bin: string): Exec {
  const t0 = performance.now();
  let over = false;
  const child = new Deno.Command("timeout", {
    args: ["-s", "KILL", "20", "/bin/sh", "-c", `"${bin}"`],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const done = child.status.then((s) => {
    over = true;
    return { ms: performance.now() - t0, code: s.code };
  });
  return { done, finished: () => over };
}

async function copyTrue(agent: TestAgent): Promise<string> {
  const bin = `${agent.scratch}/true_copy`;
  await Deno.copyFile("/bin/true", bin);
  await Deno.chmod(bin, 0o755);
  return bin;
}

async function guardianPid(agent: TestAgent): Promise<number> {
  const g = String((await agent.health()).guardian);
  const m = /^running \(pid (\d+)\)$/.exec(g);
  assert.ok(m, `guardian: ${g}`);
  return Number(m[1]);
}

/** Execs while the agent cannot answer: each one completes by the deadline. */
async function execsWhileAway(bin: string, forMs: number): Promise<number[]> {
  const took: number[] = [];
  const end = performance.now() + forMs;
  while (performance.now() < end) {
    const r = await exec(bin).done;
    assert.equal(r.code, 0, "exec failed or was killed by its 20 s limit");
    assert.ok(r.ms < DEADLINE_MS, `exec took ${Math.round(r.ms)} ms, deadline ${DEADLINE_MS}`);
    took.push(Math.round(r.ms));
    await sleep(2500);
  }
  return took;
}

Deno.test({
  name: "e2e guardian: kill -9 with execs held, 20 rounds: held execs finish, later ones at once",
  ignore: !canRunE2e,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: keepingLogs(async () => {
    const rounds: string[] = [];
    for (let round = 0; round < 20; round++) {
      // the engine sits on every auth batch for 60 s: the exec stays held until
      // the watchdog (deadline - margin = 2 s) unless the guardian answers first
      const agent = await startAgent({ mode: "block", stallMs: 60_000, toml: TOML });
      try {
        const bin = await copyTrue(agent);
        await guardianPid(agent);
        const held = exec(bin);
        await sleep(300);
        assert.equal(held.finished(), false, "the exec was not held");
        agent.proc.kill("SIGKILL");
        const r = await withTimeout(held.done, DEADLINE_MS + 1000 + 500);
        assert.ok(r, `round ${round}: the held exec did not finish within deadline + 1 s`);
        assert.equal(r.code, 0);
        assert.ok(r.ms < 300 + DEADLINE_MS + 1000, `round ${round}: ${r.ms} ms`);
        const st = await withTimeout(agent.proc.status, 5000);
        assert.ok(st, `round ${round}: the killed daemon did not exit (kernel deadlock?)`);
        const later = await exec(bin).done;
        assert.equal(later.code, 0);
        // "at once": no agent, no marks; a loose bound for a loaded machine
        assert.ok(later.ms < 1000, `round ${round}: later exec took ${later.ms} ms`);
        rounds.push(`${Math.round(r.ms)}/${Math.round(later.ms)}`);
      } finally {
        await agent.stop();
      }
    }
    console.log(`held/later exec ms per round: ${rounds.join(" ")}`);
  }),
});

Deno.test({
  name: "e2e guardian: SIGSTOP for 30 s: execs answered by the deadline, counted",
  ignore: !canRunE2e,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: keepingLogs(async () => {
    const agent = await startAgent({ mode: "block", toml: TOML });
    let stopped = false;
    try {
      const bin = await copyTrue(agent);
      await guardianPid(agent);
      agent.proc.kill("SIGSTOP");
      stopped = true;
      const took = await execsWhileAway(bin, 30_000);
      console.log(`exec ms while stopped: ${took.join(" ")}`);
      agent.proc.kill("SIGCONT");
      stopped = false;
      const h = await agent.health();
      assert.ok((h.auth_answered_by_guardian as number) >= took.length, JSON.stringify(h));
      // the agent answers again (a binary written to a temp dir and run: denied by the pack)
      const before = h.auth_answered_by_engine as number;
      assert.notEqual((await exec(bin).done).code, 137, "exec killed by its 20 s limit");
      const after = (await agent.health()).auth_answered_by_engine as number;
      assert.ok(after > before, `engine answers ${before} -> ${after}`);
    } finally {
      if (stopped) agent.proc.kill("SIGCONT");
      assert.equal(await agent.stop(), 0);
    }
  }),
});

/** The cgroup2 mount point, if this machine has one with cgroup.freeze. */
function cgroup2(): string | undefined {
  try {
    for (const line of Deno.readTextFileSync("/proc/self/mountinfo").split("\n")) {
      const [pre, post] = line.split(" - ");
      if (!pre || !post || !post.startsWith("cgroup2 ")) continue;
      const f = pre.split(" ");
      if (f[3] !== "/") continue;
      const mnt = f[4]!;
      Deno.statSync(`${mnt}/cgroup.procs`);
      return mnt;
    }
  } catch { /* none */ }
  return undefined;
}

const CG2 = canRunE2e ? cgroup2() : undefined;

Deno.test({
  name: "e2e guardian: frozen cgroup (cgroup.freeze) for 30 s: execs answered by the deadline",
  ignore: !canRunE2e || CG2 === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: keepingLogs(async () => {
    const agent = await startAgent({ mode: "block", toml: TOML });
    const cg = `${CG2}/bm_guardian_test_${Deno.pid}`;
    let frozen = false;
    try {
      const bin = await copyTrue(agent);
      await guardianPid(agent);
      Deno.mkdirSync(cg);
      Deno.statSync(`${cg}/cgroup.freeze`);
      Deno.writeTextFileSync(`${cg}/cgroup.procs`, `${agent.proc.pid}\n`);
      Deno.writeTextFileSync(`${cg}/cgroup.freeze`, "1\n");
      frozen = true;
      const until = Date.now() + 5000;
      while (!Deno.readTextFileSync(`${cg}/cgroup.events`).includes("frozen 1")) {
        assert.ok(Date.now() < until, "the cgroup did not freeze");
        await sleep(50);
      }
      const took = await execsWhileAway(bin, 30_000);
      console.log(`exec ms while frozen: ${took.join(" ")}`);
      Deno.writeTextFileSync(`${cg}/cgroup.freeze`, "0\n");
      frozen = false;
      const h = await agent.health();
      assert.ok((h.auth_answered_by_guardian as number) >= took.length, JSON.stringify(h));
    } finally {
      if (frozen) Deno.writeTextFileSync(`${cg}/cgroup.freeze`, "0\n");
      try {
        Deno.writeTextFileSync(`${CG2}/cgroup.procs`, `${agent.proc.pid}\n`);
      } catch { /* gone */ }
      assert.equal(await agent.stop(), 0);
      try {
        Deno.removeSync(cg);
      } catch { /* not made */ }
    }
  }),
});

Deno.test({
  name: "e2e guardian: killed, the agent notices, restarts it and says so in health",
  ignore: !canRunE2e,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: keepingLogs(async () => {
    const agent = await startAgent({ mode: "block", toml: TOML });
    let stopped = false;
    try {
      const bin = await copyTrue(agent);
      const first = await guardianPid(agent);
      Deno.kill(first, "SIGKILL");
      const until = Date.now() + 10_000;
      let h = await agent.health();
      while (!(h.guardian_restarts === 1 && /^running/.test(String(h.guardian)))) {
        assert.ok(Date.now() < until, `no restart: ${JSON.stringify(h)}`);
        await sleep(100);
        h = await agent.health();
      }
      const second = await guardianPid(agent);
      assert.notEqual(second, first);
      // the new one does the job
      agent.proc.kill("SIGSTOP");
      stopped = true;
      const took = await execsWhileAway(bin, 1);
      agent.proc.kill("SIGCONT");
      stopped = false;
      assert.equal(took.length, 1);
      assert.ok(((await agent.health()).auth_answered_by_guardian as number) >= 1);
    } finally {
      if (stopped) agent.proc.kill("SIGCONT");
      assert.equal(await agent.stop(), 0);
    }
  }),
});
