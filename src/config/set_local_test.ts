import assert from "node:assert/strict";
import { parse as parseToml } from "smol-toml";
import { InputError, PermissionError } from "../errors.ts";
import { tempConfig } from "./config_test_utils.ts";
import { loadEffectiveConfig } from "./load.ts";
import { parseSettingValue, serializeLocal, setLocalSettings } from "./set_local.ts";

/** A parsed TOML document as plain objects (smol-toml builds null-prototype ones). */
function plain(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v));
}

Deno.test("set writes the local TOML, keeps the other settings, and the loader sees it", async () => {
  await using t = await tempConfig();
  await t.write(
    "bm.toml",
    `# comment (not kept)\n[engine]\nscoreThreshold = 250\n\n[logging]\nlevel = "debug"\n`,
  );
  await setLocalSettings([["antivirusEngine.behaviorMonitoring", "disabled"]], {
    paths: t.paths,
    uid: 0,
  });
  const text = await Deno.readTextFile(t.paths.local);
  // The exact bytes: sections in the file's order, the new one last, one final newline.
  assert.equal(
    text,
    `[engine]\nscoreThreshold = 250\n\n[logging]\nlevel = "debug"\n\n` +
      `[antivirusEngine]\nbehaviorMonitoring = "disabled"\n`,
  );
  assert.deepEqual(plain(parseToml(text)), {
    engine: { scoreThreshold: 250 },
    logging: { level: "debug" },
    antivirusEngine: { behaviorMonitoring: "disabled" },
  });
  const cfg = await loadEffectiveConfig({ paths: t.paths });
  assert.equal(cfg.ok, true);
  assert.equal(cfg.sources["antivirusEngine.behaviorMonitoring"], "local");
  assert.equal(cfg.settings.engine.scoreThreshold, 250);
  // No temp file left behind; mode kept root-only-writable.
  const names = [];
  for await (const e of Deno.readDir(t.dir)) names.push(e.name);
  assert.deepEqual(names.filter((n) => n.endsWith(".tmp")), []);
  assert.equal((await Deno.stat(t.paths.local)).mode! & 0o777, 0o644);
});

Deno.test("set creates the local file and its directory when missing", async () => {
  await using t = await tempConfig();
  const paths = { ...t.paths, local: `${t.dir}/etc/bm/bm.toml` };
  await setLocalSettings([["sensor.marks.mounts", ["/srv", "/home"]]], { paths, uid: 0 });
  const text = await Deno.readTextFile(paths.local);
  assert.equal(text, `[sensor.marks]\nmounts = [ "/srv", "/home" ]\n`);
  assert.deepEqual(plain(parseToml(text)), { sensor: { marks: { mounts: ["/srv", "/home"] } } });
});

Deno.test("serializeLocal: pinned text for scalars, sections, nested sections, lists of tables and escapes", () => {
  const doc = {
    antivirusEngine: {
      behaviorMonitoring: "enabled",
      exclusions: [
        { $type: "excludedPath", path: "/opt/x", isDirectory: true },
        { $type: "excludedFileName", name: 'a"b\n\u0001' },
      ],
    },
    engine: { scoreThreshold: 250, extraRulesDirs: [] },
    sensor: { authDeadlineMs: 5000, marks: { mounts: ["/srv"], network: false } },
  };
  const text = serializeLocal(doc);
  assert.equal(
    text,
    [
      "[antivirusEngine]",
      'behaviorMonitoring = "enabled"',
      "",
      "[[antivirusEngine.exclusions]]",
      '"$type" = "excludedPath"',
      'path = "/opt/x"',
      "isDirectory = true",
      "",
      "[[antivirusEngine.exclusions]]",
      '"$type" = "excludedFileName"',
      'name = "a\\"b\\n\\u0001"',
      "",
      "[engine]",
      "scoreThreshold = 250",
      "extraRulesDirs = []",
      "",
      "[sensor]",
      "authDeadlineMs = 5000",
      "",
      "[sensor.marks]",
      'mounts = [ "/srv" ]',
      "network = false",
      "",
    ].join("\n"),
  );
  assert.deepEqual(plain(parseToml(text)), doc);
  // An empty document is an empty line, never two newlines at the end.
  assert.equal(serializeLocal({}), "\n");
  assert.ok(!serializeLocal({ a: 1 }).endsWith("\n\n"));
});

