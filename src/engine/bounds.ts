/**
 * Bounds on every string a condition sees, so the cost of matching an event
 * is bounded whatever the input (invariant 8): with linear-time patterns, a
 * condition costs at most its length bound. Applied to each event as the
 * engine takes it, so the process table, the conditions and the evidence of
 * a threat all see the same bounded event.
 *
 * - any string: STRING_MAX characters;
 * - a path (PATH_KEYS): PATH_MAX characters, the text form (path_codec.ts)
 *   of the longest Linux path, so a path is never cut and the response can
 *   still name the file (4,095 bytes, each at most four characters `\xNN`);
 * - `process.args` / `process.parent.args`: each argument STRING_MAX, all of
 *   them together ARGS_TOTAL_MAX (one more per argument for the separator, so
 *   `process.command_line` stays within it too), at most ARGS_COUNT_MAX.
 *
 * A cut string keeps its head and its tail (so both `^` and `$` anchored
 * patterns still see real text) around TRUNCATION_MARK; arguments past the
 * bound are dropped and a last argument TRUNCATION_MARK stands for them. An
 * event with anything cut carries `bm.truncated = true`, which rules can test.
 *
 * The figures: the linear engine costs about 0.3-1.5 us per character for the
 * pack's larger patterns (bench/hostile_input_bench.ts), so an argument list
 * of 16 KiB keeps the worst event within a few milliseconds.
 */
import type { BmEvent } from "../sensor/event.ts";

export const STRING_MAX = 4 * 1024;
export const PATH_MAX = 16 * 1024;
/** Fields that hold a path in the text form of src/sensor/path_codec.ts. */
const PATH_KEYS = new Set([
  "path",
  "target_path",
  "executable",
  "working_directory",
  "script",
  "launch_item",
]);
export const ARGS_TOTAL_MAX = 16 * 1024;
export const ARGS_COUNT_MAX = 1024;
/** Stands where characters or arguments were cut. */
export const TRUNCATION_MARK = "\u2026[bm:truncated]\u2026";
const TAIL = 512;

/** `s` cut to `max` characters (head, mark, tail) when longer. */
export function boundString(s: string, max = STRING_MAX): string {
  if (s.length <= max) return s;
  const tail = Math.min(TAIL, max >> 2);
  const head = max - tail - TRUNCATION_MARK.length;
  return s.slice(0, head) + TRUNCATION_MARK + s.slice(s.length - tail);
}

function argsWithin(args: readonly unknown[]): boolean {
  if (args.length > ARGS_COUNT_MAX) return false;
  let total = 0;
  for (const a of args) {
    if (typeof a !== "string") continue;
    if (a.length > STRING_MAX) return false;
    total += a.length + 1;
  }
  return total <= ARGS_TOTAL_MAX;
}

/** The args list within the bounds (see the module comment). */
export function boundArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  let total = 0;
  const room = ARGS_TOTAL_MAX - TRUNCATION_MARK.length - 1;
  for (const a of args) {
    const b = boundString(a);
    if (out.length >= ARGS_COUNT_MAX - 1 || total + b.length + 1 > room) {
      out.push(TRUNCATION_MARK);
      return out;
    }
    out.push(b);
    total += b.length + 1;
  }
  return out;
}

/** True when no string of `v` (any depth) is over its bound. */
function within(v: unknown, key: string): boolean {
  if (typeof v === "string") {
    // nearly every string is under the smaller bound: no look-up of its key
    return v.length <= STRING_MAX || (v.length <= PATH_MAX && PATH_KEYS.has(key));
  }
  if (Array.isArray(v)) {
    if (key === "args" && !argsWithin(v)) return false;
    for (const x of v) if (!within(x, "")) return false;
    return true;
  }
  if (typeof v === "object" && v !== null) {
    for (const k in v) if (!within((v as Record<string, unknown>)[k], k)) return false;
  }
  return true;
}

function bound(v: unknown, key: string): unknown {
  if (typeof v === "string") return boundString(v, PATH_KEYS.has(key) ? PATH_MAX : STRING_MAX);
  if (Array.isArray(v)) {
    if (key === "args" && v.every((x) => typeof x === "string")) return boundArgs(v as string[]);
    return v.map((x) => bound(x, ""));
  }
  if (typeof v === "object" && v !== null) {
    const o: Record<string, unknown> = {};
    for (const k in v) o[k] = bound((v as Record<string, unknown>)[k], k);
    return o;
  }
  return v;
}

/**
 * True when text decoded from byte strings of at most `maxBytes` bytes each,
 * `args` of them arguments of `argBytes` bytes in all, is within every bound:
 * a text is at most four characters a byte (path_codec.ts's `\xNN`), an
 * argument (decoded as UTF-8, invalid bytes replaced) at most one a byte.
 * The record decoder (ffi/decoder.ts) knows these lengths as it reads them.
 */
export function bytesWithin(maxBytes: number, args: number, argBytes: number): boolean {
  return maxBytes * 4 <= STRING_MAX && args <= ARGS_COUNT_MAX &&
    argBytes + args <= ARGS_TOTAL_MAX;
}

/**
 * `event` parts (the `{ action }` object of BmEvent.event) a source shares
 * only between events it vouches are within bounds (see `bytesWithin`):
 * boundEvent passes such an event without walking every string again. The
 * mark is the part's identity, set once per part, so vouching costs an event
 * nothing (a WeakSet of the events themselves cost more than the walk). A
 * copy of such an event with longer strings must not keep its part.
 */
const vouchedParts = new Set<object>();

/** Registers `part` as an event part of vouched-for events (see `vouchedParts`); returns it. */
export function vouchingPart<T extends object>(part: T): T {
  vouchedParts.add(part);
  return part;
}

/** The event itself when every string is within bounds, else a bounded copy marked `bm.truncated`. */
export function boundEvent(ev: BmEvent): BmEvent {
  if (vouchedParts.has(ev.event) || within(ev, "")) return ev;
  const out = bound(ev, "") as BmEvent;
  out.bm = { ...out.bm, truncated: true };
  return out;
}
