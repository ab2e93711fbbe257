/**
 * A sensor with no events: what the daemon runs on while behavior monitoring
 * is off or the OS sensor cannot start, and in between closing one sensor
 * and opening its replacement.
 */
import { emptyStats, type Sensor } from "./sensor.ts";

export function idleSensor(): Sensor {
  let closed = false;
  let wake: (() => void) | undefined;
  return {
    subsystem: "none",
    next: (ms) =>
      closed ? Promise.resolve(null) : new Promise((r) => {
        const t = setTimeout(() => r(closed ? null : []), ms);
        wake = () => {
          clearTimeout(t);
          r(null);
        };
      }),
    respond: () => {},
    denyProcess: () => {},
    denyExecutable: () => {},
    clearAllowCache: () => {},
    stats: emptyStats,
    close: () => {
      closed = true;
      wake?.();
      return Promise.resolve();
    },
  };
}
