import assert from "node:assert/strict";
import { defaultSettings } from "../config/defaults.ts";
import { platformPaths } from "../config/paths.ts";
import { buildHealth } from "./health.ts";

Deno.test("health shows detections the store could not record, with what was done about them", () => {
  const base = {
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
