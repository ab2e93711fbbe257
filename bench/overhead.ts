/**
 * Overhead side by side (not a test): bm against auditd and against no agent,
 * on the same workloads, in one run. Root, Linux.
 *
 *   deno run -A bench/overhead.ts [--rounds N] [--quick] [--json FILE] [--modes a,b]
 *
 * Modes: none; auditd (`auditd -n`, execve + execveat audited, a write watch
 * on /etc); bm block and bm audit (`bin/bm daemon` with its default settings,
 * so every local filesystem is marked, blockExecution enabled or disabled;
 * state, local and managed config in a private temp dir). In each round the
 * modes run in a shuffled order and each mode runs every workload once.
 * Figures: per workload, the median over rounds of (mode's wall time / no
 * agent's wall time in the same round); the agent's CPU while the workload ran
 * (user + system of every thread of the agent's processes: the daemon and its
 * children; for auditd also the kauditd kernel thread) as a share of one core
 * and per exec / per file event; the daemon's peak RSS (VmHWM); and after each
 * bm run the counters that must stay at 0 (dropped events, auth answered by
 * the watchdog or at once on a full ring).
 *
 * The file tree runs on the disk and on a tmpfs: disk writeback makes its wall
 * time vary several-fold, so its CPU per file event is the steadier figure.
 */
import { parseArgs } from "node:util";
import { bmCli, daemonEnv, waitUntilEnabled } from "./_daemon.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string" },
    quick: { type: "boolean" },
    json: { type: "string" },
    modes: { type: "string" },
  },
  strict: true,
});

if (Deno.build.os !== "linux" || Deno.uid() !== 0) {
  console.error("bench/overhead.ts runs as root on Linux");
  Deno.exit(2);
}

const repo = new URL("../", import.meta.url).pathname;
const quick = flags.quick ?? false;
const rounds = Number(flags.rounds ?? (quick ? 1 : 5));
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`Bad --rounds "${flags.rounds}": expected a whole number above 0`);
  Deno.exit(2);
}
const EXECS = quick ? 200 : 1000;
const LOOPS = quick ? 40 : 200;
const DIRS = quick ? 60 : 300;
const FILES_PER_DIR = 40; // 12,000 files at full size

type Mode = "none" | "auditd" | "bm_block" | "bm_audit";
const ALL_MODES: Mode[] = ["none", "auditd", "bm_block", "bm_audit"];
const modes = (flags.modes?.split(",") ?? ALL_MODES) as Mode[];
for (const m of modes) {
  if (!ALL_MODES.includes(m)) {
    console.error(`Bad --modes entry "${m}": expected ${ALL_MODES.join(", ")}`);
    Deno.exit(2);
  }
}
if (!modes.includes("none")) modes.unshift("none");

interface Workload {
  name: string;
  /** Execs or file events the workload causes, for the per-event CPU figure. */
  events: number;
  unit: "exec" | "file event";
  run(): Promise<void>;
}

// ---- helpers --------------------------------------------------------------

async function run(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<void> {
  const out = await new Deno.Command(cmd, {
    args,
    stdout: "null",
    stderr: "piped",
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  }).output();
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr).slice(0, 400)}`,
    );
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function shuffle<T>(xs: T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

const TICK = 100; // USER_HZ on Linux

/** utime + stime (seconds) of one pid from /proc/PID/stat, 0 when gone. */
function cpuOf(pid: number): number {
  try {
    const s = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / TICK;
  } catch {
    return 0;
  }
}

/** Every pid whose ancestry reaches `root` (root included). */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const e of Deno.readDirSync("/proc")) {
    const pid = Number(e.name);
    if (!Number.isInteger(pid)) continue;
    try {
      const s = Deno.readTextFileSync(`/proc/${pid}/stat`);
      parent.set(pid, Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[1]));
    } catch { /* exited */ }
  }
  const out = [root];
  for (const [pid] of parent) {
    let p: number | undefined = pid;
    for (let hops = 0; p !== undefined && p > 1 && hops < 64; hops++) {
      p = parent.get(p);
      if (p === root) {
        out.push(pid);
        break;
      }
    }
  }
  return out;
}

function pidsByComm(comm: string): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    const pid = Number(e.name);
    if (!Number.isInteger(pid)) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${pid}/comm`).trim() === comm) out.push(pid);
    } catch { /* exited */ }
  }
  return out;
}

function peakRssMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

// ---- workloads -------------------------------------------------------------

const work = Deno.makeTempDirSync({ dir: "/var/tmp", prefix: "bm-overhead-" });
const shm = Deno.makeTempDirSync({ dir: "/dev/shm", prefix: "bm-overhead-" });
Deno.copyFileSync("/bin/true", `${work}/true`);
Deno.chmodSync(`${work}/true`, 0o755);

// The file tree is a tarball made once, so every mode extracts the same bytes.
{
  const src = `${work}/tree-src`;
  for (let d = 0; d < DIRS; d++) {
    Deno.mkdirSync(`${src}/d${d}`, { recursive: true });
    for (let f = 0; f < FILES_PER_DIR; f++) {
      Deno.writeTextFileSync(`${src}/d${d}/f${f}.txt`, `file ${d}/${f}\n`.repeat(4));
    }
  }
  await run("tar", ["-cf", `${work}/tree.tar`, "-C", src, "."]);
  Deno.removeSync(src, { recursive: true });
}
const FILES = DIRS * FILES_PER_DIR;

// A local repository to clone: this project's own history.
const gitSource = `${work}/repo.git`;
await run("git", ["clone", "-q", "--bare", "--no-local", repo, gitSource]);

// The C build: a copy of dylib/ so the tree under test is never touched.
await run("cp", ["-a", `${repo}dylib`, `${work}/dylib`]);

const workloads: Workload[] = [
  {
    name: "exec storm",
    events: EXECS,
    unit: "exec",
    run: () =>
      run("bash", ["-c", `for ((i = 0; i < ${EXECS}; i++)); do "$0"; done`, `${work}/true`]),
  },
  {
    name: "shell loop",
    events: LOOPS * 3,
    unit: "exec",
    run: () =>
      run("bash", [
        "-c",
        `for ((i = 0; i < ${LOOPS}; i++)); do echo x | grep -q x; cat /etc/hostname >/dev/null; done`,
      ]),
  },
  {
    name: "C build",
    events: 0,
    unit: "exec",
    run: async () => {
      await run("make", ["-s", "-C", `${work}/dylib`, "clean"]);
      await run("make", ["-s", "-C", `${work}/dylib`, "all"]);
    },
  },
  {
    name: "file tree (disk)",
    events: FILES * 2,
    unit: "file event",
    run: async () => {
      const dir = `${work}/tree`;
      Deno.mkdirSync(dir);
      await run("tar", ["-xf", `${work}/tree.tar`, "-C", dir]);
      await run("rm", ["-rf", dir]);
    },
  },
  {
    name: "file tree (tmpfs)",
    events: FILES * 2,
    unit: "file event",
    run: async () => {
      const dir = `${shm}/tree`;
      Deno.mkdirSync(dir);
      await run("tar", ["-xf", `${work}/tree.tar`, "-C", dir]);
      await run("rm", ["-rf", dir]);
    },
  },
  {
    name: "git clone + status",
    events: 0,
    unit: "exec",
    run: async () => {
      const dir = `${work}/clone`;
      await run("git", ["clone", "-q", "--no-local", gitSource, dir]);
      await run("git", ["-C", dir, "status", "--porcelain"]);
      await run("rm", ["-rf", dir]);
    },
  },
];

// ---- agents ----------------------------------------------------------------

