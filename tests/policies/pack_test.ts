/**
 * The default rule pack (policies/): it loads without problems, has the
 * promised coverage, every rule's own positive trace fires it and its
 * negative trace does not, and the benign corpus (policies/benign/*.jsonl,
 * recorded from real workloads) gives no verdict and no firing above severity
 * low with the whole pack loaded.
 */
import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadRules } from "../../src/engine/rule_loader.ts";
import { parseRtpBlocklist } from "../../src/engine/rtp_blocklist.ts";
import { runRuleTests } from "../../src/engine/rule_tests.ts";
import { DEFAULT_ENGINE_OPTIONS, Engine } from "../../src/engine/engine.ts";
import type { Platform, RuleSet } from "../../src/engine/rule_set.ts";
import { parseTrace } from "../../src/sensor/trace.ts";
import { FakeClock } from "../../src/clock_test_utils.ts";
import { ATTACK_TECHNIQUES } from "../../src/engine/attack_techniques.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const POLICIES = join(ROOT, "policies");
const BENIGN = join(POLICIES, "benign");

async function pack(): Promise<RuleSet> {
  const { rules, problems } = await loadRules(POLICIES, { requireRootOwned: false });
  assertEquals(problems.map((p) => `${p.file}:${p.line}: ${p.message}`), []);
  return rules;
}

Deno.test("pack: loads cleanly with at least 40 rules across both platforms", async () => {
  const rules = (await pack()).rules;
  assert(rules.length >= 40, `only ${rules.length} rules`);
  const linux = rules.filter((r) => r.platforms.includes("linux"));
  const macos = rules.filter((r) => r.platforms.includes("macos"));
  assert(linux.length >= 20, `only ${linux.length} Linux rules`);
  assert(macos.length >= 18, `only ${macos.length} macOS rules`);
  for (const r of rules) {
    const os = r.name.startsWith("Behavior:Linux/") ? "linux" : "macos";
    assert(r.platforms.includes(os), `${r.id}: name ${r.name} vs platforms ${r.platforms}`);
    assert(r.techniques.length > 0 && r.tactics.length > 0, `${r.id}: no ATT&CK ids`);
    for (const t of r.techniques) {
      assert(
        ATTACK_TECHNIQUES[t] !== undefined,
        `${r.id}: technique ${t} has no name for coverage`,
      );
    }
  }
});

Deno.test("pack: every low-severity rule is alert only (report, score at most 30)", async () => {
  const rules = (await pack()).rules;
  const bad = rules.filter((r) =>
    r.severity === "low" && (r.score > 30 || r.actions.some((a) => a.type !== "report"))
  ).map((r) => `${r.id}: score ${r.score}, actions ${r.actions.map((a) => a.type)}`);
  assertEquals(bad, []);
  assert(rules.filter((r) => r.severity === "low").length >= 10);
});

Deno.test("pack: at least 150 Linux rules, each with its own positive and negative trace", async () => {
  const linux = (await pack()).rules.filter((r) => r.platforms.includes("linux"));
  assert(linux.length >= 150, `only ${linux.length} Linux rules`);
  for (const r of linux) {
    assert(r.tests.positive.length > 0 && r.tests.negative.length > 0, `${r.id}: no traces`);
  }
});

Deno.test("pack: at least 120 macOS rules, each with its own positive and negative trace", async () => {
  const macos = (await pack()).rules.filter((r) => r.platforms.includes("macos"));
  assert(macos.length >= 120, `only ${macos.length} macOS rules`);
  for (const r of macos) {
    assert(r.tests.positive.length > 0 && r.tests.negative.length > 0, `${r.id}: no traces`);
  }
});

Deno.test("pack: the demonstration rule exists for both platforms and carries the threshold", async () => {
  const rules = (await pack()).rules;
  for (const name of ["Behavior:Linux/BmChangeFileTest", "Behavior:MacOS/BmChangeFileTest"]) {
    const r = rules.find((x) => x.name === name);
    if (r === undefined) throw new Error(`Missing rule "${name}"`);
    assert(r.score >= DEFAULT_ENGINE_OPTIONS.threshold, `${name} score ${r.score}`);
    assert(r.actions.some((a) => a.type === "kill" && a.tree), `${name} does not kill the tree`);
    assertEquals(r.steps.length, 2);
  }
});

Deno.test("pack: every rule's positive trace fires it and its negative trace does not", async () => {
  const rules = (await pack()).rules;
  const results = await runRuleTests(rules);
  for (const r of rules) {
    assert(results.some((x) => x.ruleId === r.id && x.kind === "positive"), `${r.id}: no positive`);
    assert(results.some((x) => x.ruleId === r.id && x.kind === "negative"), `${r.id}: no negative`);
  }
  const failed = results.filter((r) => !r.ok).map((r) => `${r.ruleId} ${r.kind}: ${r.reason}`);
  assertEquals(failed, []);
});

