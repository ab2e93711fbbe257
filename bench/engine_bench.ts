/**
 * Engine benchmark: a synthetic trace (default 1,000,000 events, 20,000
 * processes, a realistic mix of kinds, Linux auth+notify exec pairs) through
 * the Engine with the full default pack and, in the same run, with an empty
 * rule set as the baseline.
 *
 *   deno run --allow-all bench/engine_bench.ts [--events N] [--processes N] [--rules DIR]
 *     [--extra-rules DIR]...  (more packs beside --rules, as engine.extraRulesDirs loads them)
 *     [--v8-flags FLAGS]   (default "--max-semi-space-size=4"; "" for V8's defaults)
 *
 * Three configurations: "no engine" (the trace generator alone: the
 * harness's own memory floor), an empty rule set (process table only) and
 * the pack. Each pass of each configuration runs in its own child process,
 * so peak RSS (VmHWM) is its own. Events are generated in chunks of 512
 * (about one sensor drain; the trace is never held in memory whole). The
 * throughput pass counts only time inside `Engine.process`; the latency pass
 * times every call for the percentiles.
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import type { BmEvent, EventAction } from "../src/sensor/event.ts";
import { DEFAULT_ENGINE_OPTIONS, Engine } from "../src/engine/engine.ts";
import { defaultRulesDir, formatProblem, loadRules } from "../src/engine/rule_loader.ts";
import { FixedClock } from "../src/clock.ts";
import type { RuleSet } from "../src/engine/rule_set.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    events: { type: "string", default: "1000000" },
    processes: { type: "string", default: "20000" },
    rules: { type: "string" },
    "extra-rules": { type: "string", multiple: true },
    child: { type: "string" },
    pass: { type: "string" },
    "v8-flags": { type: "string", default: "--max-semi-space-size=4" },
  },
});
const N_EVENTS = Number(values.events);
const N_PROCS = Number(values.processes);
/** Events per batch, about what one sensor drain hands the daemon. */
const CHUNK = 512;

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const IMAGES: [string, string[]][] = [
  ["/usr/bin/make", ["make", "-j2"]],
  ["/usr/bin/cc", ["cc", "-O2", "-c", "main.c", "-o", "main.o"]],
  ["/usr/lib/gcc/x86_64-linux-gnu/12/cc1", ["cc1", "-quiet", "main.c"]],
  ["/usr/bin/as", ["as", "-o", "main.o", "/tmp/ccA1.s"]],
  ["/usr/bin/ld", ["ld", "-o", "app", "main.o"]],
  ["/usr/bin/git", ["git", "status", "--porcelain"]],
  ["/usr/bin/python3", ["python3", "setup.py", "build"]],
  ["/bin/bash", ["bash", "-c", "make test"]],
  ["/bin/sh", ["sh", "-c", "ls -la"]],
  ["/usr/bin/ls", ["ls", "-la"]],
  ["/usr/bin/cat", ["cat", "README"]],
  ["/usr/bin/grep", ["grep", "-r", "TODO", "src"]],
  ["/usr/bin/sed", ["sed", "-i", "s/a/b/", "x.txt"]],
  ["/usr/bin/node", ["node", "server.js"]],
  ["/usr/bin/tar", ["tar", "xzf", "pkg.tgz"]],
  ["/usr/bin/dpkg", ["dpkg", "-i", "pkg.deb"]],
  ["/usr/bin/curl", ["curl", "-fsSLo", "pkg.tgz", "https://example.test/pkg.tgz"]],
  ["/usr/sbin/logrotate", ["logrotate", "/etc/logrotate.conf"]],
];
const DIRS = [
  "/home/u/project/src",
  "/home/u/project/build",
  "/tmp",
  "/usr/lib/x86_64-linux-gnu",
  "/usr/include",
  "/var/log",
  "/home/u/.cache/pip",
  "/etc",
  "/var/lib/dpkg/info",
  "/home/u/project/.git/objects/ab",
];
const EXTS = [".c", ".h", ".o", ".so", ".py", ".txt", ".log", "", ".json", ".tmp"];

