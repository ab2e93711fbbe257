/**
 * The native sensor library behind a pointer-free API. The handle lives in a
 * private field; callers get events, counters and methods, never a pointer.
 *
 * Lifecycle: `SensorBinding.open(config)` loads the library (path resolved and
 * ownership-checked by library.ts), opens the sensor and checks the ABI
 * version. `close()` waits for a pending `wait` to return before freeing.
 */
import { BmError } from "../src/errors.ts";
import type { BmEvent } from "../src/sensor/event.ts";
import { closeLibraryFile, openLibrary, resolveLibraryPath } from "./library.ts";
import { descriptorPath } from "../src/trusted_file.ts";
import type { FilesystemMark } from "../src/sensor/sensor.ts";
import { decodeRecords } from "./decoder.ts";
import { pathToBytes } from "../src/sensor/path_codec.ts";
import { ABI_VERSION, STATS_FIELDS, SYMBOLS } from "./symbols.ts";

/** The ABI symbols, or a superset of them (the test build's, ffi/synthetic_test_utils.ts). */
export type AbiSymbols = typeof SYMBOLS;
type Lib = Deno.DynamicLibrary<AbiSymbols>;
export type NativeStats = Record<(typeof STATS_FIELDS)[number], number>;

/** Parses bm_sensor_marks' text: tab-separated fields, \ooo escapes in the mount point. */
export function parseMarks(text: string): FilesystemMark[] {
  const out: FilesystemMark[] = [];
  for (const line of text.split("\n")) {
    const [state, point, type, reason] = line.split("\t");
    if ((state !== "marked" && state !== "unmarked") || point === undefined) continue;
    const m: FilesystemMark = {
      marked: state === "marked",
      mountPoint: point.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))),
      type: type ?? "",
    };
    if (reason !== undefined) m.reason = reason;
    out.push(m);
  }
  return out;
}

/** Loaded libraries, per symbol table and path. */
const loaded = new Map<AbiSymbols, Map<string, Lib>>();
const enc = new TextEncoder();

function cstr(s: string): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(enc.encode(s).length + 1);
  enc.encodeInto(s, b);
  return b;
}

type OpenFn = (
  config: Uint8Array<ArrayBuffer>,
  err: Uint8Array<ArrayBuffer>,
  errLen: number,
) => Deno.PointerValue;

/**
 * Calls one of the library's open functions with the key=value config; throws
 * BmError with the line the library wrote. Exported for the wrappers beside
 * this file only.
 */
export function openHandle(open: OpenFn, config: string): Deno.PointerObject {
  const err = new Uint8Array(512);
  const h = open(cstr(config), err, err.length);
  if (h === null) {
    const n = err.indexOf(0);
    const msg = new TextDecoder().decode(err.subarray(0, n < 0 ? err.length : n));
    throw new BmError(msg || "Cannot open the native sensor");
  }
  return h;
}

/** bm.source of decoded events: as asked, else the OS's. */
export function sourceOf(o: { source?: string }): string {
  return o.source ?? (Deno.build.os === "darwin" ? "macos" : "linux");
}

/** NUL-terminated bytes of a path in its text form (src/sensor/path_codec.ts). */
function cpath(s: string): Uint8Array<ArrayBuffer> {
  const p = pathToBytes(s);
  const b = new Uint8Array(p.length + 1);
  b.set(p);
  return b;
}

/**
 * Loads (once per path, after the ownership check) and version-checks the
 * library, binding `symbols` (default: the ABI of bm_sensor.h, all a shipped
 * library exports). Exported for the pointer-free wrappers beside this file
 * only.
 */
