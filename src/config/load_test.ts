import assert from "node:assert/strict";
import { tempConfig } from "./config_test_utils.ts";
import { behaviorMonitoringState } from "./behavior.ts";
import { loadEffectiveConfig, loadEffectiveConfigOrThrow } from "./load.ts";
import { SETTING_KEYS } from "./schema.ts";
import { InputError } from "../errors.ts";

const BM_KEYS = [
  "antivirusEngine.behaviorMonitoring",
  "antivirusEngine.enforcementLevel",
  "antivirusEngine.exclusions",
  "antivirusEngine.exclusionsMergePolicy",
  "features.behaviorMonitoring",
  "features.behaviorMonitoringConfigurations.blockExecution",
  "features.behaviorMonitoringConfigurations.notifyForks",
  "features.behaviorMonitoringConfigurations.forwardRtpToBm",
  "features.behaviorMonitoringConfigurations.avoidOpenCache",
];

// Jamf (plain plist) and Intune (.mobileconfig), XML and binary: same effective result.
for (
  const fixture of [
    "jamf.plist",
    "jamf.bin.plist",
    "intune.mobileconfig",
    "intune.bin.mobileconfig",
    "bm_payload.mobileconfig",
    "mcx.mobileconfig",
  ]
) {
  Deno.test(`managed ${fixture}: behavior monitoring on, every profile key sourced "managed"`, async () => {
    await using t = await tempConfig();
    await t.fixture(fixture, "managed.plist");
    const cfg = await loadEffectiveConfig({ paths: t.paths });
    assert.deepEqual(cfg.errors, []);
    assert.deepEqual(cfg.warnings, []);
    assert.equal(cfg.ok, true);
    const s = cfg.settings;
    assert.equal(s.antivirusEngine.behaviorMonitoring, "enabled");
    assert.equal(s.antivirusEngine.enforcementLevel, "real_time");
    assert.equal(s.features.behaviorMonitoring, "enabled");
    assert.deepEqual(s.features.behaviorMonitoringConfigurations, {
      blockExecution: "enabled",
      notifyForks: "enabled",
      forwardRtpToBm: "enabled",
      avoidOpenCache: "enabled", // the default is "disabled": this value came from the profile
    });
    assert.deepEqual(s.antivirusEngine.exclusions, [
      { $type: "excludedPath", isDirectory: true, path: "/opt/builds" },
      { $type: "excludedFileExtension", extension: "log" },
    ]);
    for (const key of SETTING_KEYS) {
      assert.equal(cfg.sources[key], BM_KEYS.includes(key) ? "managed" : "default", key);
    }
    assert.deepEqual(behaviorMonitoringState(s), { effective: true });
    // Paths follow the state dir.
    assert.equal(s.store.path, `${t.paths.stateDir}/threats.db`);
  });
}

Deno.test("no files: every key from defaults", async () => {
  await using t = await tempConfig();
  const cfg = await loadEffectiveConfig({ paths: t.paths });
  assert.equal(cfg.ok, true);
  assert.equal(cfg.managed.present, false);
  assert.equal(cfg.local.present, false);
  assert.deepEqual(new Set(Object.values(cfg.sources)), new Set(["default"]));
  assert.deepEqual(Object.keys(cfg.sources), [...SETTING_KEYS]);
});

Deno.test("precedence: managed beats local beats default, key by key", async () => {
  await using t = await tempConfig("managed.json");
  await t.write(
    "managed.json",
    JSON.stringify({ antivirusEngine: { behaviorMonitoring: "disabled" } }),
  );
  await t.write(
    "bm.toml",
    `[antivirusEngine]\nbehaviorMonitoring = "enabled"\n\n[engine]\nscoreThreshold = 250\n`,
  );
  const cfg = await loadEffectiveConfig({ paths: t.paths });
  assert.equal(cfg.ok, true);
  assert.equal(cfg.settings.antivirusEngine.behaviorMonitoring, "disabled");
  assert.equal(cfg.sources["antivirusEngine.behaviorMonitoring"], "managed");
  assert.equal(cfg.settings.engine.scoreThreshold, 250);
  assert.equal(cfg.sources["engine.scoreThreshold"], "local");
  assert.equal(cfg.settings.engine.decayHalfLifeSeconds, 300);
  assert.equal(cfg.sources["engine.decayHalfLifeSeconds"], "default");
  const bm = behaviorMonitoringState(cfg.settings, cfg.sources);
  assert.equal(bm.effective, false);
  assert.equal(bm.reason, `antivirusEngine.behaviorMonitoring is "disabled" [managed]`);
});

