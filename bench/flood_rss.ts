/**
 * Memory under an exec flood (issue 13 item 6; not a test): a real
 * `bin/bm daemon` (block mode, default settings and the V8 flags a release
 * runs with, fanotify marks only on a tmpfs the e2e harness mounts, rules
 * scoped to this process's descendants) while shell loops exec a copy of
 * /bin/true on that tmpfs as fast as they can, so every exec is held, decoded,
 * matched and answered. The daemon's RSS is sampled every 10 s. Root, Linux.
 *
 *   node_modules/.bin/deno run -A bench/flood_rss.ts [--seconds 600] [--loops 2]
 *     [--interval 10] [--target tmpfs|system] [--json FILE]
 *
 * --target system execs /bin/true itself (not on a marked filesystem: the
 * daemon sees the processes only through the process connector). --loops is
 * the number of concurrent shell loops; on a 2-core machine 2 saturate it
 * with the daemon taking its share.
 *
 * Prints one line per sample: elapsed s, RSS MB, V8 heap used / total MB,
 * external MB, execs/s over the interval, processes in the table, partial
 * sequences; then the peak (VmHWM), the growth over the second half (a
 * plateau is about 0), the target (RSS under 150 MB) and the counters that show
 * what was dropped or evicted. With --json the same series and summary go
 * to FILE.
 */
import { parseArgs } from "node:util";
import { startAgent } from "../tests/e2e/_harness.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string" },
    loops: { type: "string" },
    interval: { type: "string" },
    target: { type: "string" },
    json: { type: "string" },
  },
  strict: true,
});
if (Deno.build.os !== "linux" || Deno.uid() !== 0) {
  console.error("bench/flood_rss.ts runs as root on Linux");
  Deno.exit(2);
}
const seconds = Number(flags.seconds ?? 600);
const loops = Number(flags.loops ?? 2);
const interval = Number(flags.interval ?? 10);
const target = flags.target ?? "tmpfs";
if (target !== "tmpfs" && target !== "system") {
  console.error(`Unknown --target "${target}": tmpfs or system`);
  Deno.exit(2);
}
const RSS_TARGET_MB = 150;

function statusKb(pid: number, field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(
    Deno.readTextFileSync(`/proc/${pid}/status`),
  );
  return m ? Number(m[1]) : NaN;
}

const mb = (bytes: number) => bytes / (1024 * 1024);
const round1 = (x: number) => Math.round(x * 10) / 10;

interface Sample {
  t_s: number;
  rss_mb: number;
  heap_used_mb: number;
  heap_total_mb: number;
  external_mb: number;
  execs_per_s: number;
  processes: number;
  partials: number;
}