export function load<S extends AbiSymbols = AbiSymbols>(
  path: string | undefined,
  symbols: S = SYMBOLS as S,
): Deno.DynamicLibrary<S> {
  const p = path ?? resolveLibraryPath();
  const fd = openLibrary(p);
  const libs = loaded.get(symbols) ?? new Map<string, Lib>();
  loaded.set(symbols, libs);
  let lib = libs.get(p);
  // The descriptor of a library that gets loaded stays open: the dynamic loader knows it by
  // the name "/proc/self/fd/N", and a later library opened at a reused N would be handed the
  // first one (glibc matches loaded objects by name before it opens anything).
  let keep = false;
  try {
    if (!lib) {
      // S extends the ABI: seen as the ABI here, handed back as S
      lib = Deno.dlopen(descriptorPath(p, fd), symbols) as unknown as Lib;
      keep = true;
    }
  } catch (err) {
    throw new BmError(`Cannot load native sensor library "${p}": ${(err as Error).message}`);
  } finally {
    if (!keep) closeLibraryFile(fd);
  }
  if (!libs.has(p)) {
    const v = lib.symbols.bm_sensor_abi_version();
    if (v !== ABI_VERSION) {
      lib.close();
      closeLibraryFile(fd);
      throw new BmError(
        `Native sensor library "${p}" speaks ABI ${v}: this agent needs ${ABI_VERSION}`,
      );
    }
    libs.set(p, lib);
  }
  return lib as unknown as Deno.DynamicLibrary<S>;
}

export interface OpenOptions {
  /** key=value lines (see bm_sensor_open in bm_sensor.h). */
  config: string;
  /** Library path; default resolved by library.ts. */
  libraryPath?: string;
  /** Drain buffer size in bytes (default 1 MiB). */
  bufferBytes?: number;
  /** bm.source of decoded events (default from the OS). */
  source?: string;
}

export class SensorBinding {
  #lib: Lib;
  #h: Deno.PointerObject | null;
  #buf: Uint8Array<ArrayBuffer>;
  #stats = new BigUint64Array(STATS_FIELDS.length);
  #pending: Promise<number> | null = null;
  #source: string;
  /** Records of unknown kinds skipped by the decoder. */
  skipped = 0;

  protected constructor(
    lib: Lib,
    h: Deno.PointerObject,
    bufferBytes: number,
    source: string,
  ) {
    this.#lib = lib;
    this.#h = h;
    this.#buf = new Uint8Array(bufferBytes);
    this.#source = source;
  }

  /** Opens a sensor; throws BmError (exit 1) with the library's reason. */
  static open(o: OpenOptions): SensorBinding {
    const lib = load(o.libraryPath);
    const h = openHandle(lib.symbols.bm_sensor_open, o.config);
    return new SensorBinding(lib, h, o.bufferBytes ?? 1 << 20, sourceOf(o));
  }

  /** The open sensor's handle, null once closed: for subclasses that bind more of a test build. */
  protected get handle(): Deno.PointerObject | null {
    return this.#h;
  }

  /** The library's wall clock (ms, sub-ms precision): the clock of record times. */
  nowMs(): number {
    return this.#lib.symbols.bm_sensor_now_ms();
  }

  get closed(): boolean {
    return this.#h === null;
  }

