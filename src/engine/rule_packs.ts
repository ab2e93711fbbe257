/**
 * The rule packs the agent loads: `engine.rulesDir` (or the shipped pack)
 * first, then each of `engine.extraRulesDirs`. Rule ids must be unique across
 * all of them; `bm rules list` names the pack each rule came from.
 */
import { resolve, sep } from "node:path";
import { defaultRulesDir } from "./rule_loader.ts";

export function rulePackDirs(
  engine: { rulesDir?: string | undefined; extraRulesDirs: string[] },
): string[] {
  return [engine.rulesDir ?? defaultRulesDir(), ...engine.extraRulesDirs];
}

/** The pack (one of `dirs`) holding `file`: the longest directory that contains it. */
export function packOf(file: string, dirs: readonly string[]): string | undefined {
  const f = resolve(file);
  let best: string | undefined;
  for (const d of dirs) {
    const r = resolve(d);
    if (
      (f === r || f.startsWith(r.endsWith(sep) ? r : r + sep)) &&
      (best === undefined || r.length > resolve(best).length)
    ) {
      best = d;
    }
  }
  return best;
}
