/**
 * Where the daemon's CPU goes (not a test): root, Linux.
 *
 *   deno run -A bench/profile_daemon.ts [--execs N] [--files N] [--mode block|audit] [--json FILE]
 *     [--global] [--no-rtp]
 *     [--perf PREFIX]   also `perf record -g` the daemon's threads per workload (PREFIX.NAME.data)
 *     [--cpu-only]      thread CPU without V8's sampling profiler (which costs the JS thread too)
 *     [--save-profile PREFIX]  also write each workload's V8 profile (PREFIX.NAME.cpuprofile)
 *     [--daemon-v8-flags FLAGS]  more V8 flags for the daemon, e.g. with --perf
 *                       "--perf-basic-prof,--interpreted-frames-native-stack" (perf then names
 *                       JS functions, from /tmp/perf-PID.map)
 *
 * Starts `bm daemon` (the real sensor, engine, store) with its fanotify marks
 * confined to a tmpfs this script mounts (its whole filesystem, as the
 * daemon's default marks every filesystem: create and delete events too), and V8's inspector on a loopback
 * port; runs an exec storm (a copy of /bin/true in the tmpfs, from a bash
 * loop) and a file tree (tar x, then rm -rf, in the tmpfs) while V8's sampling
 * profiler runs. Prints, per workload:
 * - the daemon's CPU by thread (bm-sensor: the C platform thread; bm-watchdog;
 *   the JS thread; V8's GC workers; tokio's blocking pool, where asynchronous
 *   FFI waits run; V8's profiler thread, which is this script's own cost; the
 *   rest of Deno's runtime), from /proc/PID/task/TID/stat, in µs per exec /
 *   per file event;
 * - the daemon's VmRSS and VmHWM (peak RSS) after it (and once idle before
 *   the first), from /proc/PID/status: VmHWM only grows, so its step names the
 *   workload that set the peak. The daemon runs with bm's V8 flags (v8_flags.ts);
 *   the inspector's session adds a little to its RSS;
 * - the JS thread's samples by stage, from the script URL of the sampled
 *   function: decode (ffi/), sensor wait/drain (src/sensor/), process table,
 *   rules (the rest of src/engine/), response, store, export and logging,
 *   RTP, agent loop, other JS, GC, and idle/native (blocked in a wait).
 * --global marks every local filesystem instead (the daemon's default; audit
 * mode only, so no process on the machine is ever held) and adds the overhead
 * bench's file tree on the disk and its git clone; --no-rtp turns
 * forwardRtpToBm off, so a pair of runs shows what the RTP scanner costs.
 * Other processes on the machine add proc connector events (system-wide);
 * the daemon runs with --scope-pid so its rules only act on this script's
 * children, as the tests' agents do.
 */
import { parseArgs } from "node:util";
import { bmCli, daemonEnv, waitUntilEnabled } from "./_daemon.ts";
import { V8_FLAGS_ARG } from "../src/daemon/v8_flags.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    execs: { type: "string", default: "2000" },
    files: { type: "string", default: "12000" },
    mode: { type: "string", default: "block" },
    json: { type: "string" },
    port: { type: "string", default: "9339" },
    global: { type: "boolean", default: false },
    "no-rtp": { type: "boolean", default: false },
    perf: { type: "string" },
    "cpu-only": { type: "boolean", default: false },
    "save-profile": { type: "string" },
    "daemon-v8-flags": { type: "string" },
  },
  strict: true,
});
if (Deno.build.os !== "linux" || Deno.uid() !== 0) {
  console.error("bench/profile_daemon.ts runs as root on Linux");
  Deno.exit(2);
}
const EXECS = Number(flags.execs), FILES = Number(flags.files);
const repo = new URL("../", import.meta.url).pathname;
const deno = `${repo}node_modules/deno/deno`;
const TICK_US = 10_000; // USER_HZ 100

/** The daemon's VmRSS and VmHWM (peak RSS), MB, from /proc/PID/status. */
function rssMb(pid: number): { rss: number; peak: number } {
  const st = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (f: string) => Number(new RegExp(`${f}:\\s+(\\d+) kB`).exec(st)?.[1] ?? NaN);
  return { rss: Math.round(kb("VmRSS") / 102.4) / 10, peak: Math.round(kb("VmHWM") / 102.4) / 10 };
}

function sh(cmd: string, args: string[]): void {
  const r = new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).outputSync();
  if (!r.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
  }
}

