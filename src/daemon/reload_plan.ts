/**
 * What an accepted reload changes, decided from the last good state and the
 * new one without touching anything: the daemon carries the plan out. Pure,
 * so each decision is unit-tested without root or a sensor.
 */
import type { Settings } from "../config/schema.ts";
import { behaviorMonitoringState } from "../config/behavior.ts";
import { sensorKey } from "./settings_map.ts";

/** The part of the daemon's state a reload decision looks at. */
export interface ReloadState {
  settings: Settings;
  rulesDir: string;
  rulesVersion: string;
}

export interface ReloadPlan {
  /** Give the engine the new rule set (in-flight sequences are dropped). */
  swapRules: boolean;
  /**
   * Close the sensor and open one with the new settings (set at open: its
   * tables and subscriptions), or run on no sensor when `sensorKey` is undefined.
   */
  reopenSensor: boolean;
  /** Close the event export file and open it with the new settings. */
  rebuildExporter: boolean;
  /**
   * Drop the sensor's cached allow decisions: any of them may rest on a rule,
   * exclusion or allowed threat that just changed. A reopened sensor starts empty.
   */
  clearAllowCache: boolean;
  /** Watch the new rules folders (rulesDir, extraRulesDirs) instead of the old ones. */
  restartWatcher: boolean;
}

/**
 * @param prev the last good state
 * @param next the validated new state
 * @param openedWith the sensorKey the running sensor was opened with (undefined: none)
 * @param trace running on a replayed trace: its sensor is never reopened, nothing is watched
 */
export function planReload(
  prev: ReloadState,
  next: ReloadState,
  openedWith: string | undefined,
  trace: boolean,
): ReloadPlan {
  const s = next.settings;
  const wantSensor = trace || behaviorMonitoringState(s).effective;
  const key = wantSensor ? sensorKey(s) : undefined;
  const reopenSensor = !trace && key !== openedWith;
  const packsMoved = next.rulesDir !== prev.rulesDir ||
    next.settings.engine.extraRulesDirs.join("\0") !==
      prev.settings.engine.extraRulesDirs.join("\0");
  return {
    // The rule set is recompiled on every reload; the version says whether it differs.
    swapRules: next.rulesVersion !== prev.rulesVersion || packsMoved,
    reopenSensor,
    rebuildExporter: JSON.stringify(s.logging.eventExport) !==
      JSON.stringify(prev.settings.logging.eventExport),
    clearAllowCache: !reopenSensor,
    restartWatcher: !trace && packsMoved,
  };
}
