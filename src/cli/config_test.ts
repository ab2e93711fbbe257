/**
 * `bm config` end to end: spawns bin/bm as a real process with BM_* paths in a
 * temp dir, checks exit codes, stdout and stderr.
 */
import assert from "node:assert/strict";
import { type TempConfig, tempConfig } from "../config/config_test_utils.ts";
import { PermissionError } from "../errors.ts";
import { makeConfigCommand } from "./config.ts";
import { type BmRun, runBm } from "./run_bm_test_utils.ts";

function bm(t: TempConfig, ...args: string[]): Promise<BmRun> {
  return runBm(args, {
    env: {
      BM_MANAGED_CONFIG: t.paths.managed,
      BM_LOCAL_CONFIG: t.paths.local,
      BM_STATE_DIR: t.paths.stateDir,
    },
    timeoutMs: 30_000,
  });
}

Deno.test("bm config show: Jamf plist, text form with sources", async () => {
  await using t = await tempConfig();
  await t.fixture("jamf.plist", "managed.plist");
  await t.write("bm.toml", `[engine]\nscoreThreshold = 150\n`);
  const r = await bm(t, "config", "show");
  assert.equal(r.stderr, "");
  assert.equal(r.code, 0);
  const lines = r.stdout.trimEnd().split("\n");
  assert.equal(lines[0], `behavior_monitoring : "enabled"`);
  for (
    const want of [
      `antivirusEngine.behaviorMonitoring : "enabled" [managed]`,
      `features.behaviorMonitoringConfigurations.avoidOpenCache : "enabled" [managed]`,
      `engine.scoreThreshold : 150 [local]`,
      `engine.decayHalfLifeSeconds : 300 [default]`,
      `store.path : "${t.paths.stateDir}/threats.db" [default]`,
    ]
  ) assert.ok(lines.includes(want), `missing line: ${want}\n${r.stdout}`);
});

Deno.test("bm config show --output json: Intune binary profile, exactly settings and sources", async () => {
  await using t = await tempConfig();
  await t.fixture("intune.bin.mobileconfig", "managed.plist");
  const r = await bm(t, "config", "show", "--output", "json");
  assert.equal(r.code, 0);
  assert.equal(r.stderr, "");
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(doc), ["settings", "sources"]);
  assert.equal(doc.settings.features.behaviorMonitoringConfigurations.blockExecution, "enabled");
  assert.equal(doc.sources["features.behaviorMonitoringConfigurations.blockExecution"], "managed");
  assert.equal(doc.sources["engine.scoreThreshold"], "default");
  assert.ok(
    Object.values(doc.sources).every((s) => s === "managed" || s === "local" || s === "default"),
  );
});

Deno.test("bm config set and behavior-monitoring: written locally, show says why monitoring is off", async () => {
  await using t = await tempConfig();
  let r = await bm(t, "config", "set", "engine.scoreThreshold", "175");
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, "Configuration property updated\n", ""]);
  r = await bm(t, "config", "behavior-monitoring", "--value", "disabled");
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, "Configuration property updated\n", ""]);
  r = await bm(t, "config", "show");
  assert.equal(r.code, 0);
  const lines = r.stdout.split("\n");
  assert.equal(
    lines[0],
    `behavior_monitoring : "disabled" (antivirusEngine.behaviorMonitoring is "disabled" [local]; features.behaviorMonitoring is "disabled" [local])`,
  );
  assert.ok(lines.includes("engine.scoreThreshold : 175 [local]"));

  r = await bm(t, "config", "behavior-monitoring", "--value", "enabled");
  assert.equal(r.code, 0);
  r = await bm(t, "config", "set", "antivirusEngine.enforcementLevel", "passive");
  assert.equal(r.code, 0);
  r = await bm(t, "config", "show");
  assert.equal(
    r.stdout.split("\n")[0],
    `behavior_monitoring : "disabled" (antivirusEngine.enforcementLevel is "passive" [local])`,
  );
});

Deno.test("bm config set on a managed key: exit 2, one line naming key and file, nothing written", async () => {
  await using t = await tempConfig();
  await t.fixture("intune.mobileconfig", "managed.plist");
  await t.write("bm.toml", `# keep me\n[engine]\nscoreThreshold = 150\n`);
  const before = await Deno.readFile(t.paths.local);
  const r = await bm(t, "config", "set", "features.behaviorMonitoring", "disabled");
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.equal(
    r.stderr,
    `Cannot set "features.behaviorMonitoring": it is set by the managed configuration "${t.paths.managed}"\n`,
  );
  assert.deepEqual(await Deno.readFile(t.paths.local), before);
  const m = await bm(t, "config", "behavior-monitoring", "--value", "disabled");
  assert.equal(m.code, 2);
  assert.match(
    m.stderr,
    /^Cannot set "antivirusEngine.behaviorMonitoring": it is set by the managed/,
  );
  assert.deepEqual(await Deno.readFile(t.paths.local), before);
});

