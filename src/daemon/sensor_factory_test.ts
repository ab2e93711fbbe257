import assert from "node:assert/strict";
import { defaultSettings } from "../config/defaults.ts";
import { configPaths } from "../config/paths.ts";
import { sensorConfigText } from "../sensor/native_sensor.ts";
import { nativeOptions, NOTIFY_LATENCY_MS } from "./sensor_factory.ts";

Deno.test("sensor factory: the daemon's sensor lets notify-only batches wait NOTIFY_LATENCY_MS, not the library's 2 ms", () => {
  const text = sensorConfigText(nativeOptions(defaultSettings(configPaths())));
  assert.match(text, new RegExp(`^notify_latency_ms=${NOTIFY_LATENCY_MS}$`, "m"));
  assert.ok(NOTIFY_LATENCY_MS > 2);
});
