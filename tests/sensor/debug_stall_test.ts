/**
 * BM_DEBUG_STALL_MS reaches the agent only through a test build of the
 * library: the daemon passes it as debug_stall_ms, which the shipped library
 * refuses as an unknown key (the C side of both builds is checked in
 * dylib/tests: test_common and test_linux). tests/e2e/resilience_test.ts and
 * guardian_test.ts stall a daemon on the test build.
 */
import assert from "node:assert/strict";
import { BmError } from "../../src/errors.ts";
import { nativeOptions } from "../../src/daemon/sensor_factory.ts";
import { defaultSettings } from "../../src/config/defaults.ts";
import { configPaths } from "../../src/config/paths.ts";
import { NativeSensor, sensorConfigText } from "../../src/sensor/native_sensor.ts";
import { buildLibrary, ROOT } from "./_harness.ts";

const settings = () => defaultSettings(configPaths());
const release = new URL("../../dylib/build/libbm_sensor.so", import.meta.url).pathname;

Deno.test({
  name: "debug stall: the shipped library refuses debug_stall_ms, so a release agent cannot stall",
  ignore: !ROOT || Deno.build.os !== "linux",
  fn: () => {
    buildLibrary();
    assert.throws(
      // the key is parsed before anything is marked: no fanotify group is made
      () => NativeSensor.open({ debugStallMs: 60_000, libraryPath: release, guardian: "off" }),
      (e: unknown) =>
        e instanceof BmError && /Unknown sensor config key "debug_stall_ms"/.test(e.message),
    );
  },
});

Deno.test("debug stall: BM_DEBUG_STALL_MS becomes the sensor's debug_stall_ms key, nothing else does", () => {
  const before = Deno.env.get("BM_DEBUG_STALL_MS");
  try {
    Deno.env.delete("BM_DEBUG_STALL_MS");
    const none = nativeOptions(settings());
    assert.equal(none.debugStallMs, undefined);
    assert.doesNotMatch(sensorConfigText(none), /debug_stall_ms/);
    for (const bad of ["0", "-5", "abc", "1.5"]) {
      Deno.env.set("BM_DEBUG_STALL_MS", bad);
      assert.equal(nativeOptions(settings()).debugStallMs, undefined, bad);
    }
    Deno.env.set("BM_DEBUG_STALL_MS", "60000");
    const o = nativeOptions(settings());
    assert.equal(o.debugStallMs, 60_000);
    assert.match(sensorConfigText(o), /^debug_stall_ms=60000$/m);
  } finally {
    if (before === undefined) Deno.env.delete("BM_DEBUG_STALL_MS");
    else Deno.env.set("BM_DEBUG_STALL_MS", before);
  }
});
