/**
 * Globs match any byte (issue 13): a newline, CR or tab in a file name must
 * not take it past the shipped pack's temp-dir rules. Each rule's own positive
 * trace is replayed with the character inserted in the dropped file's name,
 * and in a folder name under the temp dir.
 */
import { equal, ok } from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadRules } from "../../src/engine/rule_loader.ts";
import { ruleFires } from "../../src/engine/rule_tests.ts";
import { parseTrace } from "../../src/sensor/trace.ts";

const POLICIES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "policies");
const { rules, problems } = await loadRules(POLICIES, { requireRootOwned: false });

const CHARS: [string, string][] = [["newline", "\n"], ["CR", "\r"], ["tab", "\t"]];
const RULES = ["linux.drop_exec_temp", "macos.drop_exec_temp"];

for (const id of RULES) {
  for (const [what, c] of CHARS) {
    Deno.test(`${id}: a ${what} in the dropped file's name or folder still fires`, async () => {
      equal(problems.length, 0);
      const rule = rules.rules.find((r) => r.id === id);
      ok(rule, id);
      const trace = rule.tests.positive[0]!;
      const { events } = parseTrace(await Deno.readTextFile(trace), trace);
      // The file the rule's step 2 executes: the last exec's file.path.
      const exec = events.findLast((e) => e.event.action === "exec" && "file" in e);
      const path = (exec as { file: { path: string } }).file.path;
      const cut = path.lastIndexOf("/");
      const renamed = [
        `${path.slice(0, cut)}/${path[cut + 1]}${c}${path.slice(cut + 2)}`,
        `${path.slice(0, cut)}/sub${c}dir/${path.slice(cut + 1)}`,
      ];
      for (const to of renamed) {
        const text = (await Deno.readTextFile(trace)).replaceAll(
          JSON.stringify(path).slice(1, -1),
          JSON.stringify(to).slice(1, -1),
        );
        ok(text.includes(JSON.stringify(to).slice(1, -1)), "the trace names the renamed file");
        const { events: moved, problems: bad } = parseTrace(text, trace);
        equal(bad.length, 0);
        equal(ruleFires(rule, moved), true, `${id} on ${JSON.stringify(to)}`);
      }
    });
  }
}
