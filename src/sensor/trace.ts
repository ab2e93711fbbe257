/**
 * Trace codec: one BmEvent per JSON line, in the field names rules use.
 *
 * In memory `@timestamp` is ms since the epoch; in a trace it is an ISO-8601
 * string (UTC, millisecond precision). Parsing also accepts a number of ms so
 * hand-written traces stay short. Unknown fields are kept (rules may name
 * them); known fields are type-checked with zod and a bad line gives one
 * clean reason, never a crash.
 */
import { z } from "zod";
import { type BmEvent, EVENT_ACTIONS } from "./event.ts";
import { InputError } from "../errors.ts";

/** Out-of-range numbers are bad lines, not values the engine would misread. */
const pid = z.number().int().min(0).max(0x7fffffff);
const id32 = z.number().int().min(0).max(0xffffffff);
const int32 = z.number().int().min(-0x80000000).max(0xffffffff);
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** Milliseconds since the epoch within what a Date can hold. */
const ms = z.number().min(-8.64e15).max(8.64e15);
const streamKind = z.enum(["tty", "socket", "unix", "pipe", "file", "null", "unknown"]);

const parentSchema = z.looseObject({
  pid,
  entity_id: z.string().optional(),
  executable: z.string().optional(),
  name: z.string().optional(),
  args: z.array(z.string()).optional(),
});

const processSchema = z.looseObject({
  pid,
  entity_id: z.string().optional(),
  start: ms.optional(),
  executable: z.string().optional(),
  name: z.string().optional(),
  args: z.array(z.string()).optional(),
  env_vars: z.array(z.string()).optional(),
  script: z.string().optional(),
  working_directory: z.string().optional(),
  parent: parentSchema.optional(),
  responsible_pid: pid.optional(),
  tty: z.string().optional(),
  stdin: streamKind.optional(),
  stdout: streamKind.optional(),
  exit_code: int32.optional(),
  code_signature: z.looseObject({
    signing_id: z.string().optional(),
    team_id: z.string().optional(),
    cdhash: z.string().optional(),
    platform_binary: z.boolean().optional(),
  }).optional(),
});

const fileSchema = z.looseObject({
  path: z.string(),
  target_path: z.string().optional(),
  hash: z.looseObject({ sha256: z.string().optional() }).optional(),
  uid: id32.optional(),
  mode: id32.optional(),
  size: count.optional(),
  xattr: z.string().optional(),
});

const timestamp = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const t = typeof v === "number" ? v : Date.parse(v);
  if (!Number.isFinite(t) || Math.abs(t) > 8.64e15) {
    ctx.addIssue({ code: "custom", message: `not an ISO-8601 time: "${String(v)}"` });
    return z.NEVER;
  }
  return t;
});

const eventSchema = z.looseObject({
  "@timestamp": timestamp,
  event: z.looseObject({ action: z.enum(EVENT_ACTIONS) }),
  process: processSchema,
  file: fileSchema.optional(),
  user: z.looseObject({
    id: id32.optional(),
    effective: z.looseObject({ id: id32.optional() }).optional(),
  }).optional(),
  bm: z.looseObject({
    auth_id: count.optional(),
    deadline: ms.optional(),
    seq: count.optional(),
    source: z.string().optional(),
    rtp_threat: z.string().optional(),
    launch_item: z.string().optional(),
    truncated: z.boolean().optional(),
  }).optional(),
}).superRefine((e, ctx) => {
  const a = e.event.action;
  if (a !== "exec" && a !== "fork" && a !== "exit" && e.file === undefined) {
    ctx.addIssue({ code: "custom", path: ["file"], message: `required for "${a}"` });
  }
});

/** One trace line for an event (no trailing newline). */
export function serializeEvent(e: BmEvent): string {
  const { "@timestamp": ts, ...rest } = e;
  return JSON.stringify({ "@timestamp": new Date(ts).toISOString(), ...rest });
}

/** Why a line is not an event, or the event. Never throws. */
export function decodeLine(line: string): { event: BmEvent } | { reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    return { reason: `not JSON: ${(err as Error).message}` };
  }
  const r = eventSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue && issue.path.length ? issue.path.join(".") : "event";
    return { reason: `${where}: ${issue?.message ?? "invalid"}` };
  }
  return { event: r.data as unknown as BmEvent };
}

/** Parses one line; throws InputError naming file, line and reason. */
export function parseEvent(line: string, file = "<trace>", lineNo = 1): BmEvent {
  const r = decodeLine(line);
  if ("reason" in r) throw new InputError(`Bad trace "${file}" line ${lineNo}: ${r.reason}`);
  return r.event;
}

export interface TraceProblem {
  /** 1-based line number. */
  line: number;
  reason: string;
}

/**
 * The text of trace bytes. A line that is not valid UTF-8 is reported with its
 * number and left empty (never decoded with U+FFFD: a path would no longer
 * name its file), so the other lines keep their numbers.
 */
export function decodeTraceBytes(bytes: Uint8Array): { text: string; problems: TraceProblem[] } {
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), problems: [] };
  } catch { /* some line is bad: find it */ }
  const dec = new TextDecoder("utf-8", { fatal: true });
  const lines: string[] = [];
  const problems: TraceProblem[] = [];
  let start = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const line = bytes.subarray(start, end);
    try {
      lines.push(dec.decode(line));
    } catch {
      problems.push({
        line: lines.length + 1,
        reason: `not valid UTF-8 (byte ${firstBadByte(line) + 1} of the line)`,
      });
      lines.push("");
    }
    start = end + 1;
  }
  return { text: lines.join("\n"), problems };
}

/** 0-based index of the byte at which `line` stops being valid UTF-8. */
function firstBadByte(line: Uint8Array): number {
  const dec = new TextDecoder("utf-8", { fatal: true });
  for (let i = 0; i < line.length; i++) {
    try {
      dec.decode(line.subarray(i, i + 1), { stream: true });
    } catch {
      return i;
    }
  }
  return line.length - 1; // a sequence cut short at the end of the line
}

/** Parses trace bytes: invalid UTF-8 lines and bad events are reported by line. */
export function parseTraceBytes(
  bytes: Uint8Array,
  file = "<trace>",
): { events: BmEvent[]; problems: TraceProblem[]; file: string } {
  const { text, problems: bad } = decodeTraceBytes(bytes);
  const r = parseTrace(text, file);
  r.problems.push(...bad);
  r.problems.sort((a, b) => a.line - b.line);
  return r;
}

/** Parses a whole trace; blank lines are skipped, bad lines reported (not thrown). */
export function parseTrace(
  text: string,
  file = "<trace>",
): { events: BmEvent[]; problems: TraceProblem[]; file: string } {
  const events: BmEvent[] = [];
  const problems: TraceProblem[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    const r = decodeLine(line);
    if ("reason" in r) problems.push({ line: i + 1, reason: r.reason });
    else events.push(r.event);
  }
  return { events, problems, file };
}

/** One clear line for a problem, in the house error style. */
export function formatProblem(file: string, p: TraceProblem): string {
  return `Bad trace "${file}" line ${p.line}: ${p.reason}`;
}
