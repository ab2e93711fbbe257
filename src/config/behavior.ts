/**
 * Whether behavior monitoring runs: both behaviorMonitoring switches enabled
 * and real-time protection on (`enforcementLevel` = real_time), as in Defender.
 */
import type { Settings, Source } from "./schema.ts";

export interface BehaviorMonitoringState {
  effective: boolean;
  /** Which switches are off, e.g. `features.behaviorMonitoring is "disabled"`. */
  reason?: string;
}

/** Effective behavior monitoring; `sources` adds each off switch's source to the reason. */
export function behaviorMonitoringState(
  settings: Settings,
  sources?: Readonly<Record<string, Source>>,
): BehaviorMonitoringState {
  const off: string[] = [];
  const note = (key: string, value: string) => {
    const src = sources?.[key];
    off.push(`${key} is "${value}"${src ? ` [${src}]` : ""}`);
  };
  if (settings.antivirusEngine.behaviorMonitoring !== "enabled") {
    note("antivirusEngine.behaviorMonitoring", settings.antivirusEngine.behaviorMonitoring);
  }
  if (settings.features.behaviorMonitoring !== "enabled") {
    note("features.behaviorMonitoring", settings.features.behaviorMonitoring);
  }
  if (settings.antivirusEngine.enforcementLevel !== "real_time") {
    note("antivirusEngine.enforcementLevel", settings.antivirusEngine.enforcementLevel);
  }
  return off.length === 0 ? { effective: true } : { effective: false, reason: off.join("; ") };
}