/**
 * CPU µs of every thread of `pid`, by thread name, the kernel's part of it
 * (under "name sys"), and (under "name wake-ups") its context switches: each
 * one a wake-up that costs scheduler time.
 */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const s = Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/stat`);
      const comm = s.slice(s.indexOf("(") + 1, s.lastIndexOf(")"));
      const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
      const us = (Number(f[11]) + Number(f[12])) * TICK_US;
      // V8's profiler thread is this script's measurement, not the daemon's cost
      const name = t.name === String(pid)
        ? "js"
        : comm.startsWith("bm-")
        ? comm
        : comm.startsWith("v8:Prof")
        ? "v8 profiler (measurement)"
        : comm.startsWith("V8 ")
        ? "v8 workers (GC)"
        : comm.startsWith("tokio")
        ? "tokio (async FFI waits)"
        : "runtime";
      out.set(name, (out.get(name) ?? 0) + us);
      // the kernel's share (syscalls: poll, fanotify reads, /proc reads, answers)
      out.set(`${name} sys`, (out.get(`${name} sys`) ?? 0) + Number(f[12]) * TICK_US);
      const st = Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/status`);
      const cs = [...st.matchAll(/ctxt_switches:\s+(\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
      out.set(`${name} wake-ups`, (out.get(`${name} wake-ups`) ?? 0) + cs);
    } catch { /* thread gone */ }
  }
  return out;
}

// ---- the inspector (Chrome DevTools Protocol over a loopback WebSocket) ----

class Inspector {
  private id = 0;
  private pending = new Map<number, (v: unknown) => void>();
  private constructor(private ws: WebSocket) {
    ws.onmessage = (m) => {
      const msg = JSON.parse(String(m.data));
      if (msg.id !== undefined) this.pending.get(msg.id)?.(msg.result);
    };
  }
  static async connect(port: string): Promise<Inspector> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
        const ws = new WebSocket(list[0].webSocketDebuggerUrl);
        await new Promise((ok, bad) => {
          ws.onopen = ok;
          ws.onerror = bad;
        });
        return new Inspector(ws);
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = ++this.id;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }
  close(): void {
    this.ws.close();
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function stageOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (functionName === "(garbage collector)") return "GC";
  if (functionName === "(idle)") return "idle/native";
  if (functionName === "(program)") return "V8/embedder native (program)";
  const path = url.replace(/^file:\/\//, "").replace(repo, "");
  if (path.startsWith("ffi/decoder")) return "decode";
  if (path.startsWith("ffi/")) return "FFI calls";
  if (path.startsWith("src/sensor/")) return "sensor wait/drain";
  if (path.startsWith("src/engine/process_table") || path.startsWith("src/engine/proc_seed")) {
    return "process table";
  }
  if (path.startsWith("src/engine/")) return "rules + scoring";
  if (path.startsWith("src/response/")) return "response";
  if (path.startsWith("src/store/")) return "store";
  if (path.startsWith("src/daemon/event_export") || path.startsWith("src/daemon/log")) {
    return "export + log";
  }
  if (path.startsWith("src/daemon/alert")) return "alerts";
  if (path.startsWith("src/daemon/rtp")) return "RTP";
  if (path.startsWith("src/daemon/")) return "agent loop";
  if (path === "" && functionName === "") return "idle/native";
  return "other JS (runtime, libraries)";
}

/**
 * Self time by stage. Samples in code outside this repository (Deno's runtime,
 * npm libraries) are charged to the nearest caller in the repository, so
 * "rules" includes the regex engine the rules call and "store" node:sqlite.
 */
function summarize(p: Profile): { stages: Record<string, number>; top: [string, number][] } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const us = new Map<string, number>();
  const fns = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    let n = byId.get(p.samples[i]!);
    if (!n) continue;
    const dt = p.timeDeltas[i] ?? 0;
    const self = `${n.callFrame.functionName || "(anonymous)"} ${
      n.callFrame.url.replace(/^file:\/\//, "").replace(repo, "")
    }`;
    fns.set(self, (fns.get(self) ?? 0) + dt);
    let s = stageOf(n);
    while (s === "other JS (runtime, libraries)") {
      const up = parent.get(n.id);
      if (up === undefined) break;
      n = byId.get(up)!;
      const st = stageOf(n);
      if (st !== "idle/native") s = st;
    }
    us.set(s, (us.get(s) ?? 0) + dt);
  }
  return {
    stages: Object.fromEntries([...us].sort((a, b) => b[1] - a[1])),
    top: [...fns].filter(([k]) => !k.startsWith("(idle)") && !k.startsWith("(program)"))
      .sort((a, b) => b[1] - a[1]).slice(0, 12),
  };
}

// ---- the run -----------------------------------------------------------------

