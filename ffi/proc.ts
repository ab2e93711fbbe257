/**
 * Process inspection through the native library (bm_proc_info and
 * bm_proc_children in bm_sensor.h): the OS structs (macOS proc_bsdinfo, Linux
 * /proc/PID/stat) are read by C compiled against the OS headers, so no layout
 * is guessed here. Pointer-free: callers get numbers and strings.
 *
 * The library is found and ownership-checked by library.ts on every call
 * (via binding.ts `load`, which opens it once per path).
 */
import { BmError } from "../src/errors.ts";
import { load } from "./binding.ts";

export interface NativeProcessInfo {
  pid: number;
  ppid: number;
  /** One letter as in /proc/PID/stat: R, S, T, Z, ... ("?" unknown). */
  state: string;
  /** Start time, ms since the epoch. */
  start: number;
}

/** Undefined when no such process exists; throws BmError when the OS refuses. */
export function nativeProcessInfo(
  pid: number,
  libraryPath?: string,
): NativeProcessInfo | undefined {
  const lib = load(libraryPath);
  const ppid = new Int32Array(1);
  const start = new Float64Array(1);
  const state = new Uint8Array(1);
  const r = lib.symbols.bm_proc_info(pid, ppid, start, state);
  if (r === 1) return undefined;
  if (r !== 0) throw new BmError(`Cannot inspect process ${pid}: the OS refused`);
  return {
    pid,
    ppid: ppid[0] ?? -1,
    state: String.fromCharCode(state[0] ?? 63),
    start: start[0] ?? 0,
  };
}

/** Direct children as of now ([] when pid is gone); throws BmError when the OS refuses. */
export function nativeChildren(pid: number, libraryPath?: string): number[] {
  const lib = load(libraryPath);
  // a full buffer may mean truncated: retry with more room
  for (let cap = 256; cap <= 1 << 20; cap *= 4) {
    const out = new Int32Array(cap);
    const n = lib.symbols.bm_proc_children(pid, out, cap);
    if (n < 0) throw new BmError(`Cannot list the children of process ${pid}: the OS refused`);
    if (n < cap) return [...out.subarray(0, n)];
  }
  throw new BmError(`Cannot list the children of process ${pid}: more than ${1 << 20}`);
}
