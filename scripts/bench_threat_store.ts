/**
 * Threat store figures: record() (one committed transaction each) with
 * synchronous=FULL (what bm uses) against NORMAL (the baseline), both in
 * this run on the same disk, then list() and get() over the result.
 *
 *   node_modules/.bin/deno run --allow-all scripts/bench_threat_store.ts [N]
 * BENCH_DIR picks the file system (default /tmp; use the state directory's disk).
 */
import { systemClock } from "../src/clock.ts";
import { SqliteThreatStore } from "../src/store/threat_store.ts";
import { sampleVerdict } from "../src/store/verdict_test_utils.ts";

const n = Number(Deno.args[0] ?? 500);
const dir = await Deno.makeTempDir({ dir: Deno.env.get("BENCH_DIR") ?? "/tmp" });

function bench(sync: "FULL" | "NORMAL") {
  const store = new SqliteThreatStore({
    path: `${dir}/${sync}.db`,
    clock: systemClock,
    synchronous: sync,
  });
  const v = sampleVerdict();
  const t0 = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(store.record(v));
  const rec = performance.now() - t0;
  const t1 = performance.now();
  const listed = store.list().length;
  const list = performance.now() - t1;
  const t2 = performance.now();
  for (const id of ids) store.get(id);
  const get = performance.now() - t2;
  store.close();
  return { rec, list, get, listed };
}

try {
  const normal = bench("NORMAL");
  const full = bench("FULL");
  const perSec = (ms: number) => Math.round((n / ms) * 1000);
  console.log(
    `records: ${n} (sample verdict, ${JSON.stringify(sampleVerdict()).length} bytes of JSON)`,
  );
  console.log(
    `record() synchronous=NORMAL: ${perSec(normal.rec)}/s (${(normal.rec / n).toFixed(3)} ms each)`,
  );
  console.log(
    `record() synchronous=FULL:   ${perSec(full.rec)}/s (${(full.rec / n).toFixed(3)} ms each)`,
  );
  console.log(`FULL / NORMAL time ratio: ${(full.rec / normal.rec).toFixed(2)}x`);
  console.log(
    `list() of ${full.listed}: ${full.list.toFixed(2)} ms; get() each: ${
      (full.get / n).toFixed(3)
    } ms`,
  );
} finally {
  await Deno.remove(dir, { recursive: true });
}
