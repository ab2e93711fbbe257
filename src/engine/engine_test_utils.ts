/** Helpers for the engine's unit tests: inline rules, terse events. */
import type { BmEvent, BmFields, EventAction, FileFields, ProcessFields } from "../sensor/event.ts";
import { FakeClock } from "../clock_test_utils.ts";
import { compileFile, formatProblem, type RuleProblem } from "./rule_loader.ts";
import type { RuleSet } from "./rule_set.ts";
import {
  DEFAULT_ENGINE_OPTIONS,
  Engine,
  type EngineOptions,
  type Firing,
  type SeedProcess,
} from "./engine.ts";
import type { Verdict } from "./verdict.ts";
import type { AuthAnswer } from "../sensor/sensor.ts";

/** Compiles TOML rule text; throws with every problem when it does not compile. */
export function rules(toml: string): RuleSet {
  if (toml.trim() === "") return { rules: [] };
  const problems: RuleProblem[] = [];
  const compiled = compileFile("inline.toml", toml, problems, { checkTests: false });
  if (problems.length > 0) throw new Error(problems.map(formatProblem).join("\n"));
  return { rules: compiled };
}

/** Problems of TOML rule text (no test-trace checks). */
export function problemsOf(toml: string): RuleProblem[] {
  const problems: RuleProblem[] = [];
  compileFile("inline.toml", toml, problems, { checkTests: false });
  return problems;
}

/** A rule header with the boilerplate filled in. */
export function rule(id: string, extra = "", score = 100): string {
  return `
[[rule]]
id = "${id}"
name = "Behavior:Linux/${id.replace(/[^A-Za-z0-9]/g, "")}.A"
description = "test rule ${id}"
platforms = ["linux"]
severity = "high"
score = ${score}
tests = { positive = ["p.jsonl"], negative = ["n.jsonl"] }
${extra}
`;
}

export function ev(
  t: number,
  action: EventAction,
  process: ProcessFields,
  extra: {
    file?: FileFields;
    user?: { id?: number; effective?: { id?: number } };
    bm?: BmFields;
  } = {},
): BmEvent {
  return { "@timestamp": t, event: { action }, process, ...extra } as BmEvent;
}

export interface RunResult {
  verdicts: Verdict[];
  fired: string[];
  /** Every firing, with the firing process's score after it. */
  firings: Firing[];
  auth: AuthAnswer[];
  engine: Engine;
}

export function run(
  set: RuleSet,
  events: BmEvent[],
  opts: Partial<EngineOptions> = {},
  seed: SeedProcess[] = [],
): RunResult {
  const engine = new Engine(set, { ...DEFAULT_ENGINE_OPTIONS, ...opts }, new FakeClock(0));
  if (seed.length > 0) engine.seed(seed);
  const fired: string[] = [];
  const firings: Firing[] = [];
  engine.onFire = (f) => {
    fired.push(f.ruleId);
    firings.push(f);
  };
  const verdicts: Verdict[] = [];
  const auth: AuthAnswer[] = [];
  for (const e of events) {
    const out = engine.process(e);
    verdicts.push(...out.verdicts);
    if (out.auth) auth.push(out.auth);
  }
  return { verdicts, fired, firings, auth, engine };
}