const managedList = {
  antivirusEngine: {
    exclusions: [
      { $type: "excludedPath", path: "/opt/a", isDirectory: true },
      { $type: "excludedFileName", name: "shared" },
    ],
    allowedThreats: ["EICAR-Test-File"],
  },
};
const localList = `[antivirusEngine]
allowedThreats = ["Local-Threat"]

[[antivirusEngine.exclusions]]
"$type" = "excludedFileName"
name = "shared"

[[antivirusEngine.exclusions]]
"$type" = "excludedFileExtension"
extension = "tmp"
`;

Deno.test("list merge policy merge: union of managed and local, duplicates once", async () => {
  await using t = await tempConfig("managed.json");
  await t.write("managed.json", JSON.stringify(managedList));
  await t.write("bm.toml", localList);
  const cfg = await loadEffectiveConfig({ paths: t.paths });
  assert.equal(cfg.ok, true, cfg.errors.join("\n"));
  assert.equal(cfg.settings.antivirusEngine.exclusionsMergePolicy, "merge");
  assert.deepEqual(cfg.settings.antivirusEngine.exclusions, [
    { $type: "excludedPath", path: "/opt/a", isDirectory: true },
    { $type: "excludedFileName", name: "shared" },
    { $type: "excludedFileExtension", extension: "tmp" },
  ]);
  assert.deepEqual(cfg.settings.antivirusEngine.allowedThreats, [
    "EICAR-Test-File",
    "Local-Threat",
  ]);
  assert.equal(cfg.sources["antivirusEngine.exclusions"], "managed");
  assert.deepEqual(cfg.warnings, []);
});

Deno.test("list merge policy admin_only: managed list only, local entries ignored with a warning", async () => {
  await using t = await tempConfig("managed.json");
  const managed = structuredClone(managedList) as Record<string, Record<string, unknown>>;
  managed.antivirusEngine!.exclusionsMergePolicy = "admin_only";
  await t.write("managed.json", JSON.stringify(managed));
  await t.write("bm.toml", localList);
  const cfg = await loadEffectiveConfig({ paths: t.paths });
  assert.equal(cfg.ok, true);
  assert.deepEqual(cfg.settings.antivirusEngine.exclusions, managedList.antivirusEngine.exclusions);
  assert.deepEqual(cfg.settings.antivirusEngine.allowedThreats, ["EICAR-Test-File"]);
  assert.equal(cfg.sources["antivirusEngine.exclusions"], "managed");
  assert.equal(cfg.warnings.length, 2);
  assert.match(cfg.warnings[0]!, /bm\.toml: antivirusEngine\.exclusions: ignored: .*admin_only/);
});

Deno.test("list merge: local-only list under merge is sourced local; admin_only without managed list is default", async () => {
  await using t = await tempConfig("managed.json");
  await t.write("bm.toml", localList);
  let cfg = await loadEffectiveConfig({ paths: t.paths });
  assert.equal(cfg.sources["antivirusEngine.exclusions"], "local");
  assert.equal(cfg.settings.antivirusEngine.exclusions.length, 2);
  await t.write(
    "managed.json",
    JSON.stringify({ antivirusEngine: { exclusionsMergePolicy: "admin_only" } }),
  );
  cfg = await loadEffectiveConfig({ paths: t.paths });
  assert.equal(cfg.sources["antivirusEngine.exclusions"], "default");
  assert.deepEqual(cfg.settings.antivirusEngine.exclusions, []);
});

Deno.test("a bad managed file is reported, not thrown; its values are left out", async () => {
  await using t = await tempConfig();
  await t.fixture("bad_values.plist", "managed.plist");
  await t.write("bm.toml", `[engine]\nscoreThreshold = 50\n`);
  const cfg = await loadEffectiveConfig({ paths: t.paths });
  assert.equal(cfg.ok, false);
  assert.equal(cfg.errors.length, 3);
  assert.ok(cfg.errors.every((e) => e.startsWith(`${t.paths.managed}:`)), cfg.errors.join("\n"));
  assert.equal(cfg.sources["antivirusEngine.enforcementLevel"], "default");
  assert.equal(cfg.settings.engine.scoreThreshold, 50);
  await assert.rejects(loadEffectiveConfigOrThrow({ paths: t.paths }), InputError);
});

Deno.test("a TOML syntax error in the local file gives line and column", async () => {
  await using t = await tempConfig();
  await t.write("bm.toml", `[engine]\nscoreThreshold = = 5\n`);
  const cfg = await loadEffectiveConfig({ paths: t.paths });
  assert.equal(cfg.ok, false);
  assert.equal(cfg.errors.length, 1);
  assert.match(cfg.errors[0]!, new RegExp(`^${t.paths.local}:2:\\d+: TOML syntax error: `));
});

