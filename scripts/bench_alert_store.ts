/**
 * Alert store figures: what one alert flush costs the daemon's JS thread
 * (writeAlerts, one transaction without its own fsync) for batches of 1,
 * 10, 25 (the most the daemon writes per flush) and 100 firings, against a
 * threat record() (one transaction, fsynced) in the same run on the same
 * disk. Half the firings merge into existing alerts (same rule and process),
 * as repeated firings do.
 *
 *   node_modules/.bin/deno run --allow-all scripts/bench_alert_store.ts [FLUSHES]
 * BENCH_DIR picks the file system (default /tmp; use the state directory's disk).
 */
import { systemClock } from "../src/clock.ts";
import { SqliteThreatStore } from "../src/store/threat_store.ts";
import { sampleAlert } from "../src/store/alert_test_utils.ts";
import { sampleVerdict } from "../src/store/verdict_test_utils.ts";

const flushes = Number(Deno.args[0] ?? 300);
const dir = await Deno.makeTempDir({ dir: Deno.env.get("BENCH_DIR") ?? "/tmp" });

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

try {
  const store = new SqliteThreatStore({ path: `${dir}/bench.db`, clock: systemClock });
  const base = sampleAlert();
  const rec: number[] = [];
  for (let i = 0; i < Math.min(flushes, 200); i++) {
    const t = performance.now();
    store.record(sampleVerdict());
    rec.push(performance.now() - t);
  }
  console.log(
    `threat record() (fsynced), baseline: p50 ${pct(rec, 50).toFixed(3)} ms, p99 ${
      pct(rec, 99).toFixed(3)
    } ms`,
  );
  let n = 0;
  for (const size of [1, 10, 25, 100]) {
    const times: number[] = [];
    for (let f = 0; f < flushes; f++) {
      const batch = Array.from({ length: size }, (_, i) => {
        const entity = `e${n + (i % 2 === 0 ? i : 0)}`; // half merge
        return { ...base, time: base.time + f, process: { ...base.process, entity_id: entity } };
      });
      n += size;
      const t = performance.now();
      store.writeAlerts(batch);
      times.push(performance.now() - t);
    }
    console.log(
      `alert flush of ${size}: p50 ${pct(times, 50).toFixed(3)} ms, p99 ${
        pct(times, 99).toFixed(3)
      } ms (${(pct(times, 50) / pct(rec, 50)).toFixed(2)}x a threat record at p50)`,
    );
  }
  console.log(`alerts kept: ${store.listAlerts().length}`);
  store.close();
} finally {
  await Deno.remove(dir, { recursive: true });
}
