import { type Command, parseCommandArgs } from "./command.ts";
import { BmError, UsageError } from "../errors.ts";
import { NativeSensor, type NativeSensorOptions } from "../sensor/native_sensor.ts";
import type { Sensor } from "../sensor/sensor.ts";
import { formatProblem, serializeEvent } from "../sensor/trace.ts";
import { esloggerTrace, readTraceText } from "./replay.ts";
import { RecordScope } from "./_record_scope.ts";

/** Time given to the sensor to deliver a COMMAND's last events after it exits. */
const DRAIN_AFTER_EXIT_MS = 1000;

const USAGE = `Usage: bm record --output FILE [--duration SECONDS] [--mount PATH ...]
                 [--scope-pid PID | -- COMMAND [ARG ...]]
       bm record --from eslogger FILE|- --output FILE

Captures live events from the native sensor as a JSONL trace (one event per
line, the field names rules use) that "bm replay" and rule tests read.
Recording never holds an exec: the sensor runs in audit mode. Stops after
--duration seconds, or on Ctrl-C / SIGTERM. Needs root.

  --output FILE        trace to write (created or truncated)
  --duration SECONDS   stop after this long (default: until interrupted)
  --mount PATH         watch file events on PATH's filesystem (repeatable;
                       default: every local filesystem, as the daemon)
  --scope-pid PID      keep only PID and the processes it starts
  -- COMMAND [ARG ...] run COMMAND (no shell), keep only it and the processes
                       it starts, and stop when it exits; bm record exits
                       with 1 when COMMAND fails
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
  /** Keep only this process subtree. */
  scopePid?: number;
  /** Run this (argv, no shell) and keep only its subtree. */
  command?: string[];
}

export function parseRecordArgs(args: string[]): RecordOptions {
  const dash = args.indexOf("--");
  const own = dash < 0 ? args : args.slice(0, dash);
  const command = dash < 0 ? undefined : args.slice(dash + 1);
  const { values, positionals } = parseCommandArgs("record", {
    args: own,
    options: {
      output: { type: "string", short: "o" },
      duration: { type: "string" },
      mount: { type: "string", multiple: true },
      from: { type: "string" },
      "scope-pid": { type: "string" },
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
  const scope = values["scope-pid"];
  if (scope !== undefined) {
    const pid = Number(scope);
    if (!/^[0-9]+$/.test(scope) || !Number.isSafeInteger(pid) || pid < 1) {
      throw new UsageError(`Bad --scope-pid "${scope}": expected a process id`);
    }
    o.scopePid = pid;
  }
  if (command !== undefined) {
    if (command.length === 0) throw new UsageError(`Missing COMMAND after "--" for "record"`);
    if (o.scopePid !== undefined) {
      throw new UsageError(
        `Bad arguments to "record": --scope-pid and a COMMAND exclude each other`,
      );
    }
    o.command = command;
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
  scope?: RecordScope,
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
      if (scope !== undefined && !scope.keep(e)) continue;
      text += serializeEvent(e) + "\n";
      n++;
    }
    const bytes = enc.encode(text);
    for (let off = 0; off < bytes.length;) off += await out.write(bytes.subarray(off));
  }
  return n;
}

/** `bm record --from eslogger IN --output OUT`: an eslogger recording as a bm trace. */
async function convertEslogger(input: string, output: string): Promise<number> {
  const { text, bad } = await readTraceText(input);
  const { events, problems } = esloggerTrace(text, input);
  problems.push(...bad);
  problems.sort((a, b) => a.line - b.line);
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
    let scope = o.scopePid !== undefined ? new RecordScope(o.scopePid) : undefined;
    let status: Promise<Deno.CommandStatus> | undefined;
    let drain: ReturnType<typeof setTimeout> | undefined;
    if (o.command !== undefined) {
      let child: Deno.ChildProcess;
      try {
        child = new Deno.Command(o.command[0]!, {
          args: o.command.slice(1),
          stdin: "inherit",
          stdout: "inherit",
          stderr: "inherit",
        }).spawn();
      } catch (err) {
        out.close();
        await sensor.close();
        throw new BmError(`Cannot run "${o.command[0]}": ${(err as Error).message}`);
      }
      scope = new RecordScope(child.pid);
      status = child.status;
      status.then(() => drain = setTimeout(finish, DRAIN_AFTER_EXIT_MS));
    }
    let n = 0;
    try {
      n = await recordTrace(sensor, out, stop, scope);
    } finally {
      clearTimeout(timer);
      clearTimeout(drain);
      for (const s of signals) Deno.removeSignalListener(s, finish);
      out.close();
    }
    const st = sensor.stats();
    await sensor.close();
    const outside = scope !== undefined ? `, ${scope.dropped} outside the scope` : "";
    console.error(
      `Recorded ${n} events to "${o.output}" (dropped ${st.dropped}, enrichment misses ${st.enrichmentMisses}${outside})`,
    );
    if (status !== undefined) {
      const { code } = await status;
      if (code !== 0) {
        console.error(`Command "${o.command![0]}" exited with ${code}`);
        return 1;
      }
    }
    return 0;
  },
};
