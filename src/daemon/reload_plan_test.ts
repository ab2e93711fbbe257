import { deepEqual, equal } from "node:assert/strict";
import { defaultSettings } from "../config/defaults.ts";
import { configPaths } from "../config/paths.ts";
import type { Settings } from "../config/schema.ts";
import { planReload, type ReloadState } from "./reload_plan.ts";
import { sensorKey } from "./settings_map.ts";

function settings(edit: (s: Settings) => void = () => {}): Settings {
  const s = defaultSettings(configPaths({ get: () => undefined }));
  edit(s);
  return s;
}

function state(s: Settings, version = "v1", dir = "/etc/bm/rules"): ReloadState {
  return { settings: s, rulesDir: dir, rulesVersion: version };
}

Deno.test("reload plan: nothing changed: keep everything, only the allow cache goes", () => {
  const s = settings();
  deepEqual(planReload(state(s), state(settings()), sensorKey(s), false), {
    swapRules: false,
    reopenSensor: false,
    rebuildExporter: false,
    clearAllowCache: true,
    restartWatcher: false,
  });
});

Deno.test("reload plan: new rule files swap the rules; a new folder is watched too", () => {
  const s = settings();
  const p = planReload(state(s), state(s, "v2"), sensorKey(s), false);
  equal(p.swapRules, true);
  equal(p.restartWatcher, false);
  const q = planReload(state(s), state(s, "v1", "/opt/rules"), sensorKey(s), false);
  equal(q.swapRules, true);
  equal(q.restartWatcher, true);
  const extra = settings((x) => (x.engine.extraRulesDirs = ["/etc/bm/sigma"]));
  const r = planReload(state(s), state(extra), sensorKey(s), false);
  equal(r.swapRules, true);
  equal(r.restartWatcher, true);
});

Deno.test("reload plan: a sensor setting reopens the sensor (which starts with no cache)", () => {
  const s = settings();
  const next = settings((
    n,
  ) => (n.features.behaviorMonitoringConfigurations.notifyForks = "disabled"));
  const p = planReload(state(s), state(next), sensorKey(s), false);
  equal(p.reopenSensor, true);
  equal(p.clearAllowCache, false);
  // An engine-only setting does not.
  const t = settings((n) => (n.engine.scoreThreshold = 80));
  equal(planReload(state(s), state(t), sensorKey(s), false).reopenSensor, false);
});

Deno.test("reload plan: behavior monitoring off closes the sensor; on again opens one", () => {
  const on = settings();
  const off = settings((n) => (n.features.behaviorMonitoring = "disabled"));
  equal(planReload(state(on), state(off), sensorKey(on), false).reopenSensor, true);
  equal(planReload(state(off), state(off), undefined, false).reopenSensor, false);
  equal(planReload(state(off), state(on), undefined, false).reopenSensor, true);
});

Deno.test("reload plan: a replayed trace's sensor is never reopened and nothing is watched", () => {
  const s = settings();
  const next = settings((
    n,
  ) => (n.features.behaviorMonitoringConfigurations.notifyForks = "disabled"));
  const p = planReload(state(s), state(next, "v1", "/opt/rules"), sensorKey(s), true);
  equal(p.reopenSensor, false);
  equal(p.restartWatcher, false);
  equal(p.clearAllowCache, true);
});

Deno.test("reload plan: a changed export setting rebuilds the exporter", () => {
  const s = settings();
  const next = settings((n) => (n.logging.eventExport.enabled = !n.logging.eventExport.enabled));
  equal(planReload(state(s), state(next), sensorKey(s), false).rebuildExporter, true);
});