const dir = Deno.makeTempDirSync({ prefix: "bm-profile-" });
const scratch = `${dir}/scratch`;
Deno.mkdirSync(scratch);
sh("mount", ["-t", "tmpfs", "-o", "size=512m", "bm_profile", scratch]);
Deno.copyFileSync("/bin/true", `${scratch}/true`);
Deno.chmodSync(`${scratch}/true`, 0o755);
{
  const src = `${dir}/tree`;
  const perDir = 40;
  for (let i = 0; i < FILES; i++) {
    if (i % perDir === 0) Deno.mkdirSync(`${src}/d${i / perDir}`, { recursive: true });
    Deno.writeTextFileSync(`${src}/d${Math.floor(i / perDir)}/f${i}.txt`, `file ${i}\n`.repeat(4));
  }
  sh("tar", ["-cf", `${dir}/tree.tar`, "-C", src, "."]);
  Deno.removeSync(src, { recursive: true });
}
if (flags.global && flags.mode !== "audit") {
  console.error("--global marks every filesystem: it runs in audit mode only (--mode audit)");
  Deno.exit(2);
}
Deno.writeTextFileSync(
  `${dir}/bm.toml`,
  [
    // the tmpfs's whole filesystem (and nothing else): a mount mark gets no create/delete events
    ...(flags.global ? [] : ["[sensor.marks]", `mode = "filesystems"`, `mounts = ["${scratch}"]`]),
    "[features.behaviorMonitoringConfigurations]",
    `blockExecution = "${flags.mode === "audit" ? "disabled" : "enabled"}"`,
    ...(flags["no-rtp"] ? [`forwardRtpToBm = "disabled"`] : []),
  ].join("\n") + "\n",
);
const env = daemonEnv(dir);
const daemon = new Deno.Command(deno, {
  args: [
    "run",
    "--quiet",
    "--allow-all",
    "--cached-only",
    // --cpu-only: no inspector at all (its session costs the daemon RSS and a thread)
    ...(flags["cpu-only"] ? [] : [`--inspect=127.0.0.1:${flags.port}`]),
    // as bin/bm runs it (without the linear-time engine every rule with a regex fails to
    // load; the heap flags set the RSS this prints)
    V8_FLAGS_ARG + (flags["daemon-v8-flags"] ? `,${flags["daemon-v8-flags"]}` : ""),
    "--config",
    `${repo}deno.json`,
    `${repo}main.ts`,
    "daemon",
    "--scope-pid",
    String(Deno.pid),
  ],
  env,
  stdout: "null",
  stderr: "null",
}).spawn();

