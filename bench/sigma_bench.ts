/**
 * Figures for `bm rules import-sigma` on a real Sigma repository (SigmaHQ's
 * `rules/` tree, fetched separately: its rules are not part of bm):
 *
 *   deno run --allow-all --v8-flags=--enable-experimental-regexp-engine \
 *     bench/sigma_bench.ts --sigma PATH/TO/sigma/rules [--out DIR]
 *
 * 1. The whole tree imported (every product): wall time, files, converted,
 *    skipped by reason; and every rule's detection run through the converter
 *    whatever its logsource, so Windows rules exercise it too: any exception
 *    other than a skip is a crash and is listed.
 * 2. The target set: Linux and macOS `process_creation` and `file_event`
 *    rules at status test or stable; how many converted, and why the others
 *    did not.
 * 3. `bm rules test` on the generated pack (every positive and negative trace).
 * 4. The recorded benign corpora (policies/benign) replayed with the default
 *    pack plus the imported pack: alerts (rule firings) of the imported rules
 *    by severity per workload, and threats.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { importSigma } from "../src/sigma/importer.ts";
import { convertDetection, type SigmaCategory, SkipError } from "../src/sigma/detection.ts";
import { defaultRulesDir, loadRules } from "../src/engine/rule_loader.ts";
import { runRuleTests } from "../src/engine/rule_tests.ts";
import { parseTrace } from "../src/sensor/trace.ts";
import { DEFAULT_ENGINE_OPTIONS, Engine } from "../src/engine/engine.ts";
import { FakeClock } from "../src/clock_test_utils.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { sigma: { type: "string" }, out: { type: "string" } },
});
if (!values.sigma) {
  console.error("Usage: bench/sigma_bench.ts --sigma PATH/TO/sigma/rules [--out DIR]");
  Deno.exit(2);
}
const sigma = values.sigma;
const out = values.out ?? await Deno.makeTempDir({ prefix: "bm_sigma_bench_" });

async function yamlFiles(dir: string, acc: string[] = []): Promise<string[]> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) await yamlFiles(p, acc);
    else if (/\.ya?ml$/.test(e.name)) acc.push(p);
  }
  return acc;
}

// 1. The whole tree.
const t0 = performance.now();
const all = await importSigma([sigma], { out: join(out, "all"), minStatus: "test", actions: [] });
const wall = (performance.now() - t0) / 1000;
console.log(
  `Whole tree: ${all.files} files imported in ${
    wall.toFixed(2)
  } s wall: ${all.converted.length} converted, ${all.skipped.length} skipped, ${all.errors.length} YAML errors`,
);
for (const [r, n] of Object.entries(all.skipped_by_reason).sort((a, b) => b[1] - a[1])) {
  console.log(`  ${String(n).padStart(6)}  ${r}`);
}
let crashes = 0;
let tried = 0;
const files = await yamlFiles(sigma);
for (const f of files) {
  for (const d of parseAllDocuments(await Deno.readTextFile(f))) {
    const doc = d.toJS() as { detection?: unknown } | null;
    if (!doc?.detection) continue;
    for (const cat of ["process_creation", "file_event"] as SigmaCategory[]) {
      tried++;
      try {
        convertDetection(doc.detection, cat);
      } catch (e) {
        if (!(e instanceof SkipError)) {
          crashes++;
          console.log(`  CRASH ${f}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    }
  }
}
console.log(
  `Converter on every detection of the tree (as process_creation and file_event): ${tried} tries, ${crashes} crashes`,
);

// 2. The target set.
const targetSkips = new Map<string, number>();
let target = 0;
let converted = 0;
const convertedFiles = new Set(all.converted.map((c) => c.file));
const skipOf = new Map(all.skipped.map((s) => [s.file, s.reason]));
for (const f of files) {
  const docs = parseAllDocuments(await Deno.readTextFile(f));
  if (docs.length !== 1) continue;
  const d = docs[0]!.toJS() as {
    status?: string;
    logsource?: { product?: string; category?: string };
  } | null;
  const ls = d?.logsource;
  if (!ls || !["linux", "macos"].includes(ls.product ?? "")) continue;
  if (!["process_creation", "file_event"].includes(ls.category ?? "")) continue;
  if (!["test", "stable"].includes(d?.status ?? "")) continue;
  target++;
  if (convertedFiles.has(f)) converted++;
  else {
    const r = skipOf.get(f) ?? "?";
    targetSkips.set(r, (targetSkips.get(r) ?? 0) + 1);
  }
}
console.log(
  `Linux+macOS process_creation and file_event, status test or stable: ${converted} of ${target} converted (${
    (100 * converted / Math.max(1, target)).toFixed(1)
  }%)`,
);
for (const [r, n] of targetSkips) console.log(`  ${String(n).padStart(6)}  ${r}`);

// 3. bm rules test on the generated pack.
const pack = await loadRules(join(out, "all"), { requireRootOwned: false });
const results = await runRuleTests(pack.rules.rules);
const failed = results.filter((r) => !r.ok);
console.log(
  `bm rules test on the pack: ${
    results.length - failed.length
  } passed, ${failed.length} failed, ${pack.rules.rules.length} rules, ${pack.problems.length} problems`,
);

// 4. Benign corpora with the default pack plus the imported pack.
const both = await loadRules([defaultRulesDir(), join(out, "all")], {
  requireRootOwned: false,
  checkTests: false,
});
const benign = join(defaultRulesDir(), "benign");
const names = [...Deno.readDirSync(benign)].filter((e) => e.name.endsWith(".jsonl"))
  .map((e) => e.name).sort();
console.log(
  `Benign corpora (${benign}) with the default pack + the imported pack (${both.rules.rules.length} rules): imported-rule alerts by severity, threats`,
);
console.log(
  `  ${"workload".padEnd(22)} ${"events".padStart(7)} ${"low".padStart(5)} ${
    "medium".padStart(7)
  } ${"high".padStart(5)} ${"critical".padStart(8)} ${"threats".padStart(8)}  rules`,
);
for (const n of names) {
  const { events } = parseTrace(await Deno.readTextFile(join(benign, n)), n);
  const src = events.find((e) => e.bm?.source)?.bm?.source;
  const engine = new Engine(
    both.rules,
    { ...DEFAULT_ENGINE_OPTIONS, platform: src === "macos" ? "macos" : "linux" },
    new FakeClock(events[0]?.["@timestamp"] ?? 0),
  );
  const sev: Record<string, number> = { low: 0, medium: 0, high: 0, critical: 0 };
  const rules = new Map<string, number>();
  let threats = 0;
  for (const e of events) {
    const o = engine.process(e);
    threats += o.verdicts.length;
    for (const a of o.alerts) {
      if (!a.rule_id.startsWith("sigma.")) continue;
      sev[a.severity] = (sev[a.severity] ?? 0) + 1;
      rules.set(a.name, (rules.get(a.name) ?? 0) + 1);
    }
  }
  console.log(
    `  ${n.replace(/\.jsonl$/, "").padEnd(22)} ${String(events.length).padStart(7)} ${
      String(sev.low).padStart(5)
    } ${String(sev.medium).padStart(7)} ${String(sev.high).padStart(5)} ${
      String(sev.critical).padStart(8)
    } ${String(threats).padStart(8)}  ${[...rules].map(([r, c]) => `${r} x${c}`).join(", ")}`,
  );
}
if (!values.out) await Deno.remove(out, { recursive: true });
