/**
 * Runs each rule's own test traces (`bm rules test`): a positive trace must
 * make the rule fire, a negative one must not. Each rule runs alone in a
 * fresh Engine on its first platform, so one rule's tests never depend on
 * another rule.
 */
import { parseTrace } from "../sensor/trace.ts";
import type { BmEvent } from "../sensor/event.ts";
import { FixedClock } from "../clock.ts";
import { DEFAULT_ENGINE_OPTIONS, Engine, type EngineOptions } from "./engine.ts";
import type { CompiledRule } from "./rule_set.ts";

export interface RuleTestResult {
  ruleId: string;
  trace: string;
  kind: "positive" | "negative";
  ok: boolean;
  /** Why it failed. */
  reason?: string;
}

/**
 * Feeds `events` to an engine holding only `rule`; true when the rule fired.
 * `base`: the engine options to run with (default: the default settings').
 */
export function ruleFires(
  rule: CompiledRule,
  events: BmEvent[],
  base: EngineOptions = DEFAULT_ENGINE_OPTIONS,
): boolean {
  const first = events[0]?.["@timestamp"] ?? 0;
  const engine = new Engine(
    { rules: [rule] },
    { ...base, platform: rule.platforms[0]! },
    new FixedClock(first),
  );
  let fired = false;
  engine.onFire = (f) => {
    if (f.ruleId === rule.id) fired = true;
  };
  for (const e of events) engine.process(e);
  return fired;
}

export async function runRuleTests(
  rules: readonly CompiledRule[],
  base: EngineOptions = DEFAULT_ENGINE_OPTIONS,
): Promise<RuleTestResult[]> {
  const out: RuleTestResult[] = [];
  for (const rule of rules) {
    for (const kind of ["positive", "negative"] as const) {
      for (const trace of rule.tests[kind]) {
        const res: RuleTestResult = { ruleId: rule.id, trace, kind, ok: false };
        let text: string;
        try {
          text = await Deno.readTextFile(trace);
        } catch (e) {
          res.reason = `Cannot read "${trace}": ${e instanceof Error ? e.message : String(e)}`;
          out.push(res);
          continue;
        }
        const { events, problems } = parseTrace(text, trace);
        if (problems.length > 0) {
          const p = problems[0]!;
          res.reason = `Bad trace "${trace}" line ${p.line}: ${p.reason}`;
          out.push(res);
          continue;
        }
        if (events.length === 0) {
          res.reason = `Trace "${trace}" has no events`;
          out.push(res);
          continue;
        }
        const fired = ruleFires(rule, events, base);
        res.ok = kind === "positive" ? fired : !fired;
        if (!res.ok) res.reason = kind === "positive" ? "rule did not fire" : "rule fired";
        out.push(res);
      }
    }
  }
  return out;
}
