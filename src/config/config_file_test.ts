import assert from "node:assert/strict";
import { FIXTURES, tempConfig } from "./config_test_utils.ts";
import { readConfigFile } from "./config_file.ts";
import { formatProblem } from "./problem.ts";
import { binaryPlist, json, keyName, toml, xmlPlist } from "./many_keys_test_utils.ts";

/** A file with `text` in a new temp dir. */
async function writeTemp(name: string, text: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "bm_config_file_" });
  await Deno.writeTextFile(`${dir}/${name}`, text);
  return `${dir}/${name}`;
}

async function lines(path: string): Promise<string[]> {
  const r = await readConfigFile(path, { checkOwner: false, mustExist: true });
  return r.problems.map(formatProblem);
}

Deno.test("XML plist with every kind of problem: all reported, each with its line", async () => {
  const f = `${FIXTURES}bad_values.plist`;
  assert.deepEqual(await lines(f), [
    `${f}:7: antivirusEngine.behaviorMonitoring: "enabeld" is not one of "enabled", "disabled"`,
    `${f}:20: antivirusEngine.exclusions[1].$type: "excludedPth" is not one of "excludedPath", "excludedFileExtension", "excludedFileName"`,
    `${f}:26: warning: antivirusEngine.scanArchives: unknown key, ignored`,
    `${f}:31: sensor.authDeadlineMs: expected number, got string "5000"`,
  ]);
});

Deno.test("binary plist problems say there are no line numbers", async () => {
  const f = `${FIXTURES}bad_values.bin.plist`;
  const got = await lines(f);
  assert.equal(got.length, 4);
  assert.equal(
    got[0],
    `${f}: antivirusEngine.behaviorMonitoring: "enabeld" is not one of "enabled", "disabled" (binary plist: no line numbers)`,
  );
});

Deno.test("malformed XML plist: line, column and reason", async () => {
  const f = `${FIXTURES}malformed.plist`;
  assert.deepEqual(await lines(f), [
    `${f}:47:1: malformed XML plist: Expected closing tag 'dict' (opened in line 4, col 1) instead of closing tag 'dct'.`,
  ]);
});

Deno.test("truncated binary plist is one error", async () => {
  const f = `${FIXTURES}truncated.bin.plist`;
  const got = await lines(f);
  assert.equal(got.length, 1);
  assert.match(got[0]!, new RegExp(`^${f}: truncated or corrupt binary plist: `));
});

Deno.test("profile without a bm or Defender payload names the payload types found", async () => {
  const f = `${FIXTURES}other_payload.mobileconfig`;
  assert.deepEqual(await lines(f), [
    `${f}: no payload of type "org.bm-project.bm" or "com.microsoft.wdav" in PayloadContent (found: "com.example.other")`,
  ]);
});

Deno.test("TOML: syntax error with line and column; enum typo, wrong type, unknown key with lines", async () => {
  await using t = await tempConfig();
  const syntax = await t.write("syntax.toml", `[engine]\nscoreThreshold = 100\nrulesDir = "/x\n`);
  const got = await lines(syntax);
  assert.equal(got.length, 1);
  assert.match(got[0]!, new RegExp(`^${syntax}:3:\\d+: TOML syntax error: `));

  const bad = await t.write(
    "bad.toml",
    [
      "[antivirusEngine]",
      'enforcementLevel = "realtime"',
      "",
      "[features.behaviorMonitoringConfigurations]",
      'blockExecution = "enabled"',
      "notifyForks = true",
      "",
      "[sensor.marks]",
      'mode = "mounts"',
      'mounts = ["/ok", "relative"]',
      "",
      "[sensr]",
      "x = 1",
    ].join("\n"),
  );
  assert.deepEqual(await lines(bad), [
    `${bad}:2: antivirusEngine.enforcementLevel: "realtime" is not one of "real_time", "on_demand", "passive"`,
    `${bad}:6: features.behaviorMonitoringConfigurations.notifyForks: boolean true is not one of "enabled", "disabled"`,
    `${bad}:10: sensor.marks.mounts[1]: "relative" must be an absolute path`,
    `${bad}:12: warning: sensr: unknown key, ignored (did you mean "sensor"?)`,
  ]);
});

Deno.test("JSON: syntax error position becomes line and column; problems have lines", async () => {
  await using t = await tempConfig();
  const syntax = await t.write("s.json", `{\n  "engine": {\n    "scoreThreshold" 5\n  }\n}\n`);
  assert.deepEqual(await lines(syntax), [
    `${syntax}:3:22: JSON syntax error: Expected ':' after property name`,
  ]);
  const bad = await t.write(
    "b.json",
    JSON.stringify({ engine: { scoreThreshold: -1 }, store: "x" }, null, 2),
  );
  assert.deepEqual(await lines(bad), [
    `${bad}:3: engine.scoreThreshold: integer -1 is too small: must be > 0`,
    `${bad}:5: store: expected a dict of settings, got string "x"`,
  ]);
});

Deno.test("unreadable and missing files", async () => {
  await using t = await tempConfig();
  assert.deepEqual(await lines(`${t.dir}/nope.toml`), [
    `${t.dir}/nope.toml: cannot read: no such file`,
  ]);
  // A missing managed/local file is no source, not a problem.
  const r = await readConfigFile(`${t.dir}/nope.toml`);
  assert.equal(r.present, false);
  assert.deepEqual(r.problems, []);
});

Deno.test("rejectOnError drops every value of a file with an error", async () => {
  const f = `${FIXTURES}bad_values.plist`;
  const strict = await readConfigFile(f, { checkOwner: false });
  assert.equal(strict.hasErrors, true);
  assert.equal(strict.values.size, 0);
  const lenient = await readConfigFile(f, { checkOwner: false, rejectOnError: false });
  assert.equal(lenient.values.get("antivirusEngine.enforcementLevel"), "real_time");
});

