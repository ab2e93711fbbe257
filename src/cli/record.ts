import { type Command, parseCommandArgs } from "./command.ts";
import { BmError, UsageError } from "../errors.ts";
import { NativeSensor, type NativeSensorOptions } from "../sensor/native_sensor.ts";
import type { Sensor } from "../sensor/sensor.ts";
import { formatProblem, serializeEvent } from "../sensor/trace.ts";
import { esloggerTrace, readTraceText } from "./replay.ts";

const USAGE = `Usage: bm record --output FILE [--duration SECONDS] [--mount PATH ...]
       bm record --from eslogger FILE|- --output FILE

Captures live events from the native sensor as a JSONL trace (one event per
line, the field names rules use) that "bm replay" and rule tests read.
Recording never holds an exec: the sensor runs in audit mode. Stops after
--duration seconds, or on Ctrl-C / SIGTERM. Needs root.

  --output FILE        trace to write (created or truncated)
  --duration SECONDS   stop after this long (default: until interrupted)
  --mount PATH         watch file events on PATH's filesystem (repeatable;
                       default "/")
  --from eslogger IN   convert a recording of macOS's eslogger (JSON lines; "-"
                       reads standard input) into a bm trace instead: no sensor,
                       no root needed. Bad lines are reported with their line
                       number and skipped (exit 2 at the end)`;

export interface RecordOptions {
  output: string;
  /** Convert this eslogger recording ("-": stdin) instead of recording live. */
  fromEslogger?: string;
  durationMs?: number;
  mounts: string[];
}

export function parseRecordArgs(args: string[]): RecordOptions {
  const { values, positionals } = parseCommandArgs("record", {
    args,
    options: {
      output: { type: "string", short: "o" },
      duration: { type: "string" },
      mount: { type: "string", multiple: true },
      from: { type: "string" },
    },
    strict: true,
    allowPositionals: true,
  });
  if (!values.output) throw new UsageError(`Missing --output FILE for "record"`);
  const o: RecordOptions = { output: values.output, mounts: values.mount ?? [] };
  if (values.from !== undefined) {
    if (values.from !== "eslogger") {
      throw new UsageError(`Unknown --from "${values.from}": only "eslogger"`);
    }
    if (positionals.length !== 1) {
      throw new UsageError(`"bm record --from eslogger" needs one input FILE or "-"`);
    }
    o.fromEslogger = positionals[0]!;
  } else if (positionals.length) {
    throw new UsageError(`Unexpected argument "${positionals[0]}" for "record"`);
  }
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

/** `bm record --from eslogger IN --output OUT`: an eslogger recording as a bm trace. */
async function convertEslogger(input: string, output: string): Promise<number> {
  const { events, problems } = esloggerTrace(await readTraceText(input), input);
  for (const p of problems) console.error(formatProblem(input, p));
  try {
    await Deno.writeTextFile(output, events.map((e) => serializeEvent(e) + "\n").join(""), {
      mode: 0o600,
    });
  } catch (err) {
    throw new BmError(`Cannot write trace "${output}": ${(err as Error).message}`);
  }
  console.error(`Converted ${events.length} events to "${output}"`);
  if (problems.length) {
    console.error(`${problems.length} bad lines skipped in "${input}"`);
    return 2;
  }
  return 0;
}

export const recordCommand: Command = {
  name: "record",
  summary: "capture live events as a JSONL trace",
  usage: USAGE,
  async run(args) {
    const o = parseRecordArgs(args);
    if (o.fromEslogger !== undefined) return await convertEslogger(o.fromEslogger, o.output);
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
