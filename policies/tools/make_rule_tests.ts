/**
 * Writes (or checks) the positive and negative test trace of every rule whose
 * scenario lives in policies/tools/scenarios/:
 *
 *     deno run -A policies/tools/make_rule_tests.ts           # rewrites those traces
 *     deno run -A policies/tools/make_rule_tests.ts --check   # exit 1 when one differs
 *
 * Traces of the rules written before the builder existed are checked in as
 * recorded and are not rewritten.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, originOs, type Scenario } from "./scenario.ts";
import { LINUX_SCENARIOS } from "./scenarios/linux.ts";
import { MACOS_SCENARIOS } from "./scenarios/macos.ts";

export const TESTS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "tests", "linux");
export const MACOS_TESTS_DIR = join(TESTS_DIR, "..", "macos");

/** Every scenario's traces: file path -> content (tests/linux or tests/macos by origin). */
export function renderAll(
  scenarios: readonly Scenario[] = [...LINUX_SCENARIOS, ...MACOS_SCENARIOS],
): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of scenarios) {
    const dir = originOs(s.pos.origin) === "macos" ? MACOS_TESTS_DIR : TESTS_DIR;
    for (const kind of ["pos", "neg"] as const) {
      const path = join(dir, `${s.name}.${kind}.jsonl`);
      if (out.has(path)) throw new Error(`Scenario "${s.name}" is defined twice`);
      out.set(path, build(s[kind].origin, s[kind].acts).text());
    }
  }
  return out;
}

/** Paths whose file differs from the scenario's rendering. */
export async function stale(rendered: Map<string, string>): Promise<string[]> {
  const bad: string[] = [];
  for (const [path, text] of rendered) {
    let disk = "";
    try {
      disk = await Deno.readTextFile(path);
    } catch {
      // missing counts as stale
    }
    if (disk !== text) bad.push(path);
  }
  return bad;
}

if (import.meta.main) {
  const rendered = renderAll();
  if (Deno.args.includes("--check")) {
    const bad = await stale(rendered);
    for (const p of bad) console.error(`Stale trace "${p}": run policies/tools/make_rule_tests.ts`);
    Deno.exitCode = bad.length > 0 ? 1 : 0;
  } else {
    await Deno.mkdir(TESTS_DIR, { recursive: true });
    await Deno.mkdir(MACOS_TESTS_DIR, { recursive: true });
    for (const [path, text] of rendered) await Deno.writeTextFile(path, text);
    console.log(`${rendered.size} traces written`);
  }
}
