/**
 * `bm rules list|validate|test|coverage|import-sigma`: inspect, check and import rule packs.
 *
 * `validate` and `test` are authoring tools for a pack on disk and do not
 * insist on root ownership; `list` shows the pack the agent would load and
 * applies the same ownership check as the daemon.
 */
import type { Command } from "./command.ts";
import { parseCommandArgs, printJson } from "./command.ts";
import { InputError, UsageError } from "../errors.ts";
import { defaultRulesDir, formatProblem, loadRules } from "../engine/rule_loader.ts";
import { runRuleTests } from "../engine/rule_tests.ts";
import { coverage } from "../engine/coverage.ts";
import { relative } from "node:path";
import { loadEffectiveConfig, loadEffectiveConfigOrThrow } from "../config/load.ts";
import { DEFAULT_ENGINE_OPTIONS } from "../engine/engine.ts";
import { engineOptions } from "../daemon/settings_map.ts";
import { packOf, rulePackDirs } from "../engine/rule_packs.ts";
import { IMPORT_SIGMA_USAGE, runImportSigma } from "./rules_import_sigma.ts";

const USAGE = `Usage:
  bm rules list [--rules DIR]... [--output json] rules and their pack (default: the packs the agent loads)
  bm rules validate DIR                          check a pack: one line per problem (file:line: rule: reason)
  bm rules test DIR [--config]                   run every rule's positive and negative traces
                                                 (--config: with this machine's settings, e.g. its exclusions)
  bm rules coverage [--rules DIR] [--output json]  ATT&CK techniques: rules per platform, traces
${IMPORT_SIGMA_USAGE}

Exit codes: 0 ok, 1 a rule test failed, 2 bad usage or an invalid rule`;

function parse(args: string[]) {
  return parseCommandArgs("rules", {
    args,
    allowPositionals: true,
    options: {
      rules: { type: "string", multiple: true },
      output: { type: "string" },
      config: { type: "boolean" },
    },
  }, (detail) => `${detail}: run "bm rules --help"`);
}

export const rulesCommand: Command = {
  name: "rules",
  summary: "list, validate and test behavior rule packs",
  usage: USAGE,
  async run(args: string[]): Promise<number> {
    const [sub, ...rest] = args;
    if (sub === "import-sigma") return await runImportSigma(rest);
    const { values, positionals } = parse(rest);
    if (values.output !== undefined && values.output !== "json") {
      throw new UsageError(`Unknown output format "${values.output}": only "json"`);
    }
    if (sub === "list") {
      if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}"`);
      // Without --rules: the packs the agent loads (engine.rulesDir and engine.extraRulesDirs).
      const packs = values.rules ?? rulePackDirs((await loadEffectiveConfig()).settings.engine);
      const { rules, problems } = await loadRules(packs, {
        requireRootOwned: values.rules === undefined,
      });
      for (const p of problems) console.error(formatProblem(p));
      if (values.output === "json") {
        printJson({
          rules: rules.rules.map((r) => ({
            id: r.id,
            name: r.name,
            platforms: r.platforms,
            severity: r.severity,
            score: r.score,
            techniques: r.techniques,
            tactics: r.tactics,
            steps: r.steps.length,
            pack: packOf(r.file, packs) ?? null,
            file: r.file,
            line: r.line,
          })),
        });
      } else {
        for (const r of rules.rules) {
          console.log(
            `${r.id.padEnd(40)} ${r.name.padEnd(48)} ${r.platforms.join(",").padEnd(12)} ${
              r.severity.padEnd(8)
            } ${String(r.score).padEnd(5)} ${packOf(r.file, packs) ?? ""}`,
          );
        }
        console.log(`${rules.rules.length} rules`);
      }
      return problems.length > 0 ? 2 : 0;
    }
    if (sub === "coverage") {
      if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}"`);
      const dir = values.rules ?? defaultRulesDir();
      const { rules, problems } = await loadRules(dir, {
        requireRootOwned: values.rules === undefined && Deno.uid() === 0,
        checkTests: false,
      });
      for (const p of problems) console.error(formatProblem(p));
      if (problems.length > 0) return 2;
      const cov = coverage(rules.rules);
      if (values.output === "json") {
        printJson(cov);
        return 0;
      }
      const w = Math.max(...cov.techniques.map((r) => r.name.length), 4);
      console.log(`${"TECHNIQUE".padEnd(10)} ${"NAME".padEnd(w)} LINUX MACOS TRACES`);
      for (const r of cov.techniques) {
        console.log(
          `${r.id.padEnd(10)} ${r.name.padEnd(w)} ${String(r.linux_rules).padStart(5)} ${
            String(r.macos_rules).padStart(5)
          } ${String(r.traces).padStart(6)}`,
        );
      }
      const t = cov.totals;
      console.log(
        `${t.techniques_covered} of ${t.techniques_listed} techniques covered; ${t.linux_rules} Linux rules, ${t.macos_rules} macOS rules (${t.rules} rules), ${t.traces} test traces`,
      );
      return 0;
    }
    if (sub === "validate" || sub === "test") {
      if (positionals.length !== 1) throw new UsageError(`"bm rules ${sub}" needs one DIR`);
      const dir = positionals[0]!;
      const { rules, problems } = await loadRules(dir, { requireRootOwned: false });
      for (const p of problems) console.error(formatProblem(p));
      if (problems.length === 0 && rules.rules.length === 0) {
        // An empty pack is a mistake (a wrong path, /dev), never "0 rules valid".
        throw new InputError(`No rules in "${dir}": no [[rule]] in any *.toml file there`);
      }
      if (sub === "validate") {
        if (problems.length > 0) {
          console.error(`${problems.length} problems in "${dir}"`);
          return 2;
        }
        console.log(`${rules.rules.length} rules valid in "${dir}"`);
        return 0;
      }
      const results = await runRuleTests(
        rules.rules,
        values.config
          ? engineOptions((await loadEffectiveConfigOrThrow()).settings)
          : DEFAULT_ENGINE_OPTIONS,
      );
      let failed = 0;
      if (values.output === "json") {
        printJson({ results, problems: problems.map(formatProblem) });
        failed = results.filter((r) => !r.ok).length;
      } else {
        for (const r of results) {
          if (!r.ok) failed++;
          console.log(
            `${r.ok ? "ok  " : "FAIL"} ${r.ruleId} ${r.kind} ${relative(Deno.cwd(), r.trace)}${
              r.ok ? "" : `: ${r.reason}`
            }`,
          );
        }
        console.log(
          `${
            results.length - failed
          } passed, ${failed} failed, ${rules.rules.length} rules, ${problems.length} problems`,
        );
      }
      if (problems.length > 0) return 2;
      return failed > 0 ? 1 : 0;
    }
    throw new UsageError(
      sub === undefined
        ? `"bm rules" needs list, validate, test or coverage`
        : `Unknown subcommand "rules ${sub}"`,
    );
  },
};
