/**
 * Memory under an exec flood (not a test): a real `bm daemon` (block mode,
 * marks only on a tmpfs the e2e harness mounts, rules scoped to this
 * process's descendants) while shell loops exec /bin/true as fast as they can;
 * the daemon's RSS is sampled every 10 s. Root, Linux.
 *
 *   deno run -A bench/flood_rss.ts [--seconds 600] [--loops 2]
 *
 * Prints one line per sample (elapsed s, RSS MB, execs/s over the last
 * interval) and the counters that show what was dropped or evicted.
 */
import { parseArgs } from "node:util";
import { startAgent } from "../tests/e2e/_harness.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: { seconds: { type: "string" }, loops: { type: "string" } },
  strict: true,
});
if (Deno.build.os !== "linux" || Deno.uid() !== 0) {
  console.error("bench/flood_rss.ts runs as root on Linux");
  Deno.exit(2);
}
const seconds = Number(flags.seconds ?? 600);
const loops = Number(flags.loops ?? 2);

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m ? Number(m[1]) / 1024 : NaN;
}

const agent = await startAgent({ mode: "block" });
const counter = `${agent.dir}/count`;
const children: Deno.ChildProcess[] = [];
try {
  // each loop counts its execs in its own file every 100
  for (let i = 0; i < loops; i++) {
    children.push(
      new Deno.Command("/bin/sh", {
        args: [
          "-c",
          `n=0; while :; do /bin/true; n=$((n+1)); [ $((n % 100)) -eq 0 ] && echo $n > ${counter}.${i}; done`,
        ],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn(),
    );
  }
  const execs = () => {
    let n = 0;
    for (let i = 0; i < loops; i++) {
      try {
        n += Number(Deno.readTextFileSync(`${counter}.${i}`).trim()) || 0;
      } catch { /* not yet */ }
    }
    return n;
  };
  const t0 = performance.now();
  let last = 0;
  console.log(`flood: ${loops} loops of /bin/true, ${seconds} s, RSS every 10 s`);
  console.log(`t_s rss_mb execs_per_s`);
  console.log(`0 ${rssMb(agent.proc.pid).toFixed(1)} 0`);
  for (let t = 10; t <= seconds; t += 10) {
    await new Promise((r) => setTimeout(r, t * 1000 - (performance.now() - t0)));
    const n = execs();
    console.log(`${t} ${rssMb(agent.proc.pid).toFixed(1)} ${Math.round((n - last) / 10)}`);
    last = n;
  }
  const h = await agent.health();
  const keys = [
    "events",
    "dropped",
    "enrichment_misses",
    "auth_answered_by_engine",
    "auth_answered_by_watchdog",
    "auth_answered_ring_full",
    "late_answers",
    "rtp_queue_dropped",
  ];
  console.log(`execs ${execs()}; ${keys.map((k) => `${k} ${JSON.stringify(h[k])}`).join("; ")}`);
} finally {
  for (const c of children) {
    try {
      c.kill("SIGKILL");
    } catch { /* gone */ }
    await c.status;
  }
  await agent.stop();
}