Deno.test("files writable by non-root users or not owned by root are refused", async () => {
  await using t = await tempConfig("managed.json");
  await t.write("managed.json", JSON.stringify({ engine: { scoreThreshold: 7 } }));
  await Deno.chmod(t.paths.managed, 0o666);
  let cfg = await loadEffectiveConfig({ paths: t.paths });
  assert.equal(cfg.ok, false);
  assert.deepEqual(cfg.errors, [
    `${t.paths.managed}: refused: writable by every user (mode 0666): only root may be able to change it`,
  ]);
  assert.equal(cfg.settings.engine.scoreThreshold, 100);

  await Deno.chmod(t.paths.managed, 0o664);
  cfg = await loadEffectiveConfig({ paths: t.paths });
  assert.match(cfg.errors[0]!, /refused: writable by its group \(mode 0664\)/);

  await Deno.chmod(t.paths.managed, 0o644);
  await Deno.chown(t.paths.managed, 65534, 65534);
  cfg = await loadEffectiveConfig({ paths: t.paths });
  assert.match(cfg.errors[0]!, /refused: owned by uid 65534, not root/);

  await Deno.chown(t.paths.managed, 0, 0);
  cfg = await loadEffectiveConfig({ paths: t.paths });
  assert.equal(cfg.ok, true);
  assert.equal(cfg.settings.engine.scoreThreshold, 7);
});

Deno.test("an unreadable file is one error line", async () => {
  await using t = await tempConfig();
  await Deno.mkdir(t.paths.local);
  const cfg = await loadEffectiveConfig({ paths: t.paths });
  assert.deepEqual(cfg.errors, [`${t.paths.local}: cannot read: not a regular file`]);
});

Deno.test("cross-key check: deadline margin must be below the deadline", async () => {
  await using t = await tempConfig();
  await t.write("bm.toml", `[sensor]\nauthDeadlineMs = 800\n`);
  const cfg = await loadEffectiveConfig({ paths: t.paths });
  assert.equal(cfg.ok, false);
  assert.equal(
    cfg.errors[0],
    `${t.paths.local}: sensor.deadlineMarginMs: must be less than sensor.authDeadlineMs (800)`,
  );
  // The returned settings stay valid for a daemon without a last good config.
  assert.equal(cfg.settings.sensor.deadlineMarginMs, 1000);
  assert.equal(cfg.settings.sensor.authDeadlineMs, 5000);
});

Deno.test("a file in a directory other users can write is refused (sticky dirs are fine)", async () => {
  await using t = await tempConfig("managed.json");
  await t.write("managed.json", JSON.stringify({ engine: { scoreThreshold: 7 } }));
  await Deno.chmod(t.dir, 0o777);
  let cfg = await loadEffectiveConfig({ paths: t.paths });
  assert.deepEqual(cfg.errors, [
    `${t.paths.managed}: refused: its directory is writable by other users (mode 0777): only root may be able to change it`,
  ]);
  await Deno.chmod(t.dir, 0o1777);
  cfg = await loadEffectiveConfig({ paths: t.paths });
  assert.equal(cfg.ok, true);
  await Deno.chmod(t.dir, 0o755);
  await Deno.chown(t.dir, 65534, 65534);
  cfg = await loadEffectiveConfig({ paths: t.paths });
  assert.match(cfg.errors[0]!, /refused: its directory is owned by uid 65534, not root/);
  await Deno.chown(t.dir, 0, 0);
});

// Keeping the last good config on reload is the daemon's (tests/e2e/resilience_test.ts).
Deno.test("a file gone bad is not ok, names its line, and its values are left out", async () => {
  await using t = await tempConfig();
  await t.write("bm.toml", `[engine]\nscoreThreshold = 42\n`);
  const first = await loadEffectiveConfig({ paths: t.paths });
  assert.equal(first.ok, true);
  assert.equal(first.settings.engine.scoreThreshold, 42);

  await t.write("bm.toml", `[engine]\nscoreThreshold = "lots"\n`);
  const second = await loadEffectiveConfig({ paths: t.paths });
  assert.equal(second.ok, false);
  assert.deepEqual(second.errors, [
    `${t.paths.local}:2: engine.scoreThreshold: expected number, got string "lots"`,
  ]);
  // First start on a bad file: the bad file's values are left out, defaults apply.
  assert.equal(second.settings.engine.scoreThreshold, 100);
});
