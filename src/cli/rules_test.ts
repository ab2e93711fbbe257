/** `bm rules` end to end: spawns bin/bm, checks exit codes and output. */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { runBm, tempDir as makeTempDir } from "./run_bm_test_utils.ts";

const PACK = new URL("../../tests/engine/fixtures/pack", import.meta.url).pathname;

const bm = (...args: string[]) => runBm(args);
const tempDir = (files: Record<string, string>) => makeTempDir("bm_cli_rules_", files);

Deno.test("bm rules validate: a good pack", async () => {
  const r = await bm("rules", "validate", PACK);
  equal(r.code, 0, r.stderr);
  match(r.stdout, /^5 rules valid in /);
});

Deno.test("bm rules test: every fixture rule passes", async () => {
  const r = await bm("rules", "test", PACK);
  equal(r.code, 0, r.stdout + r.stderr);
  match(r.stdout, /10 passed, 0 failed, 5 rules, 0 problems/);
});

const BROKEN = `[[rule]]
id = "broken"
name = "Behavior:Linux/Broken.A"
description = "x"
platforms = ["linux"]
severity = "low"
score = 1
tests = { positive = ["p.jsonl"], negative = ["n.jsonl"] }

[[rule.steps]]
action = "exec"
where = [{ field = "process.name", regex = "(" }]
`;