/** Least-squares slope of y over x (MB per second). */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const floodDir = `/opt/bm_flood_${Deno.pid}`;
const agent = await startAgent({
  mode: "block",
  viaBinBm: true,
  rawEvents: false,
  extraMounts: target === "tmpfs" ? [floodDir] : [],
});
const pid = agent.proc.pid;
const counter = `${agent.dir}/count`;
const children: Deno.ChildProcess[] = [];
const samples: Sample[] = [];
try {
  let exe = "/bin/true";
  if (target === "tmpfs") {
    exe = `${floodDir}/true`;
    await Deno.copyFile("/bin/true", exe);
    await Deno.chmod(exe, 0o755);
  }
  // Each loop writes its count to its own file every 100 execs.
  for (let i = 0; i < loops; i++) {
    children.push(
      new Deno.Command("/bin/sh", {
        args: [
          "-c",
          `n=0; while :; do ${exe}; n=$((n+1)); [ $((n % 100)) -eq 0 ] && echo $n > ${counter}.${i}; done`,
        ],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn(),
    );
  }
  // A read can race the loop's rewrite of its file (empty or cut short): each
  // loop's count only grows, so the largest seen stands.
  const counts = new Array<number>(loops).fill(0);
  const execs = () => {
    for (let i = 0; i < loops; i++) {
      try {
        const n = Number(Deno.readTextFileSync(`${counter}.${i}`).trim()) || 0;
        if (n > counts[i]!) counts[i] = n;
      } catch { /* not yet */ }
    }
    return counts.reduce((a, b) => a + b, 0);
  };
  const sample = async (t: number, perS: number): Promise<Sample> => {
    const s = await agent.call("engine_stats") as {
      engine: { processes: number; partials: number };
      memory: { heapUsed: number; heapTotal: number; external: number };
    };
    const row: Sample = {
      t_s: t,
      rss_mb: round1(statusKb(pid, "VmRSS") / 1024),
      heap_used_mb: round1(mb(s.memory.heapUsed)),
      heap_total_mb: round1(mb(s.memory.heapTotal)),
      external_mb: round1(mb(s.memory.external)),
      execs_per_s: perS,
      processes: s.engine.processes,
      partials: s.engine.partials,
    };
    samples.push(row);
    console.log(Object.values(row).join(" "));
    return row;
  };
  const t0 = performance.now();
  let last = 0;
  console.log(
    `flood: ${loops} loops exec ${exe} (${target}), ${seconds} s, samples every ${interval} s`,
  );
  console.log(
    Object.keys({
      t_s: 0,
      rss_mb: 0,
      heap_used_mb: 0,
      heap_total_mb: 0,
      external_mb: 0,
      execs_per_s: 0,
      processes: 0,
      partials: 0,
    }).join(" "),
  );
  await sample(0, 0);
  for (let t = interval; t <= seconds; t += interval) {
    await new Promise((r) => setTimeout(r, Math.max(0, t * 1000 - (performance.now() - t0))));
    const n = execs();
    await sample(t, Math.round((n - last) / interval));
    last = n;
  }
  const total = execs();
  const h = await agent.health();
  const keys = [
    "events",
    "dropped",
    "enrichment_misses",
    "auth_answered_by_engine",
    "auth_answered_by_watchdog",
    "auth_answered_by_fast_path",
    "auth_answered_ring_full",
    "late_answers",
    "rtp_queue_dropped",
  ];
  const counters = Object.fromEntries(keys.map((k) => [k, h[k]]));
  const stats = await agent.call("engine_stats") as { engine: Record<string, number> };
  const peak = round1(statusKb(pid, "VmHWM") / 1024);
  const second = samples.filter((s) => s.t_s >= seconds / 2);
  const growth = slope(second.map((s) => s.t_s), second.map((s) => s.rss_mb)) * 60;
  const maxRss = Math.max(...samples.map((s) => s.rss_mb));
  const summary = {
    seconds,
    loops,
    target,
    execs: total,
    execs_per_s: Math.round(total / seconds),
    max_rss_mb: maxRss,
    peak_rss_mb_vmhwm: peak,
    second_half_growth_mb_per_min: round1(growth),
    under_target: maxRss < RSS_TARGET_MB,
    counters,
    engine: stats.engine,
  };
  console.log(
    `execs ${total} (${summary.execs_per_s}/s); RSS max ${maxRss} MB, peak (VmHWM) ${peak} MB, ` +
      `second half ${summary.second_half_growth_mb_per_min} MB/min; target < ${RSS_TARGET_MB} MB: ` +
      (summary.under_target ? "met" : "MISSED"),
  );
  console.log(Object.entries(counters).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join("; "));
  console.log(
    `engine: processes ${stats.engine.processes}, evictions ${stats.engine.processEvictions}, ` +
      `exited expired ${stats.engine.exitedExpired}, partials ${stats.engine.partials}, ` +
      `partials evicted ${stats.engine.partialsEvicted}`,
  );
  if (flags.json) {
    await Deno.writeTextFile(flags.json, JSON.stringify({ summary, samples }, null, 2) + "\n");
    console.log(`wrote ${flags.json}`);
  }
} finally {
  for (const c of children) {
    try {
      c.kill("SIGKILL");
    } catch { /* gone */ }
    await c.status;
  }
  await agent.stop();
}