/** Cumulative weights of event kinds for a running process. */
const MIX: [EventAction, number][] = [
  ["open", 0.45],
  ["close_modified", 0.22],
  ["create", 0.08],
  ["rename", 0.05],
  ["unlink", 0.08],
  ["setxattr", 0.01],
  ["deletexattr", 0.005],
];

interface Live {
  pid: number;
  start: number;
  image: number;
}

/** Streams the synthetic trace in chunks; identical for identical arguments. */
class TraceGen {
  private r = rng(42);
  private t = Date.UTC(2026, 0, 1);
  private live: Live[] = [];
  private nextPid = 1000;
  private created = 0;
  private emitted = 0;
  private authId = 1;
  /** Forks and execs come out as small bursts; queued here. */
  private queue: BmEvent[] = [];

  constructor(private total: number, private procs: number) {
    // Long-lived roots: a shell per "session", parents of everything else.
    for (let i = 0; i < 20; i++) this.live.push({ pid: 100 + i, start: this.t, image: 7 });
  }

  private spawn(): void {
    const parent = this.live[Math.floor(this.r() * this.live.length)]!;
    const pid = this.nextPid++;
    const image = Math.floor(this.r() * IMAGES.length);
    const [exe, args] = IMAGES[image]!;
    this.created++;
    const start = this.t;
    this.queue.push({
      "@timestamp": this.t,
      event: { action: "fork" },
      process: { pid, start, entity_id: `${pid}-${start}`, parent: { pid: parent.pid } },
    });
    // Linux: auth exec (file only) then notify exec (args, cwd).
    this.queue.push({
      "@timestamp": this.t,
      event: { action: "exec" },
      process: { pid, start, entity_id: `${pid}-${start}`, executable: exe },
      file: { path: exe, uid: 0, mode: 0o755 },
      bm: { auth_id: this.authId++, source: "linux" },
    });
    this.queue.push({
      "@timestamp": this.t,
      event: { action: "exec" },
      process: {
        pid,
        start,
        entity_id: `${pid}-${start}`,
        executable: exe,
        args,
        working_directory: "/home/u/project",
        stdin: this.r() < 0.3 ? "pipe" : "tty",
      },
      user: { id: 1000 },
    });
    this.live.push({ pid, start, image });
  }

  private exit(): void {
    if (this.live.length <= 20) return;
    const i = 20 + Math.floor(this.r() * (this.live.length - 20));
    const p = this.live[i]!;
    this.live[i] = this.live[this.live.length - 1]!;
    this.live.pop();
    this.queue.push({
      "@timestamp": this.t,
      event: { action: "exit" },
      process: { pid: p.pid, start: p.start, entity_id: `${p.pid}-${p.start}`, exit_code: 0 },
    });
  }

  private fileEvent(): BmEvent {
    const p = this.live[Math.floor(this.r() * this.live.length)]!;
    let x = this.r() * MIX.reduce((s, [, w]) => s + w, 0);
    let action: EventAction = "open";
    for (const [a, w] of MIX) {
      if (x < w) {
        action = a;
        break;
      }
      x -= w;
    }
    const dir = DIRS[Math.floor(this.r() * DIRS.length)]!;
    const name = `f${Math.floor(this.r() * 5000)}${EXTS[Math.floor(this.r() * EXTS.length)]}`;
    const path = `${dir}/${name}`;
    const e = {
      "@timestamp": this.t,
      event: { action },
      process: { pid: p.pid, start: p.start, entity_id: `${p.pid}-${p.start}` },
      file: { path } as { path: string; target_path?: string; xattr?: string },
    } as BmEvent;
    if (action === "rename") {
      (e as { file: { target_path?: string } }).file.target_path = `${path}.1`;
    }
    if (action === "setxattr" || action === "deletexattr") {
      (e as { file: { xattr?: string } }).file.xattr = "user.test";
    }
    return e;
  }

