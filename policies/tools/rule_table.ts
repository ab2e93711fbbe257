/**
 * Prints the Markdown table of every rule in the pack (for policies/README.md):
 *
 *     deno run -A policies/tools/rule_table.ts
 */
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { formatProblem, loadRules } from "../../src/engine/rule_loader.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The table's lines, rules in file order. */
export async function ruleTable(root = ROOT): Promise<string[]> {
  const { rules, problems } = await loadRules(root, { requireRootOwned: false, checkTests: false });
  if (problems.length > 0) throw new Error(problems.map(formatProblem).join("\n"));
  const out = [
    "| id | name | platforms | severity | score | techniques | what it catches | file |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of rules.rules) {
    const cells = [
      `\`${r.id}\``,
      r.name,
      r.platforms.join(","),
      r.severity,
      String(r.score),
      r.techniques.join(" "),
      r.description.replaceAll("|", "\\|"),
      relative(root, r.file),
    ];
    out.push(`| ${cells.join(" | ")} |`);
  }
  return out;
}

if (import.meta.main) console.log((await ruleTable()).join("\n"));
