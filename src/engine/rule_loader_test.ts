import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { defaultRulesDir, formatProblem, loadRules } from "./rule_loader.ts";
import { problemsOf, rule, rules } from "./engine_test_utils.ts";

const STEP = `
[[rule.steps]]
action = "exec"
where = [{ field = "process.name", eq = "curl" }]
`;

function one(toml: string) {
  const ps = problemsOf(toml);
  equal(ps.length, 1, ps.map(formatProblem).join("\n"));
  return ps[0]!;
}

/** 1-based line of the first line containing `needle`. */
function lineOf(text: string, needle: string): number {
  return text.split("\n").findIndex((l) => l.includes(needle)) + 1;
}

Deno.test("a valid rule has no problems", () => {
  deepEqual(problemsOf(rule("ok") + STEP), []);
});

Deno.test("malformed TOML names its line", () => {
  const text = rule("bad") + `\n[[rule.steps]]\naction = "exec\n`;
  const p = one(text);
  equal(p.line, lineOf(text, `action = "exec`));
  match(p.message, /^Invalid TOML/);
});

Deno.test("unknown rule field names its line and rule", () => {
  const text = rule("unk", `colour = "red"`) + STEP;
  const p = one(text);
  equal(p.ruleId, "unk");
  equal(p.line, lineOf(text, "colour"));
  match(p.message, /Unknown field "colour"/);
});

Deno.test("unknown step field names its line", () => {
  const text = rule("unk2") + STEP + `whence = 3\n`;
  const p = one(text);
  equal(p.line, lineOf(text, "whence"));
});

Deno.test("bad regex names the line of the condition", () => {
  const text = rule("re") + `
[[rule.steps]]
action = "exec"
where = [
  { field = "process.name", eq = "sh" },
  { field = "process.command_line", regex = "(unclosed" },
]
`;
  const p = one(text);
  equal(p.line, lineOf(text, "(unclosed"));
  match(p.message, /Bad regex "\(unclosed"/);
  equal(formatProblem(p), `inline.toml:${p.line}: re: ${p.message}`);
});

Deno.test("bad glob names its line", () => {
  const text = rule("gl") + `
[[rule.steps]]
action = "open"
where = [{ field = "file.path", glob = "/etc/[abc" }]
`;
  const p = one(text);
  equal(p.line, lineOf(text, "/etc/[abc"));
  match(p.message, /Bad glob/);
  match(
    one(
      rule("gl2") +
        `[[rule.steps]]\naction = "open"\nwhere = [{ field = "file.path", glob = "/a/***" }]\n`,
    ).message,
    /Bad glob/,
  );
});

Deno.test("unknown field path names its line", () => {
  const text = rule("fp") + `
[[rule.steps]]
action = "exec"
where = [{ field = "process.colour", eq = "red" }]
`;
  const p = one(text);
  equal(p.line, lineOf(text, "process.colour"));
  match(p.message, /Unknown field path "process.colour"/);
});

Deno.test("operator problems: unknown operator, two operators, wrong value type, non-numeric field", () => {
  const mk = (w: string) =>
    one(rule("op") + `[[rule.steps]]\naction = "exec"\nwhere = [${w}]\n`).message;
  match(mk(`{ field = "process.name", like = "x" }`), /Unknown operator "like"/);
  match(mk(`{ field = "process.name", eq = "x", ne = "y" }`), /exactly one operator/);
  match(mk(`{ field = "process.pid", gt = "5" }`), /needs a number/);
  match(mk(`{ field = "process.name", gt = 5 }`), /non-numeric field/);
  match(mk(`{ field = "process.name", in = [] }`), /non-empty list/);
  match(mk(`{ child_of = [{ field = "file.path", eq = "x" }] }`), /not a process field/);
});

Deno.test("step references must name an earlier step", () => {
  const text = rule("ref") + `
[[rule.steps]]
action = "exec"
where = [{ field = "process.executable", eq = { step = 2, field = "file.path" } }]
[[rule.steps]]
action = "exec"
`;
  match(one(text).message, /must name an earlier step/);
});

Deno.test("bad name, platform mismatch, bad duration, bad action step", () => {
  const base = (over: string) =>
    rule("x").replace(/^name = .*$/m, "").replace(/^platforms = .*$/m, "") + over + STEP;
  match(one(base(`name = "Linux/Foo"\nplatforms = ["linux"]`)).message, /Behavior:Linux\/Name.A/);
  match(
    one(base(`name = "Behavior:MacOS/Foo.A"\nplatforms = ["linux"]`)).message,
    /names a platform/,
  );
  match(one(rule("d", `maxspan = "5 minutes"`) + STEP).message, /Duration/);
  match(one(rule("a", `actions = [{ type = "kill", step = 3 }]`) + STEP).message, /Action step 3/);
  match(one(rule("a2", `actions = [{ type = "explode" }]`) + STEP).message, /actions\.0\.type/);
});