  /** The next chunk of events, or null when done. */
  next(size: number): BmEvent[] | null {
    if (this.emitted >= this.total) return null;
    const out: BmEvent[] = [];
    const spawnRate = this.procs / this.total * 1.0;
    while (out.length < size && this.emitted < this.total) {
      this.t += 0.05 + this.r() * 0.05; // ~75 µs apart: 1M events span about 75 s
      if (this.queue.length === 0) {
        const x = this.r();
        if (x < spawnRate && this.created < this.procs) this.spawn();
        else if (x < spawnRate * 2 && this.live.length > 400) this.exit();
      }
      const e = this.queue.length > 0 ? this.queue.shift()! : this.fileEvent();
      e["@timestamp"] = Math.round(this.t);
      out.push(e);
      this.emitted++;
    }
    return out;
  }
}

function peakRssMb(): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(Deno.readTextFileSync("/proc/self/status"));
  return m ? Number(m[1]) / 1024 : Deno.memoryUsage().rss / 1048576;
}

/** "pack": --rules alone, beside "full" (--rules plus --extra-rules) when extra packs are given. */
type Config = "none" | "empty" | "pack" | "full";

async function ruleSet(config: Config): Promise<RuleSet> {
  if (config === "none" || config === "empty") return { rules: [] };
  // The pack plus any --extra-rules packs (engine.extraRulesDirs, e.g. an imported Sigma pack).
  const dirs = [
    values.rules ?? defaultRulesDir(),
    ...(config === "full" ? values["extra-rules"] ?? [] : []),
  ];
  const { rules, problems } = await loadRules(dirs, { requireRootOwned: false, checkTests: false });
  for (const p of problems) console.error(formatProblem(p));
  return rules;
}

/** Throughput pass: time only inside Engine.process, per chunk. Also peak RSS and live heap. */
async function throughput(config: Config): Promise<Record<string, unknown>> {
  const set = await ruleSet(config);
  const engine = new Engine(
    set,
    { ...DEFAULT_ENGINE_OPTIONS, platform: "linux" },
    new FixedClock(0),
  );
  const gen = new TraceGen(N_EVENTS, N_PROCS);
  let busy = 0;
  let n = 0;
  let verdicts = 0;
  for (let chunk = gen.next(CHUNK); chunk !== null; chunk = gen.next(CHUNK)) {
    const t0 = performance.now();
    if (config !== "none") { for (const e of chunk) verdicts += engine.process(e).verdicts.length; }
    busy += performance.now() - t0;
    n += chunk.length;
  }
  const peak = Math.round(peakRssMb());
  // Live heap after a full GC: harness plus the engine's state (process table, partials, evidence).
  (globalThis as { gc?: () => void }).gc?.();
  const stats = engine.stats();
  return {
    rules: stats.rules,
    events: n,
    evsPerSec: config === "none" ? 0 : Math.round(n / (busy / 1000)),
    peakRssMb: peak,
    liveHeapMb: Math.round(Deno.memoryUsage().heapUsed / 1048576),
    processes: stats.processes,
    partials: stats.partials,
    partialsByRule: engine.partialCounts(),
    firings: stats.firings,
    verdicts,
    processEvictions: stats.processEvictions,
    partialsEvicted: stats.partialsEvicted,
  };
}

/** Latency pass: every call timed on its own. */
async function latency(config: Config): Promise<Record<string, unknown>> {
  const set = await ruleSet(config);
  const engine = new Engine(
    set,
    { ...DEFAULT_ENGINE_OPTIONS, platform: "linux" },
    new FixedClock(0),
  );
  const gen = new TraceGen(N_EVENTS, N_PROCS);
  const lat = new Float64Array(N_EVENTS);
  let i = 0;
  for (let chunk = gen.next(CHUNK); chunk !== null; chunk = gen.next(CHUNK)) {
    for (const e of chunk) {
      const t0 = performance.now();
      engine.process(e);
      lat[i++] = performance.now() - t0;
    }
  }
  const sorted = lat.subarray(0, i).sort();
  const q = (p: number) => sorted[Math.min(i - 1, Math.floor(i * p))]! * 1000;
  return { p50us: q(0.5), p99us: q(0.99), p999us: q(0.999), maxUs: sorted[i - 1]! * 1000 };
}

