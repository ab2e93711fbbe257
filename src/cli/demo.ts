/**
 * `bm demo`: the behavior-monitoring demonstration (Defender's
 * MacOSChangeFileTest, for bm).
 *
 * Live (root on Linux): bm re-runs itself in a private mount namespace
 * (`unshare --mount --propagation private`) and mounts a scratch tmpfs on /tmp
 * there. The demonstration rule watches two fixed /tmp marker files, so
 * covering /tmp with the scratch tmpfs is what lets the agent's fanotify marks
 * be confined to that tmpfs while the rule stays exactly as shipped; the
 * host's /tmp is never touched. In the namespace it starts an agent with its
 * own state and config (BM_STATE_DIR, BM_LOCAL_CONFIG, BM_MANAGED_CONFIG under
 * the tmpfs), runs a benign script that appends to the two marker files and
 * sleeps, shows that the agent killed it, prints `bm threats`, stops the agent
 * and unmounts. When the namespace ends nothing is left behind.
 *
 * Otherwise it says why and replays the recorded trace of the same
 * demonstration (policies/demo/demo_trace.jsonl) with `bm replay`. That
 * trace was captured with `bm record --mount /tmp` in the same namespace set-up
 * while the same script ran, then cut down to the script's process tree (the
 * proc connector also reports every other process on the machine).
 */
import { callDaemon } from "../daemon/control_socket.ts";
import type { HealthReport } from "../daemon/health.ts";
import { selfCommand } from "../daemon/self_command.ts";
import { BmError } from "../errors.ts";
import { type Command, parseCommandArgs } from "./command.ts";
import { replayCommand } from "./replay.ts";
import { threatsCommand } from "./threats.ts";

const USAGE = `Usage: bm demo [--replay]

The behavior-monitoring demonstration. As root on Linux it starts an agent
confined to a scratch tmpfs (mounted on /tmp inside a private mount namespace,
so the host's /tmp is untouched), runs a benign script that appends to
/tmp/bm_change_file_test_1.txt and /tmp/bm_change_file_test_2.txt and then
sleeps, shows that bm killed it (Behavior:Linux/BmChangeFileTest), prints
"bm threats" and cleans up. Otherwise (or with --replay) it replays a recorded
trace of the same demonstration with "bm replay". Takes under a minute and
leaves nothing behind.`;

const SCRATCH = "/tmp/bm-demo";
const MARKER_1 = "/tmp/bm_change_file_test_1.txt";
const MARKER_2 = "/tmp/bm_change_file_test_2.txt";
const OUTER_TIMEOUT_MS = 55_000;

export const demoCommand: Command = {
  name: "demo",
  summary: "the behavior-monitoring demonstration (live as root on Linux, else replayed)",
  usage: USAGE,
  async run(args: string[]): Promise<number> {
    const { values } = parseCommandArgs("demo", {
      args,
      options: { replay: { type: "boolean" }, inside: { type: "boolean" } },
      strict: true,
    });
    if (values.inside) return await inside();
    const why = values.replay ? "--replay given" : liveUnavailable();
    if (why) return await replayed(why);
    return await outer();
  },
};

function liveUnavailable(): string | undefined {
  if (Deno.build.os !== "linux") {
    return `the live demonstration needs Linux (this is ${Deno.build.os})`;
  }
  if (Deno.uid() !== 0) return `the live demonstration needs root (uid is ${Deno.uid()})`;
  for (const tool of ["unshare", "mount", "umount"]) {
    if (!which(tool)) return `"${tool}" is not installed`;
  }
  return undefined;
}

function which(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
    try {
      const p = `${dir}/${name}`;
      if (Deno.statSync(p).isFile) return p;
    } catch { /* next */ }
  }
  return undefined;
}

function say(line: string): void {
  console.log(line);
}

async function replayed(why: string): Promise<number> {
  say(`bm demo: ${why}: replaying the recorded demonstration instead.`);
  const trace = demoTrace();
  say(`$ bm replay ${trace}`);
  return await replayCommand.run([trace]);
}

function demoTrace(): string {
  const candidates = [
    new URL("../../policies/demo/demo_trace.jsonl", import.meta.url).pathname,
    "/usr/share/bm/demo/demo_trace.jsonl",
  ];
  for (const c of candidates) {
    try {
      if (Deno.statSync(c).isFile) return c;
    } catch { /* next */ }
  }
  throw new BmError(`Cannot find the demonstration trace: looked for ${candidates.join(", ")}`);
}

