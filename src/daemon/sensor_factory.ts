/**
 * Sensor choice: a replayed trace with `--trace`, else the platform's native
 * sensor (Linux fanotify + proc connector, macOS EndpointSecurity) opened with
 * options mapped from Settings. A sensor that cannot start is reported with
 * its reason (not root, no fanotify permission events, no proc connector,
 * unsafe library) and the daemon keeps running with behavior monitoring
 * "unavailable" so `bm health` can say why.
 */
import type { Settings } from "../config/schema.ts";
import type { SeedProcess } from "../engine/engine.ts";
import { readProcesses } from "../engine/proc_seed.ts";
import { type NativeSensorOptions } from "../sensor/native_sensor.ts";
import type { Sensor } from "../sensor/sensor.ts";
import type { Logger } from "./log.ts";
import { errorText } from "./agent.ts";

export interface SensorRequest {
  settings: Settings;
  logger: Logger;
  trace?: string;
}

export type SensorResult =
  | { sensor: Sensor; seed?: SeedProcess[] }
  | { unavailable: string };

/**
 * How long notify-only records may wait for more (an auth record wakes the
 * agent at once): the library's default is 2 ms. In an exec loop each exec's
 * completion, its exit and the next fork come a few ms apart on a slow
 * machine; at 2 ms each woke the agent (about 3 batches per exec), at 10 ms
 * they ride with the next held exec (about 1). Each batch costs the JS thread
 * a fixed part (the wait, the drain, the loop) whatever its size. Detections
 * on notify events (file writes, exits) come at most this much later.
 */
export const NOTIFY_LATENCY_MS = 10;

export function nativeOptions(s: Settings): NativeSensorOptions {
  const c = s.features.behaviorMonitoringConfigurations;
  const o: NativeSensorOptions = {
    authDeadlineMs: s.sensor.authDeadlineMs,
    deadlineMarginMs: s.sensor.deadlineMarginMs,
    failOpen: s.sensor.failOpen === "allow",
    blockExecution: c.blockExecution === "enabled",
    openAuth: s.sensor.openEvents === "enabled",
    avoidOpenCache: c.avoidOpenCache === "enabled",
    notifyForks: c.notifyForks === "enabled",
    notifyFiles: true,
    marks: s.sensor.marks.mode === "mounts" ? "mounts" : "filesystem",
    allowCache: true,
    notifyLatencyMs: NOTIFY_LATENCY_MS,
  };
  if (s.sensor.marks.mounts.length > 0) o.mounts = [...s.sensor.marks.mounts];
  if (s.sensor.marks.network) o.network = true;
  o.envVars = [...s.sensor.envVars];
  // Tests only: a test build of the library confines "every filesystem" to tmpfs under this path.
  const only = Deno.env.get("BM_TEST_MARKS_ONLY_UNDER");
  if (only) o.marksOnlyUnder = only;
  // Tests of the watchdog and guardian only: a test build of the library takes
  // debug_stall_ms, a shipped one refuses it and the sensor does not start.
  const stall = Number(Deno.env.get("BM_DEBUG_STALL_MS") ?? "");
  if (Number.isInteger(stall) && stall > 0) o.debugStallMs = stall;
  return o;
}

export async function openSensor(req: SensorRequest): Promise<SensorResult> {
  if (req.trace !== undefined) {
    const { ReplaySensor } = await import("../sensor/replay_sensor.ts");
    const sensor = await ReplaySensor.open(req.trace);
    for (const p of sensor.problems) {
      req.logger.warn("Bad trace line skipped", {
        "file.path": req.trace,
        line: p.line,
        reason: p.reason,
      });
    }
    return { sensor };
  }
  if (Deno.build.os !== "linux" && Deno.build.os !== "darwin") {
    return { unavailable: `no sensor for platform "${Deno.build.os}"` };
  }
  if (
    req.settings.sensor.marks.mode === "mounts" && req.settings.sensor.marks.mounts.length === 0
  ) {
    return { unavailable: `sensor.marks.mode is "mounts" but sensor.marks.mounts is empty` };
  }
  try {
    const { NativeSensor } = await import("../sensor/native_sensor.ts");
    const sensor = NativeSensor.open(nativeOptions(req.settings));
    const seed = seedProcesses(req.logger);
    return seed ? { sensor, seed } : { sensor };
  } catch (e) {
    return { unavailable: errorText(e) };
  }
}

/** Processes older than the agent, so their children have parents (Linux /proc). */
function seedProcesses(logger: Logger): SeedProcess[] | undefined {
  if (Deno.build.os !== "linux") return undefined;
  try {
    return readProcesses();
  } catch (e) {
    logger.warn("Cannot seed the process table from /proc", { error: errorText(e) });
    return undefined;
  }
}
