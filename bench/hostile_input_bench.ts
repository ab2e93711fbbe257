/**
 * Hostile input benchmark (issue 13): the cost per event of the inputs that
 * used to stall the engine, through `bm replay` (a real bin/bm process) and,
 * for a precise per-event figure, through the same Engine in this process.
 *
 *   deno run --allow-all --v8-flags=--enable-experimental-regexp-engine \
 *     bench/hostile_input_bench.ts [--events N]
 *
 * Inputs, each N exec events (auth + notify pairs count as two events):
 * - ld_preload: `env LD_PRELOAD=<60,000 slashes> /bin/true` against the
 *   shipped pack (its `linux.ld_preload_env` regex was quadratic);
 * - ld_preload_split: the same spread over 8 arguments of 8,000;
 * - nested_plus: a 100 KB argument of "a" (plus "b") against the shipped
 *   pack and a user rule `^(a+)+$` (exponential on a backtracking engine);
 * - baseline: the same events with short arguments, same rules.
 * `bm replay` figures are (wall - baseline wall) / events, the least of three
 * runs each (they include reading and parsing the 60-100 KB lines); the
 * in-process figures time each Engine.process call of a notify exec (the
 * event that carries the arguments). The machine may be shared: compare
 * the ratios within one run, not absolute figures across runs.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import type { BmEvent } from "../src/sensor/event.ts";
import { serializeEvent } from "../src/sensor/trace.ts";
import { DEFAULT_ENGINE_OPTIONS, Engine } from "../src/engine/engine.ts";
import { defaultRulesDir, formatProblem, loadRules } from "../src/engine/rule_loader.ts";
import { FixedClock } from "../src/clock.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { events: { type: "string", default: "200" } },
});
const N = Number(values.events);
const BM = new URL("../bin/bm", import.meta.url).pathname;

/** N/2 processes, each an auth exec and a notify exec with `arg` as argv[1]. */
export function execTrace(n: number, argv: (i: number) => string[]): BmEvent[] {
  const out: BmEvent[] = [];
  for (let i = 0; i < n / 2; i++) {
    const pid = 10_000 + i;
    const base = {
      process: {
        pid,
        entity_id: `${pid}-1`,
        start: 1,
        executable: "/usr/bin/env",
        name: "env",
        parent: { pid: 1 },
      },
      user: { id: 65534 },
      file: { path: "/usr/bin/env" },
    };
    out.push({
      "@timestamp": 1_000 + i,
      event: { action: "exec" },
      ...base,
      bm: { source: "linux", auth_id: i + 1 },
    });
    out.push({
      "@timestamp": 1_000 + i,
      event: { action: "exec" },
      ...base,
      process: { ...base.process, args: argv(i), working_directory: "/" },
      bm: { source: "linux" },
    });
  }
  return out;
}

const INPUTS: Record<string, (i: number) => string[]> = {
  ld_preload: () => ["env", "LD_PRELOAD=" + "/".repeat(60_000), "/bin/true"],
  ld_preload_split:
    () => ["env", ...Array.from({ length: 8 }, () => "LD_PRELOAD=" + "/".repeat(8_000))],
  nested_plus: () => ["env", "a".repeat(100_000) + "b"],
  baseline: () => ["env", "LD_PRELOAD=/usr/lib/libfoo.so", "/bin/true"],
};

const USER_RULE = `[[rule]]
id = "user.nested_plus"
name = "Behavior:Linux/UserNestedPlus.A"
description = "A user rule whose regex backtracks exponentially on a backtracking engine"
platforms = ["linux"]
severity = "low"
score = 10
techniques = ["T1059"]
tactics = ["TA0002"]
tests = { positive = ["t.jsonl"], negative = ["t.jsonl"] }

[[rule.steps]]
action = "exec"
where = [{ field = "process.args", regex = "^(a+)+$" }]
`;

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyDir(join(from, e.name), join(to, e.name));
    else if (e.isFile) await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}

async function replayWall(trace: string, rules: string): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(BM, {
    args: ["replay", trace, "--rules", rules, "--platform", "linux", "--output", "json"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t0;
  if (out.code !== 0) {
    throw new Error(`bm replay exited ${out.code}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return ms;
}

const dir = await Deno.makeTempDir({ prefix: "bm_hostile_bench_" });
try {
  const pack = join(dir, "pack");
  await copyDir(defaultRulesDir(), pack);
  await Deno.writeTextFile(join(pack, "user_nested_plus.toml"), USER_RULE);
  await Deno.writeTextFile(join(pack, "t.jsonl"), "");
  const { rules, problems } = await loadRules(pack, {
    requireRootOwned: false,
    checkTests: false,
  });
  if (problems.length > 0) throw new Error(problems.map(formatProblem).join("\n"));

  console.log(`hostile input, ${N} events each (auth + notify exec pairs), shipped pack + ^(a+)+$`);
  console.log("input          replay ms/event   engine p50 ms   engine p99 ms   engine max ms");
  const walls: Record<string, number> = {};
  // The baseline first: the other rows subtract its wall time.
  const names = ["baseline", ...Object.keys(INPUTS).filter((n) => n !== "baseline")];
  for (const name of names) {
    const events = execTrace(N, INPUTS[name]!);
    const file = join(dir, `${name}.jsonl`);
    await Deno.writeTextFile(file, events.map(serializeEvent).join("\n") + "\n");
    // The least of three runs: the machine may be busy with other work.
    walls[name] = Math.min(
      await replayWall(file, pack),
      await replayWall(file, pack),
      await replayWall(file, pack),
    );
    const engine = new Engine(rules, DEFAULT_ENGINE_OPTIONS, new FixedClock(0));
    const times: number[] = [];
    for (const e of events) {
      const t0 = performance.now();
      engine.process(e);
      // The notify exec carries the arguments; the auth exec has none.
      if (e.process.args !== undefined) times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const perEvent = name === "baseline" ? 0 : (walls[name]! - walls.baseline!) / N;
    console.log(
      `${name.padEnd(14)} ${
        (name === "baseline" ? `(${walls[name]!.toFixed(0)} ms wall)` : perEvent.toFixed(3))
          .padStart(15)
      }   ${times[times.length >> 1]!.toFixed(3).padStart(13)}   ${
        times[Math.floor(times.length * 0.99)]!.toFixed(3).padStart(13)
      }   ${times[times.length - 1]!.toFixed(3).padStart(13)}`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