  /** Waits up to timeoutMs for records: 1 ready, 0 timeout, -1 closed. */
  async wait(timeoutMs: number): Promise<number> {
    if (this.#h === null) return -1;
    if (this.#pending) return await this.#pending;
    const p = this.#lib.symbols.bm_sensor_wait(this.#h, Math.max(-1, Math.floor(timeoutMs)));
    this.#pending = p;
    try {
      return await p;
    } finally {
      this.#pending = null;
    }
  }

  /** Blocks this thread up to timeoutMs for records: 1 ready, 0 timeout, -1 closed. */
  waitSync(timeoutMs: number): number {
    if (this.#h === null) return -1;
    return this.#lib.symbols.bm_sensor_wait_sync(this.#h, Math.max(0, Math.floor(timeoutMs)));
  }

  /**
   * Copies out and decodes the ready records that fit the drain buffer (may be
   * none; call again for more). null when closed.
   */
  drain(): BmEvent[] | null {
    if (this.#h === null) return null;
    const n = this.#lib.symbols.bm_sensor_drain(this.#h, this.#buf, this.#buf.length);
    if (n < 0) return null;
    if (n === 0) return [];
    const r = decodeRecords(this.#buf, n, this.#source);
    this.skipped += r.skipped;
    return r.events;
  }

  /** Drains raw bytes without decoding; returns the byte count (benchmarks). */
  drainBytes(): number {
    if (this.#h === null) return -1;
    return this.#lib.symbols.bm_sensor_drain(this.#h, this.#buf, this.#buf.length);
  }

  /** The drain buffer after drainBytes (read-only view for benchmarks). */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  /** 0 answered, 1 too late or unknown (counted natively), -1 closed. */
  respond(authId: number, allow: boolean, cache: boolean): number {
    if (this.#h === null) return -1;
    return this.#lib.symbols.bm_sensor_respond(this.#h, authId >>> 0, allow ? 1 : 0, cache ? 1 : 0);
  }

  denyPid(pid: number, on = true): void {
    if (this.#h) this.#lib.symbols.bm_sensor_deny_pid(this.#h, pid | 0, on ? 1 : 0);
  }

  /** `path` in the text form of src/sensor/path_codec.ts: the sensor compares the bytes. */
  denyPath(path: string, on = true): void {
    if (this.#h) this.#lib.symbols.bm_sensor_deny_path(this.#h, cpath(path), on ? 1 : 0);
  }

  allowCache(enabled: boolean): void {
    if (this.#h) this.#lib.symbols.bm_sensor_allow_cache_enable(this.#h, enabled ? 1 : 0);
  }

  clearAllowCache(): void {
    if (this.#h) this.#lib.symbols.bm_sensor_allow_cache_clear(this.#h);
  }

  /**
   * Installs the interest filter (bm_sensor_set_interest: notify records it
   * rules out are dropped in the library), or removes it (null). Throws
   * BmError with the library's reason when the spec is bad; the previous
   * filter then stays.
   */
  setInterest(spec: string | null): void {
    if (this.#h === null) return;
    const err = new Uint8Array(256);
    const rc = this.#lib.symbols.bm_sensor_set_interest(
      this.#h,
      spec === null ? null : cstr(spec),
      err,
      err.length,
    );
    if (rc !== 0) {
      const n = err.indexOf(0);
      const msg = new TextDecoder().decode(err.subarray(0, n < 0 ? err.length : n));
      throw new BmError(msg || "Cannot set the interest filter");
    }
  }

  stats(): NativeStats {
    const out = {} as NativeStats;
    for (const f of STATS_FIELDS) out[f] = 0;
    if (this.#h === null) return out;
    const bytes = new Uint8Array(this.#stats.buffer);
    const n = this.#lib.symbols.bm_sensor_get_stats(this.#h, bytes, bytes.length);
    STATS_FIELDS.forEach((f, i) => {
      if ((i + 1) * 8 <= n) out[f] = Number(this.#stats[i]);
    });
    return out;
  }

  /**
   * What the sensor marks (Linux; empty on macOS): bm_sensor_marks' lines.
   * The C side writes whole lines while they fit in 256 KiB.
   */
  marks(): FilesystemMark[] {
    if (this.#h === null) return [];
    const buf = new Uint8Array(256 * 1024);
    const n = this.#lib.symbols.bm_sensor_marks(this.#h, buf, buf.length);
    return n > 0 ? parseMarks(new TextDecoder().decode(buf.subarray(0, n))) : [];
  }

  /** Stops the sensor (held events get the default answer) and frees it. */
  async close(): Promise<void> {
    const h = this.#h;
    if (h === null) return;
    this.#h = null;
    // bm_sensor_close wakes a pending wait and waits for it to leave before freeing
    this.#lib.symbols.bm_sensor_close(h);
    if (this.#pending) await this.#pending.catch(() => -1);
  }
}