/** Replays a trace through an engine holding the whole pack; returns its alerts and verdicts. */
function replay(rules: RuleSet, platform: Platform, text: string, file: string) {
  const { events, problems } = parseTrace(text, file);
  assertEquals(problems, [], `${file}: bad lines`);
  assert(events.length > 0, `${file}: empty`);
  const engine = new Engine(
    rules,
    { ...DEFAULT_ENGINE_OPTIONS, platform, forwardRtp: true },
    new FakeClock(events[0]!["@timestamp"]),
  );
  const fired: { rule: string; severity: string; process: string }[] = [];
  const verdicts: string[] = [];
  for (const e of events) {
    const out = engine.process(e);
    for (const v of out.verdicts) verdicts.push(`${v.name} pid ${v.process.pid}`);
    for (const a of out.alerts) {
      fired.push({ rule: a.rule_id, severity: a.severity, process: a.process.args.join(" ") });
    }
  }
  return { fired, verdicts, events: events.length };
}

/** Traces recorded with `bm record` from real workloads (policies/benign/README.md). */
const CORPUS = [
  "apt_packages",
  "npm_ci",
  "npm_ci_tmp",
  "make_build",
  "git_ops",
  "python_venv",
  "admin_session",
  "logrotate",
  "tar_backup",
  "ssh_keygen",
  "dev_tests",
];

for (const name of CORPUS) {
  Deno.test(`benign corpus: recorded ${name} gives no threat and no alert above low with the full pack`, async () => {
    const rules = await pack();
    const file = join(BENIGN, `${name}.jsonl`);
    const text = await Deno.readTextFile(file);
    const { fired, verdicts, events } = replay(rules, "linux", text, file);
    assert(events >= 40, `${name}: only ${events} events`);
    assert(
      text.split("\n", 1)[0]!.includes('"source":"linux"'),
      `${name}: not a recording from the Linux sensor`,
    );
    assertEquals(fired.filter((f) => f.severity !== "low"), []);
    assertEquals(verdicts, []);
  });
}

Deno.test("benign corpus: every trace in policies/benign is covered by this test and its README", async () => {
  const found: string[] = [];
  for await (const e of Deno.readDir(BENIGN)) {
    if (e.isFile && e.name.endsWith(".jsonl")) found.push(e.name.replace(/\.jsonl$/, ""));
  }
  assertEquals(found.sort(), [...CORPUS].sort());
  const readme = await Deno.readTextFile(join(BENIGN, "README.md"));
  for (const name of CORPUS) assert(readme.includes(`\`${name}.jsonl\``), `README lacks ${name}`);
});

Deno.test("pack: the full pack gives a verdict on the demonstration traces (scores add up)", async () => {
  const rules = await pack();
  for (const platform of ["linux", "macos"] as const) {
    const file = join(POLICIES, "tests", platform, "bm_change_file_test.pos.jsonl");
    const { verdicts } = replay(rules, platform, await Deno.readTextFile(file), file);
    const os = platform === "linux" ? "Linux" : "MacOS";
    assert(
      verdicts.some((v) => v.startsWith(`Behavior:${os}/BmChangeFileTest`)),
      `${platform}: ${JSON.stringify(verdicts)}`,
    );
  }
});

Deno.test("pack: rtp_blocklist.txt holds lower-case SHA-256 lines with sizes, including EICAR", async () => {
  const file = join(POLICIES, "rtp_blocklist.txt");
  const text = await Deno.readTextFile(file);
  // The daemon's own parser: throws naming the line on anything but a SHA-256 and a size.
  const hashes = parseRtpBlocklist(text, file);
  assert(hashes.has("275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"));
  // Every entry has its size, so the scanner hashes only files of those sizes.
  assertEquals([...hashes.sizes ?? []].sort(), [68, 73]);
  // Stored lower-case already: the parser folds case, the file should not need it.
  for (const line of text.split("\n").map((l) => l.trim())) {
    if (line === "" || line.startsWith("#")) continue;
    assert(hashes.has(line.split(/\s+/)[0]!), `"${line}" not lower-case`);
  }
  // The sizes are right: the documented files hash to their entries at those sizes.
  const eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
  const bmTest = "BM-RTP-TEST-FILE: harmless file on the bm real-time-protection blocklist\n";
  for (const content of [eicar, bmTest]) {
    const bytes = new TextEncoder().encode(content);
    const sha = createHash("sha256").update(bytes).digest("hex");
    assert(text.includes(`${sha} ${bytes.length}\n`), `${sha} ${bytes.length}`);
  }
});
