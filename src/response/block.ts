/**
 * The block action. The pending auth event itself is denied by the daemon
 * with the engine's auth answer (it has the deadline); what is left here is
 * the push-down: the sensor denies every further exec by the process and,
 * natively, by its new children, for the rest of that lineage.
 */
import type { Sensor } from "../sensor/sensor.ts";

export function blockProcess(sensor: Pick<Sensor, "denyProcess">, pid: number): void {
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`Refusing to block pid ${pid}`);
  sensor.denyProcess(pid);
}