Deno.test("set on a managed key is refused with the managed file named; local file untouched", async () => {
  for (const fixture of ["jamf.plist", "intune.bin.mobileconfig"]) {
    await using t = await tempConfig();
    await t.fixture(fixture, "managed.plist");
    const before = `[engine]\nscoreThreshold = 5\n`;
    await t.write("bm.toml", before);
    const bytes = await Deno.readFile(t.paths.local);
    const mtime = (await Deno.stat(t.paths.local)).mtime;
    await assert.rejects(
      setLocalSettings([["features.behaviorMonitoringConfigurations.blockExecution", "disabled"]], {
        paths: t.paths,
        uid: 0,
      }),
      (e: unknown) => {
        assert.ok(e instanceof PermissionError);
        assert.equal(e.exitCode, 2);
        assert.equal(
          e.message,
          `Cannot set "features.behaviorMonitoringConfigurations.blockExecution": it is set by the managed configuration "${t.paths.managed}"`,
        );
        return true;
      },
    );
    assert.deepEqual(await Deno.readFile(t.paths.local), bytes);
    assert.deepEqual((await Deno.stat(t.paths.local)).mtime, mtime);
  }
});

Deno.test("set of a managed list: allowed under merge (local adds), refused under admin_only", async () => {
  await using t = await tempConfig("managed.json");
  await t.write("managed.json", JSON.stringify({ antivirusEngine: { allowedThreats: ["A"] } }));
  await setLocalSettings([["antivirusEngine.allowedThreats", ["B"]]], { paths: t.paths, uid: 0 });
  const cfg = await loadEffectiveConfig({ paths: t.paths });
  assert.deepEqual(cfg.settings.antivirusEngine.allowedThreats, ["A", "B"]);
  await t.write(
    "managed.json",
    JSON.stringify({
      antivirusEngine: { allowedThreats: ["A"], exclusionsMergePolicy: "admin_only" },
    }),
  );
  await assert.rejects(
    setLocalSettings([["antivirusEngine.allowedThreats", ["C"]]], { paths: t.paths, uid: 0 }),
    PermissionError,
  );
});

Deno.test("set as non-root is refused before anything is read or written", async () => {
  await using t = await tempConfig();
  await assert.rejects(
    setLocalSettings([["engine.scoreThreshold", 5]], { paths: t.paths, uid: 1000 }),
    (e: unknown) => e instanceof PermissionError && /as uid 1000: only root/.test(e.message),
  );
  await assert.rejects(Deno.stat(t.paths.local), Deno.errors.NotFound);
});

Deno.test("set refuses a bad managed file, a group-writable local file, a cross-key violation", async () => {
  await using t = await tempConfig();
  await t.fixture("malformed.plist", "managed.plist");
  await assert.rejects(
    setLocalSettings([["engine.scoreThreshold", 5]], { paths: t.paths, uid: 0 }),
    (e: unknown) => e instanceof InputError && e.message.includes("malformed XML plist"),
  );
  await Deno.remove(t.paths.managed);

  await t.write("bm.toml", "");
  await Deno.chmod(t.paths.local, 0o664);
  await assert.rejects(
    setLocalSettings([["engine.scoreThreshold", 5]], { paths: t.paths, uid: 0 }),
    (e: unknown) => e instanceof InputError && e.message.includes("writable by its group"),
  );
  await Deno.chmod(t.paths.local, 0o644);

  await assert.rejects(
    setLocalSettings([["sensor.authDeadlineMs", 900]], { paths: t.paths, uid: 0 }),
    (e: unknown) =>
      e instanceof InputError && e.message.includes("must be less than sensor.authDeadlineMs"),
  );
  assert.equal(await Deno.readTextFile(t.paths.local), "");
});

Deno.test("parseSettingValue: JSON when it fits the type, else the string; errors name the key", () => {
  assert.equal(parseSettingValue("engine.scoreThreshold", "150"), 150);
  assert.equal(parseSettingValue("logging.eventExport.enabled", "true"), true);
  assert.equal(parseSettingValue("antivirusEngine.behaviorMonitoring", "disabled"), "disabled");
  assert.equal(parseSettingValue("engine.rulesDir", "/opt/rules"), "/opt/rules");
  assert.deepEqual(parseSettingValue("antivirusEngine.allowedThreats", `["x"]`), ["x"]);
  assert.throws(
    () => parseSettingValue("antivirusEngine.behaviorMonitoring", "enabeld"),
    (e: unknown) =>
      e instanceof InputError &&
      e.message ===
        `Invalid value for "antivirusEngine.behaviorMonitoring": "enabeld" is not one of "enabled", "disabled"`,
  );
  assert.throws(
    () => parseSettingValue("engine.scoreThreshold", "high"),
    /Invalid value for "engine.scoreThreshold": expected number, got string "high"/,
  );
  assert.throws(
    () => parseSettingValue("antivirusEngine.behaviourMonitoring", "enabled"),
    /Unknown setting "antivirusEngine.behaviourMonitoring": did you mean "antivirusEngine.behaviorMonitoring"\?/,
  );
  assert.throws(
    () => parseSettingValue("antivirusEngine", "{}"),
    /Unknown setting "antivirusEngine"/,
  );
});