/** Runs the demonstration in a private mount namespace; the namespace's end cleans up. */
async function outer(): Promise<number> {
  const self = selfCommand();
  const child = new Deno.Command("unshare", {
    args: ["--mount", "--propagation", "private", "--", self.cmd, ...self.args, "demo", "--inside"],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const timer = setTimeout(() => {
    console.error(`bm demo: no result after ${OUTER_TIMEOUT_MS / 1000} s: stopping it`);
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, OUTER_TIMEOUT_MS);
  const status = await child.status;
  clearTimeout(timer);
  return status.code;
}

async function run(cmd: string, args: string[]): Promise<void> {
  // From "/": while the scratch tmpfs covers /tmp and the entries bm runs from
  // are not yet bound back, a working directory under /tmp (a CI clone) has no
  // path, and Deno refuses to spawn from it.
  const out = await new Deno.Command(cmd, { args, cwd: "/", stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim();
    throw new BmError(`"${cmd} ${args.join(" ")}" failed: ${err || `exit ${out.code}`}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Top-level entries of /tmp that this bm itself runs from (a source checkout or
 * a Deno binary under /tmp, as in a CI clone). The scratch tmpfs would hide
 * them, so they are bound back into it.
 */
export function entriesBmNeedsUnderTmp(): string[] {
  const paths = [Deno.execPath(), new URL("../../", import.meta.url).pathname, Deno.cwd()];
  const tops = new Set<string>();
  for (const p of paths) {
    const real = (() => {
      try {
        return Deno.realPathSync(p);
      } catch {
        return p;
      }
    })();
    for (const q of [p, real]) {
      if (!q.startsWith("/tmp/")) continue;
      const top = q.slice("/tmp/".length).split("/")[0];
      if (top) tops.add(top);
    }
  }
  return [...tops];
}

/** Mounts the scratch tmpfs on /tmp, keeping visible what bm itself runs from. */
async function mountScratchTmp(): Promise<void> {
  const keep = entriesBmNeedsUnderTmp();
  let aside: string | undefined;
  if (keep.length > 0) {
    // A bind of the old /tmp outside it, so its entries can be bound back after.
    for (const dir of ["/run", "/dev/shm", "/var/tmp"]) {
      try {
        aside = Deno.makeTempDirSync({ dir, prefix: "bm-demo-" });
        break;
      } catch { /* next */ }
    }
    if (aside === undefined) throw new BmError("Cannot make a directory to keep /tmp entries in");
    await run("mount", ["--bind", "/tmp", aside]);
  }
  await run("mount", ["-t", "tmpfs", "-o", "mode=1777,size=16m", "bm-demo", "/tmp"]);
  if (aside === undefined) return;
  try {
    for (const top of keep) {
      const src = `${aside}/${top}`;
      const dst = `/tmp/${top}`;
      if (Deno.statSync(src).isDirectory) Deno.mkdirSync(dst);
      else Deno.writeFileSync(dst, new Uint8Array());
      await run("mount", ["--bind", src, dst]);
    }
  } finally {
    await run("umount", ["-l", aside]).catch(() => {});
    try {
      Deno.removeSync(aside);
    } catch { /* still busy: it is empty and in a scratch location */ }
  }
}

/** In the private mount namespace. */
async function inside(): Promise<number> {
  const t0 = Date.now();
  await mountScratchTmp();
  let daemon: Deno.ChildProcess | undefined;
  try {
    Deno.mkdirSync(SCRATCH, { mode: 0o700 });
    const env = {
      BM_STATE_DIR: `${SCRATCH}/state`,
      BM_LOCAL_CONFIG: `${SCRATCH}/bm.toml`,
      BM_MANAGED_CONFIG: `${SCRATCH}/managed.json`,
    };
    for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
    Deno.writeTextFileSync(
      env.BM_LOCAL_CONFIG,
      [
        "# bm demo: marks confined to the scratch tmpfs on /tmp",
        "[sensor.marks]",
        `mode = "mounts"`,
        `mounts = ["/tmp"]`,
        "",
        "[features.behaviorMonitoringConfigurations]",
        `blockExecution = "enabled"`,
        "",
      ].join("\n"),
      { mode: 0o644 },
    );
    say("bm demo: the behavior-monitoring demonstration");
    say(`1. Starting a bm agent confined to a scratch tmpfs on /tmp (private mount namespace)`);
    const self = selfCommand();
    const log = Deno.openSync(`${SCRATCH}/daemon.log`, { write: true, create: true, append: true });
    daemon = new Deno.Command(self.cmd, {
      // Rules see only this demonstration's own processes, never the rest of the machine.
      args: [...self.args, "daemon", "--scope-pid", String(Deno.pid)],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      env,
    }).spawn();
    // pipeTo closes the log file when the daemon's stderr ends.
    const logged = daemon.stderr.pipeTo(log.writable).catch(() => {});
    const health = await waitHealthy(daemon);
    say(
      `   agent pid ${health.fields.pid}: behavior_monitoring ${health.fields.behavior_monitoring}, ` +
        `subsystem ${health.fields.real_time_protection_subsystem}, ${health.fields.rules_count} rules`,
    );

    const script = `${SCRATCH}/bm_change_file_test.sh`;
    Deno.writeTextFileSync(
      script,
      [
        "#!/bin/sh",
        "# bm demonstration: a benign script that appends to the two marker files, then sleeps.",
        `echo "bm demonstration" >> ${MARKER_1}`,
        `echo "bm demonstration" >> ${MARKER_2}`,
        "sleep 30",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    say(`2. Running the test script (appends to ${MARKER_1} and ${MARKER_2}, then sleeps 30 s)`);
    const started = Date.now();
    const victim = new Deno.Command("/bin/sh", { args: [script], stdin: "null" }).spawn();
    say(`   $ sh ${script}   (pid ${victim.pid})`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      victim.status,
      new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 20_000))),
    ]);
    clearTimeout(timer);
    let ok: boolean;
    if (status === undefined) {
      victim.kill("SIGKILL");
      await victim.status;
      say("3. The script was NOT stopped within 20 s: the demonstration failed");
      ok = false;
    } else if (status.signal === "SIGKILL") {
      say(`3. bm killed the script (SIGKILL) ${Date.now() - started} ms after it started`);
      ok = true;
    } else {
      say(`3. The script ended by itself (exit ${status.code}): the demonstration failed`);
      ok = false;
    }
    await sleep(200);
    say("4. bm threats");
    await threatsCommand.run([]);
    if (!ok) {
      say(`   agent log (${SCRATCH}/daemon.log):`);
      say(Deno.readTextFileSync(`${SCRATCH}/daemon.log`).split("\n").slice(-15).join("\n"));
    }
    say("5. Cleaning up: stopping the agent, unmounting the scratch tmpfs");
    await stopDaemon(daemon);
    daemon = undefined;
    await logged;
    say(`bm demo: ${ok ? "done" : "FAILED"} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return ok ? 0 : 1;
  } finally {
    if (daemon) await stopDaemon(daemon);
    // Lazy: the kept entries (see mountScratchTmp) are mounted below it and may be busy.
    await run("umount", ["-l", "/tmp"]).catch((e) => console.error(String(e.message ?? e)));
  }
}

async function waitHealthy(daemon: Deno.ChildProcess): Promise<HealthReport> {
  const deadline = Date.now() + 25_000;
  let exited = false;
  daemon.status.then(() => (exited = true));
  let last = "";
  while (Date.now() < deadline && !exited) {
    try {
      const h = await callDaemon("health", {}, { timeoutMs: 2000 }) as HealthReport;
      if (h.fields.behavior_monitoring === "enabled") return h;
      last = String(h.fields.behavior_monitoring_reason ?? h.fields.behavior_monitoring);
      if (h.fields.behavior_monitoring === "unavailable") break;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await sleep(200);
  }
  throw new BmError(
    `The demo agent did not start: ${last || "it exited"} (log: ${SCRATCH}/daemon.log)`,
  );
}

async function stopDaemon(daemon: Deno.ChildProcess): Promise<void> {
  try {
    daemon.kill("SIGTERM");
  } catch { /* gone */ }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const done = await Promise.race([
    daemon.status.then(() => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 10_000))),
  ]);
  clearTimeout(timer);
  if (!done) {
    try {
      daemon.kill("SIGKILL");
    } catch { /* gone */ }
    await daemon.status;
  }
}