async function runChild(config: Config, pass: "throughput" | "latency") {
  const args = [
    "run",
    "--allow-all",
    `--v8-flags=--expose-gc,--enable-experimental-regexp-engine${v8Flags ? `,${v8Flags}` : ""}`,
  ];
  args.push(fileURLToPath(import.meta.url), "--child", config, "--pass", pass);
  args.push("--events", String(N_EVENTS), "--processes", String(N_PROCS));
  if (values.rules) args.push("--rules", values.rules);
  for (const x of values["extra-rules"] ?? []) args.push("--extra-rules", x);
  const out = await new Deno.Command(Deno.execPath(), { args, stderr: "inherit" }).output();
  if (!out.success) throw new Error(`Benchmark child "${config} ${pass}" failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
}

const v8Flags = values["v8-flags"] ?? "";

async function main(): Promise<void> {
  const child = values.child as Config | undefined;
  if (child !== undefined) {
    if (!["none", "empty", "pack", "full"].includes(child)) {
      throw new Error(`Unknown child "${child}"`);
    }
    const r = values.pass === "latency" ? await latency(child) : await throughput(child);
    console.log(JSON.stringify({ config: child, ...r }));
    return;
  }
  const res: Record<string, Record<string, number>> = {};
  const extra = (values["extra-rules"] ?? []).length > 0;
  const configs: Config[] = extra ? ["none", "empty", "pack", "full"] : ["none", "empty", "full"];
  for (const config of configs) {
    const r = await runChild(config, "throughput");
    if (config !== "none") Object.assign(r, await runChild(config, "latency"));
    res[config] = r;
  }
  const { none, empty, pack, full } = res as Record<Config, Record<string, number>>;
  const cell = (v: number | undefined, digits: number) =>
    (v === undefined ? "-" : v.toFixed(digits)).padStart(12);
  const row = (k: string, unit: string, digits = 0, withNone = false) =>
    `${k.padEnd(14)} ${withNone ? cell(none[k], digits) : "-".padStart(12)} ${
      cell(empty[k], digits)
    } ${pack ? `${cell(pack[k], digits)} ` : ""}${cell(full[k], digits)}  ${unit}`;
  console.log(
    `Engine benchmark: ${full.events} events, ${N_PROCS} processes, Deno ${Deno.version.deno}, ` +
      `V8 flags "${v8Flags}"`,
  );
  console.log(
    `${"".padEnd(14)} ${"no engine".padStart(12)} ${"empty rules".padStart(12)} ${
      pack ? `${`${pack.rules} rules`.padStart(12)} ` : ""
    }${`${full.rules} rules`.padStart(12)}`,
  );
  console.log(row("evsPerSec", "events/s through Engine.process (target >= 300000 with the pack)"));
  console.log(row("p50us", "µs per event", 2));
  console.log(row("p99us", "µs per event (target < 50)", 2));
  console.log(row("p999us", "µs per event", 2));
  console.log(row("maxUs", "µs per event (GC pauses included)", 0));
  console.log(row("peakRssMb", "MB peak RSS of the throughput run (target < 150)", 0, true));
  console.log(row("liveHeapMb", "MB live JS heap after GC at the end", 0, true));
  console.log(row("processes", "processes in the table at the end"));
  console.log(row("partials", "partial sequences in flight at the end"));
  console.log(row("firings", "rule firings"));
  console.log(row("verdicts", "verdicts"));
  console.log(`pack/empty throughput ratio: ${(full.evsPerSec! / empty.evsPerSec!).toFixed(2)}`);
  if (pack) {
    console.log(
      `with/without --extra-rules throughput ratio: ${
        (full.evsPerSec! / pack.evsPerSec!).toFixed(2)
      }`,
    );
  }
}

await main();
