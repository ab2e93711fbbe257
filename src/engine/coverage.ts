/**
 * The pack's ATT&CK coverage: one row per technique a rule names (and every
 * technique bm knows a name for, with zeros, so gaps show), counting rules
 * per platform and the test traces those rules carry.
 */
import { ATTACK_TECHNIQUES } from "./attack_techniques.ts";
import type { CompiledRule } from "./rule_set.ts";

export interface CoverageRow {
  id: string;
  name: string;
  linux_rules: number;
  macos_rules: number;
  /** Positive and negative test traces of the rules naming the technique. */
  traces: number;
}

export interface Coverage {
  techniques: CoverageRow[];
  totals: {
    /** Techniques named by at least one rule. */
    techniques_covered: number;
    techniques_listed: number;
    linux_rules: number;
    macos_rules: number;
    /** Rules of the pack (a rule for both platforms counts once). */
    rules: number;
    /** Distinct test traces of the pack. */
    traces: number;
  };
}

export function coverage(rules: readonly CompiledRule[]): Coverage {
  const rows = new Map<string, CoverageRow>();
  const row = (id: string) => {
    let r = rows.get(id);
    if (!r) {
      r = { id, name: ATTACK_TECHNIQUES[id] ?? "", linux_rules: 0, macos_rules: 0, traces: 0 };
      rows.set(id, r);
    }
    return r;
  };
  for (const id of Object.keys(ATTACK_TECHNIQUES)) row(id);
  const traces = new Set<string>();
  let linux = 0;
  let macos = 0;
  for (const rule of rules) {
    const ts = [...rule.tests.positive, ...rule.tests.negative];
    for (const t of ts) traces.add(t);
    if (rule.platforms.includes("linux")) linux++;
    if (rule.platforms.includes("macos")) macos++;
    for (const id of new Set(rule.techniques)) {
      const r = row(id);
      if (rule.platforms.includes("linux")) r.linux_rules++;
      if (rule.platforms.includes("macos")) r.macos_rules++;
      r.traces += ts.length;
    }
  }
  const techniques = [...rows.values()].sort((a, b) => a.id.localeCompare(b.id));
  return {
    techniques,
    totals: {
      techniques_covered: techniques.filter((r) => r.linux_rules + r.macos_rules > 0).length,
      techniques_listed: techniques.length,
      linux_rules: linux,
      macos_rules: macos,
      rules: rules.length,
      traces: traces.size,
    },
  };
}