Deno.test("bm config set: bad value and unknown key exit 2 with one line; nothing written", async () => {
  await using t = await tempConfig();
  let r = await bm(t, "config", "set", "antivirusEngine.behaviorMonitoring", "enabeld");
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    `Invalid value for "antivirusEngine.behaviorMonitoring": "enabeld" is not one of "enabled", "disabled"\n`,
  );
  r = await bm(t, "config", "set", "engine.scoreThreshhold", "5");
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /^Unknown setting "engine.scoreThreshhold": did you mean "engine.scoreThreshold"\?/,
  );
  await assert.rejects(Deno.stat(t.paths.local), Deno.errors.NotFound);
});

Deno.test("bm config show refuses a world-writable or non-root managed file: exit 2", async () => {
  await using t = await tempConfig();
  await t.fixture("jamf.plist", "managed.plist");
  await Deno.chmod(t.paths.managed, 0o666);
  let r = await bm(t, "config", "show");
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.equal(
    r.stderr,
    `${t.paths.managed}: refused: writable by every user (mode 0666): only root may be able to change it\n`,
  );
  await Deno.chmod(t.paths.managed, 0o644);
  await Deno.chown(t.paths.managed, 65534, 65534);
  r = await bm(t, "config", "show", "--output", "json");
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /refused: owned by uid 65534, not root/);
});

Deno.test("bm config validate: good files exit 0; every bad kind exits 2 naming file and key", async () => {
  await using t = await tempConfig();
  for (
    const f of ["jamf.plist", "jamf.bin.plist", "intune.mobileconfig", "intune.bin.mobileconfig"]
  ) {
    const path = await t.fixture(f);
    const r = await bm(t, "config", "validate", path);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /: valid (xml|binary)-(plist|mobileconfig) \(9 settings, 0 warnings\)\n$/,
    );
  }
  const cases: [string, RegExp][] = [
    ["malformed.plist", /malformed\.plist:47:1: malformed XML plist: /],
    ["truncated.bin.plist", /truncated\.bin\.plist: truncated or corrupt binary plist: /],
    ["bad_values.plist", /bad_values\.plist:7: antivirusEngine\.behaviorMonitoring: "enabeld"/],
    ["bad_values.bin.plist", /\(binary plist: no line numbers\)/],
  ];
  for (const [f, re] of cases) {
    const path = await t.fixture(f);
    const r = await bm(t, "config", "validate", path);
    assert.equal(r.code, 2, f);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, re);
  }
  const toml = await t.write("x.toml", `[engine]\nscoreThreshold = 100\nfoo = [\n`);
  let r = await bm(t, "config", "validate", toml);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`^${toml}:\\d+:\\d+: TOML syntax error: `));

  // An unknown key alone is a warning: exit 0.
  const warn = await t.write("w.toml", `[engine]\nscoreTreshold = 100\n`);
  r = await bm(t, "config", "validate", warn);
  assert.equal(r.code, 0);
  assert.equal(
    r.stderr,
    `${warn}:2: warning: engine.scoreTreshold: unknown key, ignored (did you mean "scoreThreshold"?)\n`,
  );

  r = await bm(t, "config", "validate", `${t.dir}/missing.plist`);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /missing\.plist: cannot read: no such file/);

  const json = await t.fixture("bad_values.plist", "bv.plist");
  r = await bm(t, "config", "validate", json, "--output", "json");
  assert.equal(r.code, 2);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.valid, false);
  assert.equal(doc.problems.length, 4);
  assert.equal(doc.settings.antivirusEngine.enforcementLevel, "real_time");
});

Deno.test("bm config usage errors exit 2", async () => {
  await using t = await tempConfig();
  for (
    const args of [
      ["config"],
      ["config", "frobnicate"],
      ["config", "show", "--output", "xml"],
      ["config", "set", "engine.scoreThreshold"],
      ["config", "behavior-monitoring", "--value", "on"],
    ]
  ) {
    const r = await bm(t, ...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  }
  const help = await bm(t, "config", "--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /bm config validate FILE/);
});

Deno.test("bm config set and behavior-monitoring refuse non-root callers (injected uid)", async () => {
  await using t = await tempConfig();
  const cmd = makeConfigCommand({ uid: () => 1000 });
  await assert.rejects(cmd.run(["set", "engine.scoreThreshold", "5"]), PermissionError);
  await assert.rejects(cmd.run(["behavior-monitoring", "--value", "enabled"]), PermissionError);
  await assert.rejects(Deno.stat(t.paths.local), Deno.errors.NotFound);
});
