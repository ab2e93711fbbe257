/**
 * The engine's rule index and prefilters (event_index.ts, step_keys.ts,
 * prefilter.ts, key_table.ts) never change a verdict: every trace of the
 * default pack (rule tests and recorded benign corpora) and of the Sigma
 * fixtures' imported pack, as recorded and with its names and paths
 * re-cased, gives exactly the same firings, alerts, verdicts and auth answers
 * through the optimized rules as through the same rules compiled the
 * straightforward way (`reference`: every rule of an event's kind evaluated
 * in full).
 */
import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadRules } from "../../src/engine/rule_loader.ts";
import { DEFAULT_ENGINE_OPTIONS, Engine } from "../../src/engine/engine.ts";
import type { Platform, RuleSet } from "../../src/engine/rule_set.ts";
import type { BmEvent } from "../../src/sensor/event.ts";
import { parseTrace } from "../../src/sensor/trace.ts";
import { FixedClock } from "../../src/clock.ts";
import { importSigma } from "../../src/sigma/importer.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const POLICIES = join(ROOT, "policies");
const SIGMA_FIXTURES = join(ROOT, "tests", "sigma", "fixtures");

async function traceFiles(dir: string, out: string[] = []): Promise<string[]> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) await traceFiles(p, out);
    else if (e.name.endsWith(".jsonl")) out.push(p);
  }
  return out.sort();
}

async function traces(dirs: string[]): Promise<{ file: string; events: BmEvent[] }[]> {
  const out = [];
  for (const d of dirs) {
    for (const file of await traceFiles(d)) {
      const { events, problems } = parseTrace(await Deno.readTextFile(file), file);
      assertEquals(problems, [], file);
      out.push({ file, events });
    }
  }
  return out;
}

/** Everything the engine says about a run, in order. */
function run(rules: RuleSet, platform: Platform, events: BmEvent[]): unknown[] {
  const engine = new Engine(
    rules,
    { ...DEFAULT_ENGINE_OPTIONS, platform },
    new FixedClock(events[0]?.["@timestamp"] ?? 0),
  );
  const out: unknown[] = [];
  engine.onFire = (f) => out.push(["fire", f.ruleId, f.entityId, f.time, f.score]);
  for (const e of events) {
    const r = engine.process(e);
    for (const a of r.alerts) {
      out.push(["alert", a.rule_id, a.severity, a.score, a.process.entity_id]);
    }
    for (const v of r.verdicts) {
      out.push(["verdict", v.name, v.score, v.actions.map((a) => JSON.stringify(a))]);
    }
    if (r.auth !== undefined) out.push(["auth", r.auth.authId, r.auth.allow]);
  }
  return out;
}

/** Names and paths re-cased (upper, and K as the Kelvin sign, which lower-cases to k). */
function recased(events: BmEvent[], f: (s: string) => string): BmEvent[] {
  const NAMED = new Set(["executable", "name", "args", "path", "target_path", "command_line"]);
  const walk = (v: unknown, key: string): unknown => {
    if (typeof v === "string") return NAMED.has(key) ? f(v) : v;
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (typeof v === "object" && v !== null) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    }
    return v;
  };
  return events.map((e) => walk(e, "") as BmEvent);
}

const VARIANTS: [string, (s: string) => string][] = [
  ["as recorded", (s) => s],
  ["upper-cased", (s) => s.toUpperCase()],
  ["Kelvin sign", (s) => s.replaceAll("k", "\u212a").replaceAll("I", "\u0130")],
];

async function compare(dirs: string[], traceDirs: string[]): Promise<number> {
  const fast = await loadRules(dirs, { requireRootOwned: false, checkTests: false });
  const ref = await loadRules(dirs, {
    requireRootOwned: false,
    checkTests: false,
    reference: true,
  });
  assertEquals(fast.problems, []);
  assertEquals(ref.problems, []);
  assert(fast.rules.rules.some((r) => r.steps.some((s) => s.keys || s.segments)));
  assert(ref.rules.rules.every((r) => r.steps.every((s) => !s.keys && !s.segments)));
  const all = await traces(traceDirs);
  let fired = 0;
  for (const platform of ["linux", "macos"] as const) {
    for (const [variant, f] of VARIANTS) {
      // Each trace alone, then all of them through one engine (scores and
      // fired rules carry over from trace to trace).
      const runs = [...all.map((t) => ({ ...t, events: recased(t.events, f) }))];
      runs.push({ file: "(all traces)", events: runs.flatMap((t) => t.events) });
      for (const { file, events } of runs) {
        const got = run(fast.rules, platform, events);
        const want = run(ref.rules, platform, events);
        assertEquals(got, want, `${file} (${platform}, ${variant})`);
        fired += want.filter((x) => (x as unknown[])[0] === "fire").length;
      }
    }
  }
  return fired;
}

Deno.test("index differential: the default pack gives the same firings and verdicts as full evaluation", async () => {
  const fired = await compare([POLICIES], [POLICIES]);
  // The traces make rules fire: the comparison is not of empty lists.
  assert(fired > 1000, `only ${fired} firings`);
});

Deno.test("index differential: the default pack plus the Sigma fixtures' imported pack", async () => {
  const out = await Deno.makeTempDir({ prefix: "bm_index_diff_" });
  try {
    const summary = await importSigma([SIGMA_FIXTURES], { out, minStatus: "test", actions: [] });
    assert(summary.converted.length >= 12);
    const fired = await compare([POLICIES, out], [
      out,
      join(POLICIES, "tests"),
      join(POLICIES, "benign"),
    ]);
    assert(fired > 1000, `only ${fired} firings`);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