Deno.test("missing tests is a problem on the rule", () => {
  const text = rule("nt").replace(/^tests = .*$/m, "") + STEP;
  const p = one(text);
  equal(p.ruleId, "nt");
  match(p.message, /tests/);
  const text2 = rule("nt2").replace(/negative = \["n.jsonl"\]/, "negative = []") + STEP;
  match(one(text2).message, /negative test trace/);
});

async function tempPack(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "bm_rules_" });
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(join(dir, name, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, name), text);
  }
  return dir;
}

const TRACE = `{"@timestamp": 1, "event": {"action": "exec"}, "process": {"pid": 2}}\n`;

Deno.test("loadRules walks folders, checks test traces and duplicate ids across files", async () => {
  const dir = await tempPack({
    "a/one.toml": rule("dup") + STEP,
    "b/two.toml": "# second\n" + rule("dup") + STEP + rule("other") + STEP,
    "a/p.jsonl": TRACE,
    "a/n.jsonl": TRACE,
    "notes.txt": "not a rule",
  });
  try {
    const { rules, problems } = await loadRules(dir, { requireRootOwned: false });
    const msgs = problems.map(formatProblem);
    deepEqual(rules.rules.map((r) => r.id), ["dup"]);
    ok(
      msgs.some((m) =>
        m.startsWith(
          `${join(dir, "b/two.toml")}:4: dup: Duplicate rule id "dup": first defined at ${
            join(dir, "a/one.toml")
          }:3`,
        )
      ),
      msgs.join("\n"),
    );
    ok(
      msgs.some((m) => /b\/two.toml:\d+: other: Test trace "p.jsonl" not found/.test(m)),
      msgs.join("\n"),
    );
    equal(problems.filter((p) => p.ruleId === "dup").length, 3); // duplicate + its 2 missing traces
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadRules reports a missing path", async () => {
  const { rules, problems } = await loadRules("/nonexistent/bm/rules", { requireRootOwned: false });
  equal(rules.rules.length, 0);
  match(formatProblem(problems[0]!), /Cannot read "\/nonexistent\/bm\/rules": no such file/);
});

Deno.test({
  name: "ownership check refuses non-root or group/world-writable rule files, unless disabled",
  ignore: Deno.uid() !== 0, // chown needs root; CI runs as root
  fn: async () => {
    const dir = await tempPack({
      "r.toml": rule("own") + STEP,
      "p.jsonl": TRACE,
      "n.jsonl": TRACE,
    });
    try {
      await Deno.chmod(dir, 0o755);
      const good = await loadRules(dir);
      deepEqual(good.problems, []);
      equal(good.rules.rules.length, 1);
      await Deno.chmod(join(dir, "r.toml"), 0o666);
      const writable = await loadRules(dir);
      equal(writable.rules.rules.length, 0);
      match(writable.problems[0]!.message, /writable by every user \(mode 0666\)/);
      await Deno.chmod(join(dir, "r.toml"), 0o644);
      await Deno.chown(join(dir, "r.toml"), 1000, 1000);
      const foreign = await loadRules(dir);
      match(foreign.problems[0]!.message, /owned by uid 1000, not root/);
      await Deno.chown(join(dir, "r.toml"), 0, 0);
      await Deno.chown(dir, 1000, 1000);
      match((await loadRules(dir)).problems[0]!.message, /owned by uid 1000/);
      const off = await loadRules(dir, { requireRootOwned: false });
      deepEqual(off.problems, []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("defaultRulesDir is the repo's policies/ when running from source", () => {
  equal(defaultRulesDir(), new URL("../../policies", import.meta.url).pathname);
});

Deno.test("field references and bit tests are checked at load", () => {
  const step = (where: string) =>
    problemsOf(
      rule("r") + `
[[rule.steps]]
action = "create"
where = [${where}]
`,
    ).map((p) => p.message);
  deepEqual(step(`{ field = "file.path", eq = { field = "file.nope" } }`), [
    `Unknown field path "file.nope" in field reference`,
  ]);
  deepEqual(step(`{ field = "file.path", glob = { field = "file.path" } }`), [
    `"glob" cannot refer to another step`,
  ]);
  deepEqual(step(`{ field = "file.path", eq = { stp = 1 } }`), [
    `A reference is { step = N, field = "path" } or { field = "path" } (this event)`,
  ]);
  deepEqual(step(`{ field = "file.path", bits_any = 2048 }`), [
    `"bits_any" on non-numeric field "file.path"`,
  ]);
  deepEqual(step(`{ field = "file.mode", bits_all = -1 }`), [
    `"bits_all" needs a positive integer mask (e.g. 2048 for setuid)`,
  ]);
  deepEqual(step(`{ field = "file.mode", bits_any = 2048 }`), []);
});

Deno.test("one compiler: a combinator with a field is refused at the top and inside child_of alike", () => {
  const mk = (w: string) => {
    const text = rule("comb") + `[[rule.steps]]\naction = "exec"\nwhere = [\n  ${w},\n]\n`;
    const p = one(text);
    equal(p.line, lineOf(text, w));
    return p.message;
  };
  const top = `{ all = [{ field = "process.name", eq = "sh" }], field = "process.name" }`;
  match(mk(top), /Combinator must be alone in its table, got all, field/);
  const nested = `{ child_of = [{ all = [{ field = "process.name", eq = "sh" }], field = "x" }] }`;
  match(mk(nested), /Combinator must be alone in its table, got all, field/);
  // The same conditions hold in both places: child_of nests child_of (the grandparent).
  deepEqual(
    problemsOf(
      rule("nest") +
        `[[rule.steps]]\naction = "exec"\nwhere = [{ child_of = [{ child_of = [{ field = "process.name", eq = "sshd" }] }] }]\n`,
    ),
    [],
  );
});

Deno.test("lists: @name expands in list operators, pack-wide, and unknown names are reported on their line", () => {
  const text = `format_version = 1

[lists]
shells = ["sh", "bash"]
all_shells = ["@shells", "zsh"]
` + rule("lst") + `[[rule.steps]]
action = "exec"
where = [
  { field = "process.name", in = "@all_shells" },
  { field = "process.parent.name", in = ["@shells", "python3"] },
  { field = "process.executable", glob = "@nolist" },
]
`;
  const p = one(text);
  equal(p.line, lineOf(text, "@nolist"));
  match(p.message, /Unknown list "@nolist"/);
  const ok = rules(
    `[lists]\nshells = ["sh", "bash"]\nall_shells = ["@shells", "zsh"]\n` + rule("lst2") +
      `[[rule.steps]]\naction = "exec"\nwhere = [{ field = "process.name", in = "@all_shells" }, { field = "process.args", contains = ["@@x", "@shells", "@/etc/x"] }]\n`,
  );
  equal(ok.rules.length, 1);
});

Deno.test("lists: cycles, duplicates across files, bad shapes", async () => {
  match(one(`[lists]\na = ["@b"]\nb = ["@a"]\n`).message, /includes itself/);
  match(one(`[lists]\nBad = ["x"]\n`).message, /List names match/);
  match(one(`[lists]\nempty = []\n`).message, /at least one value/);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "a.toml"), `[lists]\nshells = ["sh"]\n`);
    await Deno.writeTextFile(
      join(dir, "b.toml"),
      `[lists]\nshells = ["bash"]\n` + rule("usesh") +
        `[[rule.steps]]\naction = "exec"\nwhere = [{ field = "process.name", in = "@shells" }]\n`,
    );
    const { problems } = await loadRules(dir, { requireRootOwned: false, checkTests: false });
    equal(problems.length, 1, problems.map(formatProblem).join("\n"));
    equal(problems[0]!.line, 2);
    match(problems[0]!.message, /Duplicate list "shells": first defined at .*a\.toml:2/);
    // A list defined in one file serves a rule of another.
    await Deno.writeTextFile(
      join(dir, "b.toml"),
      rule("usesh") +
        `[[rule.steps]]\naction = "exec"\nwhere = [{ field = "process.name", in = "@shells" }]\n`,
    );
    const again = await loadRules(dir, { requireRootOwned: false, checkTests: false });
    deepEqual(again.problems, []);
    equal(again.rules.rules.length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("format_version: a later format is refused on its line", () => {
  const text = `\nformat_version = 7\n` + rule("fv") + STEP;
  const p = one(text);
  equal(p.line, 2);
  match(p.message, /Unsupported format_version 7: this bm reads rule format 1/);
  match(one(`format_version = "one"\n` + rule("fv2") + STEP).message, /format_version/);
  deepEqual(problemsOf(`format_version = 1\n` + rule("fv3") + STEP), []);
});

Deno.test("problems carry the parser's line even where a key is written twice in a rule", () => {
  // Two steps both with where; the second's bad field is on its own line.
  const text = rule("two") + `
[[rule.steps]]
action = "exec"
where = [{ field = "process.name", eq = "a" }]

[[rule.steps]]
action = "exec"
where = [
  { field = "process.name", eq = "a" },
  { any = [
    { field = "process.name", eq = "b" },
    { field = "process.nope", eq = "c" },
  ] },
]
`;
  const p = one(text);
  equal(p.line, lineOf(text, "process.nope"));
});
