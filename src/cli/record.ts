import { type Command, parseCommandArgs } from "./command.ts";
import { BmError, UsageError } from "../errors.ts";
import { NativeSensor, type NativeSensorOptions } from "../sensor/native_sensor.ts";
import type { Sensor } from "../sensor/sensor.ts";
import { serializeEvent } from "../sensor/trace.ts";

const USAGE = `Usage: bm record --output FILE [--duration SECONDS] [--mount PATH ...]

Captures live events from the native sensor as a JSONL trace (one event per
line, the field names rules use) that "bm replay" and rule tests read.
Recording never holds an exec: the sensor runs in audit mode. Stops after
--duration seconds, or on Ctrl-C / SIGTERM. Needs root.

  --output FILE        trace to write (created or truncated)
  --duration SECONDS   stop after this long (default: until interrupted)
  --mount PATH         watch file events on PATH's filesystem (repeatable;
                       default "/")`;

export interface RecordOptions {
  output: string;
  durationMs?: number;
  mounts: string[];
}

export function parseRecordArgs(args: string[]): RecordOptions {
  const { values } = parseCommandArgs("record", {
    args,
    options: {
      output: { type: "string", short: "o" },
      duration: { type: "string" },
      mount: { type: "string", multiple: true },
    },
    strict: true,
    allowPositionals: false,
  });
  if (!values.output) throw new UsageError(`Missing --output FILE for "record"`);
  const o: RecordOptions = { output: values.output, mounts: values.mount ?? [] };
  if (values.duration !== undefined) {
    const d = Number(values.duration);
    if (!Number.isFinite(d) || d <= 0 || values.duration.trim() === "") {
      throw new UsageError(`Bad --duration "${values.duration}": expected seconds above 0`);
    }
    o.durationMs = d * 1000;
  }
  for (const m of o.mounts) {
    if (!m.startsWith("/")) throw new UsageError(`Bad --mount "${m}": expected an absolute path`);
  }
  return o;
}

/**
 * Writes events from `sensor` to `out` until `stop` resolves or the sensor
 * ends. Auth events (none in audit mode) are allowed at once so recording
 * never holds a process. Returns the number of events written.
 */
export async function recordTrace(
  sensor: Sensor,
  out: Deno.FsFile,
  stop: Promise<void>,
): Promise<number> {
  let stopped = false;
  stop.then(() => stopped = true);
  const enc = new TextEncoder();
  let n = 0;
  while (!stopped) {
    const batch = await sensor.next(100);
    if (batch === null) break;
    if (!batch.length) continue;
    let text = "";
    for (const e of batch) {
      if (e.bm?.auth_id !== undefined) {
        sensor.respond({ authId: e.bm.auth_id, allow: true, cache: false });
      }
      text += serializeEvent(e) + "\n";
    }
    const bytes = enc.encode(text);
    for (let off = 0; off < bytes.length;) off += await out.write(bytes.subarray(off));
    n += batch.length;
  }
  return n;
}

export const recordCommand: Command = {
  name: "record",
  summary: "capture live events as a JSONL trace",
  usage: USAGE,
  async run(args) {
    const o = parseRecordArgs(args);
    const sensorOptions: NativeSensorOptions = {
      blockExecution: false,
      openAuth: false,
      marks: "filesystem",
      ...(o.mounts.length ? { mounts: o.mounts } : {}),
    };
    const sensor = NativeSensor.open(sensorOptions);
    let out: Deno.FsFile;
    try {
      out = await Deno.open(o.output, { write: true, create: true, truncate: true, mode: 0o600 });
    } catch (err) {
      await sensor.close();
      throw new BmError(`Cannot write trace "${o.output}": ${(err as Error).message}`);
    }
    let finish!: () => void;
    const stop = new Promise<void>((r) => finish = r);
    const timer = o.durationMs !== undefined ? setTimeout(finish, o.durationMs) : undefined;
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    for (const s of signals) Deno.addSignalListener(s, finish);
    let n = 0;
    try {
      n = await recordTrace(sensor, out, stop);
    } finally {
      clearTimeout(timer);
      for (const s of signals) Deno.removeSignalListener(s, finish);
      out.close();
    }
    const st = sensor.stats();
    await sensor.close();
    console.error(
      `Recorded ${n} events to "${o.output}" (dropped ${st.dropped}, enrichment misses ${st.enrichmentMisses})`,
    );
    return 0;
  },
};
