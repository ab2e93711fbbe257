import { deepEqual, equal } from "node:assert/strict";
import { coverage } from "./coverage.ts";
import { rules } from "./engine_test_utils.ts";

const STEP = `[[rule.steps]]\naction = "exec"\nwhere = [{ field = "process.name", eq = "x" }]\n`;

function rule(id: string, platforms: string, techniques: string, tests = 1): string {
  const pos = Array.from({ length: tests }, (_, i) => `"${id}.p${i}.jsonl"`).join(", ");
  const os = platforms.startsWith(`["macos`) ? "MacOS" : "Linux";
  return `
[[rule]]
id = "${id}"
name = "Behavior:${os}/${id}.A"
description = "d"
platforms = ${platforms}
severity = "low"
score = 1
techniques = ${techniques}
tests = { positive = [${pos}], negative = ["${id}.n.jsonl"] }
${STEP}`;
}

Deno.test("coverage counts rules per platform and traces per technique, with totals", () => {
  const set = rules(
    rule("a", `["linux"]`, `["T1059.004", "T1105"]`, 2) +
      rule("b", `["macos"]`, `["T1059.004"]`) +
      rule("c", `["linux", "macos"]`, `["T1105", "T1105", "T9999"]`),
  );
  const cov = coverage(set.rules);
  const by = new Map(cov.techniques.map((r) => [r.id, r]));
  deepEqual(by.get("T1059.004"), {
    id: "T1059.004",
    name: "Command and Scripting Interpreter: Unix Shell",
    linux_rules: 1,
    macos_rules: 1,
    traces: 5,
  });
  // A technique named twice by one rule counts that rule once.
  deepEqual(by.get("T1105"), {
    id: "T1105",
    name: "Ingress Tool Transfer",
    linux_rules: 2,
    macos_rules: 1,
    traces: 5,
  });
  equal(by.get("T9999")?.name, "");
  equal(by.get("T1611")?.linux_rules, 0);
  equal(cov.totals.linux_rules, 2);
  equal(cov.totals.macos_rules, 2);
  equal(cov.totals.rules, 3);
  equal(cov.totals.traces, 7);
  equal(cov.totals.techniques_covered, 3);
  // Rows are sorted by id.
  deepEqual(cov.techniques.map((r) => r.id), [...cov.techniques.map((r) => r.id)].sort());
});