const results: Record<string, unknown> = {};
const cleanups: (() => void)[] = [];
try {
  const bm = bmCli(env);
  await waitUntilEnabled(bm);
  // idle: started, rules loaded, nothing run yet
  await new Promise((r) => setTimeout(r, 2000));
  results.idle_rss_mb = rssMb(daemon.pid);
  console.log(`daemon idle: RSS ${JSON.stringify(results.idle_rss_mb)} MB`);
  const insp = flags["cpu-only"] ? undefined : await Inspector.connect(flags.port!);
  await insp?.send("Profiler.enable");
  await insp?.send("Profiler.setSamplingInterval", { interval: 200 });

  const workloads: [string, number, string, () => void][] = [
    [
      "exec storm",
      EXECS,
      "exec",
      () =>
        sh("bash", ["-c", `for ((i = 0; i < ${EXECS}; i++)); do "$0"; done`, `${scratch}/true`]),
    ],
    ["file tree", FILES * 2, "file event", () => {
      Deno.mkdirSync(`${scratch}/t`);
      sh("tar", ["-xf", `${dir}/tree.tar`, "-C", `${scratch}/t`]);
      sh("rm", ["-rf", `${scratch}/t`]);
    }],
  ];
  if (flags.global) {
    // What the overhead bench runs on the disk, with every filesystem marked (audit mode).
    const disk = Deno.makeTempDirSync({ dir: "/var/tmp", prefix: "bm-profile-" });
    cleanups.push(() => Deno.removeSync(disk, { recursive: true }));
    sh("git", ["clone", "-q", "--bare", "--no-local", repo, `${disk}/repo.git`]);
    workloads.push(["file tree (disk)", FILES * 2, "file event", () => {
      Deno.mkdirSync(`${disk}/t`);
      sh("tar", ["-xf", `${dir}/tree.tar`, "-C", `${disk}/t`]);
      sh("rm", ["-rf", `${disk}/t`]);
    }], ["git clone + status", 1, "run", () => {
      sh("git", ["clone", "-q", "--no-local", `${disk}/repo.git`, `${disk}/clone`]);
      sh("git", ["-C", `${disk}/clone`, "status", "--porcelain"]);
      sh("rm", ["-rf", `${disk}/clone`]);
    }]);
  }
  const COUNTERS = [
    "events",
    "rtp_files_hashed",
    "rtp_cache_hits",
    "rtp_skipped",
    "rtp_queue_dropped",
    "rtp_coalesced",
    "rtp_size_filtered",
    "alerts",
    "alerts_suppressed",
  ];
  const counters = async () => {
    const h = JSON.parse(await bm(["health", "--output", "json"])).fields;
    // alerts is a count per severity
    const n = (v: unknown) =>
      typeof v === "object" && v !== null
        ? Object.values(v).reduce((a: number, x) => a + Number(x), 0)
        : Number(v ?? 0);
    return COUNTERS.map((k) => n(h[k]));
  };
  for (const [name, events, unit, run] of workloads) {
    const c0 = await counters();
    // V8's sampler interrupts the JS thread every 200 µs: --cpu-only measures without it
    await insp?.send("Profiler.start");
    // --perf PREFIX: perf samples every thread of the daemon (native code, the kernel) too
    const perfOut = flags.perf && `${flags.perf}.${name.replace(/ /g, "_")}.data`;
    const perf = perfOut
      ? new Deno.Command("perf", {
        args: ["record", "-q", "-F", "1999", "-g", "-p", String(daemon.pid), "-o", perfOut],
        stdout: "null",
        stderr: "null",
      }).spawn()
      : undefined;
    if (perf) await new Promise((r) => setTimeout(r, 300));
    const before = threadCpu(daemon.pid);
    const t0 = performance.now();
    run();
    await new Promise((r) => setTimeout(r, 500)); // let the daemon drain what is queued
    const wall = performance.now() - t0;
    const after = threadCpu(daemon.pid);
    if (perf) {
      perf.kill("SIGINT");
      await perf.status;
      console.log(
        `  perf samples: ${perfOut} (perf report -i ${perfOut} --no-children --sort comm,dso,sym)`,
      );
    }
    const { profile } = insp
      ? await insp.send("Profiler.stop") as { profile: Profile }
      : { profile: { nodes: [], samples: [], timeDeltas: [] } as Profile };
    if (flags["save-profile"] && insp) {
      Deno.writeTextFileSync(
        `${flags["save-profile"]}.${name.replace(/ /g, "_")}.cpuprofile`,
        JSON.stringify(profile),
      );
    }
    const threads: Record<string, number> = {};
    for (const [k, v] of after) {
      threads[k] = Math.round((100 * (v - (before.get(k) ?? 0))) / events) / 100;
    }
    const { stages, top } = summarize(profile);
    const busy = Object.entries(stages).filter(([k]) => k !== "idle/native")
      .reduce((s, [, v]) => s + v, 0);
    const stageShare: Record<string, string> = {};
    for (const [k, v] of Object.entries(stages)) {
      if (k === "idle/native") continue;
      stageShare[k] = `${((100 * v) / busy).toFixed(1)}% (${(v / events).toFixed(1)} µs/${unit})`;
    }
    const c1 = await counters();
    const mem = rssMb(daemon.pid);
    const seen = Object.fromEntries(COUNTERS.map((k, i) => [k, c1[i]! - c0[i]!]));
    results[name] = {
      events,
      daemon_counters: seen,
      wall_ms: Math.round(wall),
      rss_mb_after: mem,
      cpu_us_per_event_by_thread: threads,
      js_busy_samples_by_stage: stageShare,
      top_functions_us_per_event: Object.fromEntries(top.map(([k, v]) => [k, v / events])),
    };
    console.log(`\n${name}: ${events} ${unit}s, ${Math.round(wall)} ms`);
    console.log(`  daemon counters during the workload: ${JSON.stringify(seen)}`);
    console.log(`  daemon RSS after it: ${mem.rss} MB, peak so far (VmHWM) ${mem.peak} MB`);
    console.log(
      `  daemon CPU per ${unit}, by thread (µs; wake-ups: context switches): ${
        JSON.stringify(threads)
      }`,
    );
    console.log(`  JS thread busy time by stage:`);
    for (const [k, v] of Object.entries(stageShare)) console.log(`    ${k.padEnd(32)} ${v}`);
    console.log(`  top functions (self µs per ${unit}):`);
    for (const [k, v] of top) console.log(`    ${(v / events).toFixed(1).padStart(8)}  ${k}`);
  }
  insp?.close();
  const h = JSON.parse(await bm(["health", "--output", "json"])).fields;
  results.counters = {
    rules: h.rules_count,
    events: h.events,
    events_filtered: h.events_filtered,
    dropped: h.dropped,
    auth_answered_by_watchdog: h.auth_answered_by_watchdog,
  };
  console.log(`\ncounters: ${JSON.stringify(results.counters)}`);
  console.log(`load ${Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ")}`);
} finally {
  daemon.kill("SIGTERM");
  await daemon.status;
  sh("umount", [scratch]);
  for (const c of cleanups) c();
  Deno.removeSync(dir, { recursive: true });
}
if (flags.json) Deno.writeTextFileSync(flags.json, JSON.stringify(results, null, 2) + "\n");
