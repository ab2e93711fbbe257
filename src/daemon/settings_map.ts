/**
 * The daemon is the only place that maps Settings to the layers' option
 * objects (house rule: layers take plain options).
 */
import type { Settings } from "../config/schema.ts";
import type { EngineOptions, Exclusion } from "../engine/engine.ts";

export function enginePlatform(): EngineOptions["platform"] {
  return Deno.build.os === "darwin" ? "macos" : "linux";
}

export function engineOptions(
  s: Settings,
  extra: { allowedThreats?: readonly string[]; rtpBlocklist?: ReadonlySet<string> } = {},
): EngineOptions {
  const c = s.features.behaviorMonitoringConfigurations;
  return {
    platform: enginePlatform(),
    threshold: s.engine.scoreThreshold,
    halfLifeMs: s.engine.decayHalfLifeSeconds * 1000,
    mode: c.blockExecution === "enabled" ? "block" : "audit",
    exclusions: s.antivirusEngine.exclusions.map(toEngineExclusion),
    allowedThreats: [
      ...new Set([...s.antivirusEngine.allowedThreats, ...extra.allowedThreats ?? []]),
    ],
    rtpBlocklist: extra.rtpBlocklist ?? new Set(),
    forwardRtp: c.forwardRtpToBm === "enabled",
    processTableMax: s.engine.processTableMax,
    exitedRetentionMs: s.engine.exitedRetentionSeconds * 1000,
  };
}

/**
 * The settings a running sensor was opened with. When this key changes on a
 * reload the sensor is reopened with the new settings (its tables and
 * subscriptions are set at open).
 */
export function sensorKey(s: Settings): string {
  const c = s.features.behaviorMonitoringConfigurations;
  return JSON.stringify({
    block: c.blockExecution,
    forks: c.notifyForks,
    openCache: c.avoidOpenCache,
    sensor: s.sensor,
  });
}

/** zod's optional fields carry `undefined`; the engine's type leaves them out. */
function toEngineExclusion(e: Settings["antivirusEngine"]["exclusions"][number]): Exclusion {
  if (e.$type === "excludedPath") {
    return e.isDirectory === undefined
      ? { $type: e.$type, path: e.path }
      : { $type: e.$type, path: e.path, isDirectory: e.isDirectory };
  }
  return e;
}