Deno.test("unknown keys inside list entries are warnings; signed profiles are explained", async () => {
  await using t = await tempConfig();
  const f = await t.write(
    "e.json",
    JSON.stringify(
      {
        antivirusEngine: {
          exclusions: [{ $type: "excludedFileName", name: "a", scope: "epp" }],
        },
      },
      null,
      2,
    ),
  );
  const r = await readConfigFile(f, { checkOwner: false });
  assert.deepEqual(r.problems.map(formatProblem), [
    `${f}:7: warning: antivirusEngine.exclusions[0].scope: unknown key, ignored`,
  ]);
  assert.deepEqual(r.values.get("antivirusEngine.exclusions"), [
    { $type: "excludedFileName", name: "a" },
  ]);

  const signed = `${t.dir}/signed.mobileconfig`;
  await Deno.writeFile(signed, new Uint8Array([0x30, 0x80, 0x06, 0x09, 0x2a, 0x86]));
  assert.deepEqual(await lines(signed), [
    `${signed}: signed profile: bm reads unsigned profiles; extract the payload first (macOS: security cms -D -i FILE -o OUT.mobileconfig)`,
  ]);
});

Deno.test("__proto__, constructor and prototype keys are refused on their line, never looked up", async () => {
  const toml = await writeTemp(
    "proto.toml",
    '[__proto__]\nx = 1\n[constructor.prototype]\ny = 2\n[antivirusEngine]\nprototype = "z"\n',
  );
  assert.deepEqual(await lines(toml), [
    `${toml}:1: __proto__: reserved key name, refused`,
    `${toml}:3: constructor: reserved key name, refused`,
    `${toml}:6: antivirusEngine.prototype: reserved key name, refused`,
  ]);
  const json = await writeTemp(
    "proto.json",
    '{\n"__proto__": {"polluted": 1},\n"constructor": {"prototype": {"polluted": 2}}\n}\n',
  );
  assert.deepEqual(await lines(json), [
    `${json}:2: __proto__: reserved key name, refused`,
    `${json}:3: constructor: reserved key name, refused`,
  ]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("a key of 100 KB or full of regex syntax is data: located without building a pattern", async () => {
  const long = "k".repeat(100_000);
  const f = await writeTemp("long.toml", `[antivirusEngine]\n${long} = 1\n"a(b|c)*[+" = 2\n`);
  const got = await lines(f);
  assert.equal(got.length, 2);
  assert.equal(got[0], `${f}:2: warning: antivirusEngine.${long}: unknown key, ignored`);
  assert.equal(got[1], `${f}:3: warning: antivirusEngine.a(b|c)*[+: unknown key, ignored`);
});

Deno.test("200,000 unknown keys in TOML, JSON and XML plist: one warning each, on its line, near misses suggested", async () => {
  const n = 200_000;
  const dir = await Deno.makeTempDir({ prefix: "bm_config_many_" });
  try {
    const forms: [string, string, (i: number) => number][] = [
      ["local.toml", toml(n, false), (i) => i + 1],
      ["in_section.toml", toml(n, true), (i) => i + 2],
      ["managed.json", json(n, false), (i) => i + 2],
      ["in_section.json", json(n, true), (i) => i + 3],
      ["managed.plist", xmlPlist(n, false), (i) => i + 5],
    ];
    for (const [name, text, lineOf] of forms) {
      const path = `${dir}/${name}`;
      await Deno.writeTextFile(path, text);
      const r = await readConfigFile(path, { checkOwner: false, rejectOnError: false });
      assert.equal(r.hasErrors, false, name);
      assert.equal(r.problems.length, n, name);
      const prefix = name.startsWith("in_section") ? "antivirusEngine." : "";
      for (const i of [0, 1, 999, 1000, 123_457, n - 1]) {
        const p = r.problems[i]!;
        assert.equal(p.severity, "warning", `${name} ${i}`);
        assert.equal(p.key, `${prefix}${keyName(i)}`, `${name} ${i}`);
        assert.equal(p.line, lineOf(i), `${name} ${i}`);
      }
      // Near misses of a setting of their section get a suggestion, others none.
      assert.equal(r.problems[1]!.reason, "unknown key, ignored");
      if (prefix !== "") {
        assert.equal(
          r.problems[1000]!.reason,
          'unknown key, ignored (did you mean "behaviorMonitoring"?)',
          name,
        );
      }
      // The same text read again (a reload) is located as fast: a module-wide cache once
      // compared the whole text per key when the content was equal but the string new.
      const again = await readConfigFile(path, { checkOwner: false, rejectOnError: false });
      assert.equal(again.problems[n - 1]!.line, lineOf(n - 1), `${name} read again`);
      await Deno.remove(path);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a binary plist beyond the parser's object limit is one error saying so", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bm_config_many_" });
  try {
    const path = `${dir}/managed.plist`;
    await Deno.writeFile(path, binaryPlist(40_000, false));
    const r = await readConfigFile(path, { checkOwner: false, rejectOnError: false });
    assert.deepEqual(r.problems.map(formatProblem), [
      `${path}: binary plist too large: 40002 objects, at most 32768 are read`,
    ]);
    // Under the limit the same writer's file is read key by key.
    await Deno.writeFile(path, binaryPlist(10_000, true));
    const ok = await readConfigFile(path, { checkOwner: false, rejectOnError: false });
    assert.equal(ok.hasErrors, false);
    assert.equal(ok.problems.length, 10_000);
    assert.equal(ok.problems[7]!.key, `antivirusEngine.${keyName(7)}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