interface Agent {
  /** Pids whose CPU counts as the agent's (re-read at each sample). */
  pids(): number[];
  peakRssMb(): number;
  counters(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

async function startAuditd(): Promise<Agent> {
  await run("auditctl", ["-D"]);
  const proc = new Deno.Command("auditd", { args: ["-n"], stdout: "null", stderr: "null" })
    .spawn();
  await new Promise((r) => setTimeout(r, 500));
  await run("auditctl", ["-a", "always,exit", "-F", "arch=b64", "-S", "execve,execveat"]);
  await run("auditctl", ["-w", "/etc", "-p", "w"]);
  await run("auditctl", ["-e", "1"]);
  const kaudit = pidsByComm("kauditd");
  return {
    pids: () => [proc.pid, ...kaudit],
    peakRssMb: () => peakRssMb(proc.pid),
    counters: () => Promise.resolve({}),
    async stop() {
      await run("auditctl", ["-D"]);
      proc.kill("SIGTERM");
      await proc.status;
    },
  };
}

async function startBm(block: boolean): Promise<Agent> {
  const dir = Deno.makeTempDirSync({ prefix: "bm-overhead-agent-" });
  Deno.writeTextFileSync(
    `${dir}/bm.toml`,
    `[features.behaviorMonitoringConfigurations]\nblockExecution = "${
      block ? "enabled" : "disabled"
    }"\n`,
  );
  const env = daemonEnv(dir);
  const proc = new Deno.Command(`${repo}bin/bm`, {
    args: ["daemon"],
    env,
    stdout: "null",
    stderr: "null",
  }).spawn();
  const bm = bmCli(env);
  try {
    await waitUntilEnabled(bm);
  } catch (e) {
    proc.kill("SIGKILL");
    throw e;
  }
  return {
    pids: () => descendants(proc.pid),
    peakRssMb: () => peakRssMb(proc.pid),
    async counters() {
      const h = JSON.parse(await bm(["health", "--output", "json"])).fields;
      const out: Record<string, number> = {};
      for (
        const k of [
          "dropped",
          "auth_answered_by_watchdog",
          "auth_answered_ring_full",
          "late_answers",
          "events",
          "events_filtered",
          "events_held",
          "events_held_released",
          "events_held_forgotten",
          "events_hold_full",
        ]
      ) {
        if (typeof h[k] === "number") out[k] = h[k];
      }
      return out;
    },
    async stop() {
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      await proc.status;
      clearTimeout(t);
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

function startAgent(mode: Mode): Promise<Agent | null> {
  switch (mode) {
    case "none":
      return Promise.resolve(null);
    case "auditd":
      return startAuditd();
    case "bm_block":
      return startBm(true);
    case "bm_audit":
      return startBm(false);
  }
}

// ---- the run ---------------------------------------------------------------

interface Sample {
  wall: number;
  cpu: number;
}
const samples = new Map<string, Sample[]>(); // `${mode}|${workload}` -> per round
const ratios = new Map<string, number[]>();
const rss = new Map<Mode, number>();
const rssAfter = new Map<string, number>(); // `${mode}|${workload}` -> VmHWM after it, MB
const counters = new Map<Mode, Record<string, number>>();
const failures: string[] = [];

if (modes.includes("auditd")) {
  try {
    await run("auditctl", ["-s"]);
  } catch {
    console.error("auditd is missing: run scripts/setup.sh --bench (installs it from Debian)");
    Deno.exit(1);
  }
  if (pidsByComm("auditd").length) {
    console.error("An auditd is already running: stop it first (the bench runs its own)");
    Deno.exit(1);
  }
}

// One untimed pass first: page cache, make's first build and git's pack warm up outside the figures.
for (const w of workloads) await w.run();

for (let round = 0; round < rounds; round++) {
  const order = shuffle(modes);
  console.error(`round ${round + 1}/${rounds}: ${order.join(", ")}`);
  const wallThisRound = new Map<string, number>();
  for (const mode of order) {
    const agent = await startAgent(mode);
    try {
      for (const w of workloads) {
        const pids = agent?.pids() ?? [];
        const cpu0 = pids.reduce((s, p) => s + cpuOf(p), 0);
        const t0 = performance.now();
        try {
          await w.run();
        } catch (e) {
          failures.push(`${mode} ${w.name}: ${(e as Error).message}`);
        }
        const wall = (performance.now() - t0) / 1000;
        const cpu1 = (agent?.pids() ?? pids).reduce((s, p) => s + cpuOf(p), 0);
        const key = `${mode}|${w.name}`;
        const list = samples.get(key) ?? [];
        list.push({ wall, cpu: Math.max(0, cpu1 - cpu0) });
        samples.set(key, list);
        wallThisRound.set(key, wall);
        // VmHWM only grows: its step after each workload says which one set the peak
        if (agent) rssAfter.set(key, Math.max(rssAfter.get(key) ?? 0, agent.peakRssMb()));
      }
      if (agent) {
        rss.set(mode, Math.max(rss.get(mode) ?? 0, agent.peakRssMb()));
        const c = await agent.counters();
        const sum = counters.get(mode) ?? {};
        for (const [k, v] of Object.entries(c)) sum[k] = (sum[k] ?? 0) + v;
        counters.set(mode, sum);
      }
    } finally {
      await agent?.stop();
    }
  }
  for (const mode of modes) {
    for (const w of workloads) {
      const base = wallThisRound.get(`none|${w.name}`);
      const t = wallThisRound.get(`${mode}|${w.name}`);
      if (base === undefined || t === undefined) continue;
      const k = `${mode}|${w.name}`;
      ratios.set(k, [...(ratios.get(k) ?? []), t / base]);
    }
  }
}

Deno.removeSync(work, { recursive: true });
Deno.removeSync(shm, { recursive: true });

// ---- report ----------------------------------------------------------------

const load = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
const agentModes = modes.filter((m) => m !== "none");
const result = {
  machine: { cpus: navigator.hardwareConcurrency, kernel: Deno.osRelease(), load },
  rounds,
  workloads: workloads.map((w) => {
    const row: Record<string, unknown> = { name: w.name };
    row.none_seconds = median((samples.get(`none|${w.name}`) ?? []).map((s) => s.wall));
    for (const m of agentModes) {
      const s = samples.get(`${m}|${w.name}`) ?? [];
      const cpu = median(s.map((x) => x.cpu));
      const wall = median(s.map((x) => x.wall));
      row[m] = {
        ratio: median(ratios.get(`${m}|${w.name}`) ?? []),
        cpu_share: cpu / wall,
        cpu_us_per_event: w.events ? (cpu * 1e6) / w.events : null,
      };
    }
    return row;
  }),
  peak_rss_mb: Object.fromEntries(rss),
  peak_rss_mb_after_workload: Object.fromEntries(rssAfter),
  counters: Object.fromEntries(counters),
  failures,
};

const pad = (s: string, n: number) => s.padEnd(n);
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "-");
const header = ["workload", ...agentModes.flatMap((m) => [`${m} ratio`, `${m} cpu`])];
console.log(header.map((h, i) => pad(h, i ? 16 : 22)).join(""));
for (const row of result.workloads) {
  const cells = [pad(String(row.name), 22)];
  for (const m of agentModes) {
    const r = row[m] as { ratio: number; cpu_share: number; cpu_us_per_event: number | null };
    const per = r.cpu_us_per_event !== null ? ` ${r.cpu_us_per_event.toFixed(0)}us/ev` : "";
    cells.push(pad(f2(r.ratio), 16), pad(`${(r.cpu_share * 100).toFixed(1)}%${per}`, 16));
  }
  console.log(cells.join(""));
}
console.log(
  `peak RSS (MB): ${agentModes.map((m) => `${m} ${f2(rss.get(m) ?? NaN)}`).join(", ")}; counters: ${
    JSON.stringify(result.counters)
  }`,
);
for (const m of agentModes) {
  const steps = workloads.map((w) => `${w.name} ${f2(rssAfter.get(`${m}|${w.name}`) ?? NaN)}`);
  console.log(`peak RSS after each workload (MB), ${m}: ${steps.join(", ")}`);
}
console.log(`rounds ${rounds}; ${result.machine.cpus} CPUs; load ${load}`);
if (failures.length) console.log(`FAILURES:\n  ${failures.join("\n  ")}`);
if (flags.json) Deno.writeTextFileSync(flags.json, JSON.stringify(result, null, 2) + "\n");