Deno.test("bm rules validate/test: invalid rules exit 2 with file:line: rule: reason", async () => {
  const dir = await tempDir({ "r.toml": BROKEN, "p.jsonl": "", "n.jsonl": "" });
  try {
    const v = await bm("rules", "validate", dir);
    equal(v.code, 2);
    match(v.stderr, new RegExp(`^${join(dir, "r.toml")}:12: broken: Bad regex "\\(":`));
    equal((await bm("rules", "test", dir)).code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bm rules validate: a regex the linear-time engine cannot run is refused with file:line and reason", async () => {
  const rule = BROKEN.replace(`regex = "("`, `regex = "^(a+)\\\\1$"`);
  const ok = BROKEN.replace(`regex = "("`, `regex = "^(a+)+$"`);
  const dir = await tempDir({
    "r.toml": rule,
    "ok.toml": ok.replace(`"broken"`, `"nested"`),
    "p.jsonl": "",
    "n.jsonl": "",
  });
  try {
    const v = await bm("rules", "validate", dir);
    equal(v.code, 2, v.stderr);
    match(
      v.stderr,
      new RegExp(
        `^${
          join(dir, "r.toml")
        }:12: broken: Bad regex "\\^\\(a\\+\\)\\\\1\\$": cannot run in linear time: backreferences`,
        "m",
      ),
    );
    equal(v.stderr.includes("ok.toml"), false, "^(a+)+$ runs in linear time and is accepted");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bm rules validate: a device, an empty folder or one with no rule files exits 2 and says so", async () => {
  const dev = await bm("rules", "validate", "/dev/zero");
  equal(dev.code, 2, dev.stderr);
  match(
    dev.stderr,
    /^\/dev\/zero:0: Cannot load rules from "\/dev\/zero": not a regular file or directory/,
  );
  const devDir = await bm("rules", "validate", "/dev");
  equal(devDir.code, 2, devDir.stderr);
  equal(devDir.stderr.trim(), `No rules in "/dev": no [[rule]] in any *.toml file there`);
  const dir = await tempDir({ "notes.txt": "x" });
  try {
    const empty = await bm("rules", "validate", dir);
    equal(empty.code, 2);
    equal(empty.stdout, "");
    equal(empty.stderr.trim(), `No rules in "${dir}": no [[rule]] in any *.toml file there`);
    equal((await bm("rules", "test", dir)).code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bm rules test: a failing trace exits 1 and names the rule", async () => {
  const rule = BROKEN.replace(`regex = "("`, `eq = "sh"`);
  const sh =
    `{"@timestamp": 1, "event": {"action": "exec"}, "process": {"pid": 2, "executable": "/bin/sh", "args": ["sh"]}}\n`;
  // Positive trace does not fire, negative trace fires: two failures.
  const dir = await tempDir({
    "r.toml": rule,
    "p.jsonl": sh.replace("/bin/sh", "/bin/ls"),
    "n.jsonl": sh,
  });
  try {
    const r = await bm("rules", "test", dir);
    equal(r.code, 1);
    match(r.stdout, /FAIL broken positive .*p\.jsonl: rule did not fire/);
    match(r.stdout, /FAIL broken negative .*n\.jsonl: rule fired/);
    match(r.stdout, /0 passed, 2 failed/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bm rules list --output json", async () => {
  const r = await bm("rules", "list", "--rules", PACK, "--output", "json");
  equal(r.code, 0, r.stderr);
  const ids = JSON.parse(r.stdout).rules.map((x: { id: string }) => x.id);
  deepEqual(ids, [
    "fixture.fetch_pipe_shell",
    "fixture.write_then_exec",
    "fixture.change_file_test",
    "fixture.discovery_burst",
    "fixture.shadow_read",
  ]);
});

Deno.test("bm rules: usage errors exit 2", async () => {
  equal((await bm("rules")).code, 2);
  equal((await bm("rules", "frobnicate")).code, 2);
  equal((await bm("rules", "validate")).code, 2);
});

Deno.test("bm rules coverage: rows per technique and totals, as a table and as JSON", async () => {
  const text = await bm("rules", "coverage", "--rules", PACK);
  equal(text.code, 0, text.stderr);
  match(text.stdout, /^TECHNIQUE +NAME +LINUX MACOS TRACES\n/);
  match(
    text.stdout,
    /techniques covered; \d+ Linux rules, \d+ macOS rules \(5 rules\), 10 test traces\n$/,
  );
  const j = await bm("rules", "coverage", "--rules", PACK, "--output", "json");
  equal(j.code, 0, j.stderr);
  const doc = JSON.parse(j.stdout) as {
    techniques: { id: string; linux_rules: number; macos_rules: number; traces: number }[];
    totals: { rules: number; traces: number };
  };
  equal(doc.totals.rules, 5);
  equal(doc.totals.traces, 10);
  const covered = doc.techniques.filter((r) => r.linux_rules + r.macos_rules > 0);
  equal(covered.length > 0, true);
  equal((await bm("rules", "coverage", "--rules", "/nonexistent/bm")).code, 2);
});

const SIGMA_FIXTURES = new URL("../../tests/sigma/fixtures/", import.meta.url).pathname;

Deno.test({
  name: "bm rules list: the packs of engine.rulesDir and engine.extraRulesDirs, each rule's pack",
  // Without --rules, list applies the daemon's ownership checks (config and packs owned by root).
  ignore: Deno.uid() !== 0,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "bm_rules_packs_" });
    try {
      const sigma = join(dir, "sigma");
      const imp = await bm("rules", "import-sigma", SIGMA_FIXTURES, "--out", sigma);
      equal(imp.code, 0, imp.stderr);
      const env = {
        BM_LOCAL_CONFIG: join(dir, "bm.toml"),
        BM_MANAGED_CONFIG: join(dir, "managed.json"),
        BM_STATE_DIR: join(dir, "state"),
      };
      await Deno.writeTextFile(
        env.BM_LOCAL_CONFIG,
        `[engine]\nrulesDir = "${PACK}"\nextraRulesDirs = ["${sigma}"]\n`,
      );
      const r = await runBm(["rules", "list", "--output", "json"], { env });
      equal(r.code, 0, r.stderr);
      const rules = JSON.parse(r.stdout).rules as { id: string; pack: string }[];
      const packs = new Map<string, number>();
      for (const x of rules) packs.set(x.pack, (packs.get(x.pack) ?? 0) + 1);
      equal(packs.get(PACK), 5);
      ok((packs.get(sigma) ?? 0) >= 12);
      equal(packs.size, 2);
      equal(rules.find((x) => x.id.startsWith("sigma."))?.pack, sigma);
      const text = await runBm(["rules", "list"], { env });
      match(text.stdout, new RegExp(`^sigma\\.\\S+ .* ${sigma.replace(/[.]/g, "\\.")}$`, "m"));
      // the same with --rules given twice
      const two = await bm("rules", "list", "--rules", PACK, "--rules", sigma, "--output", "json");
      equal(two.code, 0, two.stderr);
      deepEqual(JSON.parse(two.stdout).rules.length, rules.length);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
