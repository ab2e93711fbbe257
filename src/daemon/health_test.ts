import assert from "node:assert/strict";
import { defaultSettings } from "../config/defaults.ts";
import { platformPaths } from "../config/paths.ts";
import { buildHealth } from "./health.ts";

/** What buildHealth gets from a running daemon with nothing to report. */
function healthyInput() {
  return {
    daemonRunning: true,
    settings: defaultSettings(platformPaths("linux")),
    sources: {},
    configErrors: [],
    ruleErrors: [],
    rulesVersion: "v",
    rulesCount: 3,
    threatsByStatus: {},
    now: 0,
  };
}

Deno.test("health shows detections the store could not record, with what was done about them", () => {
  const base = healthyInput();
  const quiet = buildHealth(base).fields;
  assert.equal(quiet.unsaved_threats, undefined);
  const h = buildHealth({
    ...base,
    storeFailures: 1,
    unsavedThreats: [{
      time: Date.UTC(2026, 10, 27, 18, 0, 0),
      name: "Behavior:Linux/X.A",
      pid: 42,
      executable: "/tmp/x",
      status: "killed",
      actions: ["kill pid 42 and descendants: ok", "report threat log: ok"],
      error: "disk full",
    }],
  }).fields;
  assert.equal(h.healthy, false);
  assert.deepEqual(h.health_issues, ["threat store write failures: 1"]);
  assert.deepEqual(h.unsaved_threats, [
    "2026-11-27T18:00:00.000Z Behavior:Linux/X.A pid 42 /tmp/x: killed " +
    "(kill pid 42 and descendants: ok; report threat log: ok): not recorded: disk full",
  ]);
});

Deno.test("health counts alerts by severity and what sampling suppressed", () => {
  const base = healthyInput();
  const none = buildHealth(base).fields;
  assert.deepEqual(none.alerts, { low: 0, medium: 0, high: 0, critical: 0 });
  assert.equal(none.alerts_suppressed, null);
  const h = buildHealth({
    ...base,
    alertsBySeverity: { low: 1, medium: 4, high: 0, critical: 2 },
    alertCounters: { suppressed: 17, dropped: 0, failures: 2, pruned: 5 },
  }).fields;
  assert.deepEqual(h.alerts, { low: 1, medium: 4, high: 0, critical: 2 });
  assert.equal(h.alerts_suppressed, 17);
  assert.equal(h.alerts_pruned, 5);
  assert.deepEqual(h.health_issues, ["alert store write failures: 2"]);
});
