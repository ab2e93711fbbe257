/**
 * The Sensor port over the native library (Linux fanotify + proc connector,
 * macOS EndpointSecurity). Built only by the daemon's composition root and by
 * `bm record`; everything else takes a Sensor.
 */
import { SensorBinding } from "../../ffi/binding.ts";
import type { NativeStats } from "../../ffi/binding.ts";
import { resolveLibraryPath } from "../../ffi/library.ts";
import type { BmEvent } from "./event.ts";
import { type InterestFilter, interestSpec } from "./interest.ts";
import type {
  AuthAnswer,
  FilesystemMark,
  GuardianState,
  NextOptions,
  Sensor,
  SensorStats,
} from "./sensor.ts";
import type { Clock } from "../clock.ts";

export interface NativeSensorOptions {
  /** How long an auth event may be held, ms (Linux: bm's own deadline). Default 5000. */
  authDeadlineMs?: number;
  /** The watchdog answers at deadline - margin. Default 1000. */
  deadlineMarginMs?: number;
  /** Answer of the watchdog and of a full ring: allow (default) or deny. */
  failOpen?: boolean;
  /** Hold execs for an answer (blockExecution). false = audit, execs are only reported. */
  blockExecution?: boolean;
  /** Hold opens for an answer too. */
  openAuth?: boolean;
  /** Keep open decisions out of the allow cache. */
  avoidOpenCache?: boolean;
  /** Report fork records. */
  notifyForks?: boolean;
  /** Report create/rename/unlink/close_modified records. */
  notifyFiles?: boolean;
  /**
   * "filesystem" (default): each mount's whole filesystem; "mounts": those
   * mounts only (tests).
   */
  marks?: "filesystem" | "mounts";
  /**
   * Paths to mark. None with marks "filesystem": every local filesystem,
   * following mounts as they come and go (see bm_sensor_marks).
   */
  mounts?: string[];
  /** With every filesystem marked: network filesystems too. */
  network?: boolean;
  /**
   * Tests only, and only a test build of the library accepts it: every
   * filesystem mode confined to tmpfs mounts at or under this path.
   */
  marksOnlyUnder?: string;
  /**
   * Tests only, and only a test build of the library accepts it: the agent
   * sits on every batch with an auth event this long (Sensor.debugStallMs).
   */
  debugStallMs?: number;
  /** Environment variables each exec record carries (at most 16 names). */
  envVars?: string[];
  /** Ring capacity in bytes (default 8 MiB). */
  ringBytes?: number;
  /** Let the C allow cache answer auth events the agent allowed with cache=true. */
  allowCache?: boolean;
  /** Notify-only batches may wait this long to grow (auth records wake at once). Default 2. */
  notifyLatencyMs?: number;
  /** Never hold this pid (default: this process). */
  ownPid?: number;
  /** Library path (default: library.ts resolution). */
  libraryPath?: string;
  /**
   * Linux: the guardian program (default bm_guardian beside the library), or
   * "off" for none. It answers held events when this process is dead or stopped.
   */
  guardian?: string;
}

/** The key=value text bm_sensor_open takes. */
export function sensorConfigText(o: NativeSensorOptions): string {
  const lines: string[] = [];
  const put = (k: string, v: number | string | boolean | undefined) => {
    if (v === undefined) return;
    lines.push(`${k}=${typeof v === "boolean" ? (v ? 1 : 0) : v}`);
  };
  put("auth_deadline_ms", o.authDeadlineMs);
  put("deadline_margin_ms", o.deadlineMarginMs);
  put("fail_open", o.failOpen);
  put("exec_auth", o.blockExecution);
  put("open_auth", o.openAuth);
  put("avoid_open_cache", o.avoidOpenCache);
  put("notify_forks", o.notifyForks);
  put("notify_files", o.notifyFiles);
  put("marks", o.marks);
  for (const m of o.mounts ?? []) {
    if (m.includes("\n")) throw new TypeError(`Mount path "${m}" contains a newline`);
    put("mount", m);
  }
  put("network", o.network);
  if (o.marksOnlyUnder !== undefined) {
    if (o.marksOnlyUnder.includes("\n")) {
      throw new TypeError(`Path "${o.marksOnlyUnder}" contains a newline`);
    }
    put("marks_only_under", o.marksOnlyUnder);
  }
  put("debug_stall_ms", o.debugStallMs);
  for (const v of o.envVars ?? []) {
    if (!/^[^=\s]+$/.test(v)) throw new TypeError(`Bad environment variable name "${v}"`);
    put("env", v);
  }
  put("ring_bytes", o.ringBytes);
  put("notify_latency_ms", o.notifyLatencyMs);
  if (o.guardian !== undefined) {
    if (o.guardian.includes("\n")) {
      throw new TypeError(`Guardian path "${o.guardian}" contains a newline`);
    }
    put("guardian", o.guardian);
  }
  put("own_pid", o.ownPid ?? Deno.pid);
  return lines.join("\n") + "\n";
}

/**
 * Where the next wait runs. The thread inside bm_sensor_wait is the one that
 * reads an exec's permission event (bm_core.h auth_fd), so a wait on Deno's
 * blocking pool costs one more wake-up per held exec: that thread, then this
 * one. While held events flow, the wait therefore runs on this thread (a
 * synchronous FFI call), which blocks the event loop: it is bounded to
 * SYNC_WINDOW_MS after the last batch with an auth event. One synchronous wait
 * may last until the event loop's next turn: every SYNC_BUDGET_MS the event
 * loop gets a turn (an asynchronous wait, which returns at once when records
 * are ready), also when records never stop coming: timers, signals and the
 * control socket wait at most that long. The wait is not cut into shorter
 * slices because bm_sensor_wait hands over whatever is queued when it times
 * out: 2 ms slices handed every notify record over within 2 ms whatever the
 * sensor's notify latency, so an exec's completion, its exit and the next
 * fork each woke this thread (about 3 batches per exec in a fork+exec loop
 * instead of 1, each paying the loop's fixed cost). A
 * caller with its own work in flight (a kill, a threat write) says so
 * (`busy`) and every wait is asynchronous until it is done. An idle agent
 * waits asynchronously.
 */
const SYNC_WINDOW_MS = 10;
const SYNC_BUDGET_MS = 10;

const monotonic: Clock = { now: () => performance.now() };

export class NativeSensor implements Sensor {
  readonly subsystem: string = Deno.build.os === "darwin" ? "endpoint_security" : "fanotify";
  #b: SensorBinding;
  #clock: Clock;
  #lastAuthBatch = -Infinity;
  #lastTurn = -Infinity;
  #guarded: boolean;
  readonly debugStallMs?: number;

  private constructor(b: SensorBinding, clock: Clock, guarded = false, debugStallMs?: number) {
    this.#b = b;
    this.#clock = clock;
    this.#guarded = guarded;
    if (debugStallMs !== undefined) this.debugStallMs = debugStallMs;
  }

  /** Tests and benchmarks: a sensor over an open binding (e.g. the synthetic one). */
  static over(b: SensorBinding, clock: Clock = monotonic): NativeSensor {
    return new NativeSensor(b, clock);
  }

  /**
   * Starts the OS sensor. Throws BmError (exit 1) naming what is missing
   * (not root, no fanotify permission events, no proc connector), or
   * PermissionError when the library file is not safe to load.
   */
  static open(o: NativeSensorOptions = {}): NativeSensor {
    const libraryPath = o.libraryPath ?? resolveLibraryPath();
    // the library is loaded through a descriptor, so it cannot find its own folder: say where
    const guardian = o.guardian ??
      `${libraryPath.slice(0, libraryPath.lastIndexOf("/"))}/bm_guardian`;
    const b = SensorBinding.open({
      config: sensorConfigText(Deno.build.os === "linux" ? { ...o, guardian } : o),
      libraryPath,
    });
    if (o.allowCache) b.allowCache(true);
    // the library starts a guardian with the permission group (held execs or opens)
    const guarded = Deno.build.os === "linux" && o.guardian !== "off" &&
      (o.blockExecution !== false || o.openAuth === true);
    // the library took debug_stall_ms (only a test build does), so the agent may stall
    return new NativeSensor(b, monotonic, guarded, o.debugStallMs);
  }

  async next(timeoutMs: number, options: NextOptions = {}): Promise<BmEvent[] | null> {
    const now = this.#clock.now();
    if (!options.busy && now - this.#lastTurn < SYNC_BUDGET_MS) {
      const ready = this.#b.drain();
      if (ready === null) return null;
      if (ready.length) return this.#seen(ready);
      if (now - this.#lastAuthBatch < SYNC_WINDOW_MS) {
        const left = SYNC_BUDGET_MS - (now - this.#lastTurn);
        const r = this.#b.waitSync(Math.ceil(Math.min(timeoutMs, left)));
        if (r < 0) return null;
        return r === 0 ? [] : this.#seen(this.#b.drain());
      }
    }
    const r = await this.#b.wait(timeoutMs);
    this.#lastTurn = this.#clock.now();
    if (r < 0) return null;
    if (r === 0) return [];
    return this.#seen(this.#b.drain());
  }

  #seen(batch: BmEvent[] | null): BmEvent[] | null {
    if (batch?.some((e) => e.bm?.auth_id !== undefined)) this.#lastAuthBatch = this.#clock.now();
    return batch;
  }

  respond(a: AuthAnswer): void {
    this.#b.respond(a.authId, a.allow, a.cache);
  }

  denyProcess(pid: number): void {
    this.#b.denyPid(pid, true);
  }

  denyExecutable(path: string): void {
    this.#b.denyPath(path, true);
  }

  clearAllowCache(): void {
    this.#b.clearAllowCache();
  }

  /** Turns the C allow cache on or off (off by default unless opened with allowCache). */
  setAllowCache(enabled: boolean): void {
    this.#b.allowCache(enabled);
  }

  stats(): SensorStats {
    const s = this.#b.stats();
    return {
      events: s.events,
      authByAgent: s.authByAgent,
      authByWatchdog: s.authByWatchdog,
      lateAnswers: s.lateAnswers,
      dropped: s.dropped,
      authRingFull: s.authRingFull,
      enrichmentMisses: s.enrichmentMisses,
      fastPathAnswers: s.fastPathAnswers,
      answerFailures: s.answerFailures,
      authByGuardian: s.authByGuardian,
      guardianRestarts: s.guardianRestarts,
      envMisses: s.envMisses,
      filtered: s.filtered,
      heldRecords: s.heldRecords,
      heldReleased: s.heldReleased,
      heldForgotten: s.heldForgotten,
      holdFull: s.holdFull,
    };
  }

  setInterest(filter: InterestFilter | undefined): void {
    this.#b.setInterest(filter === undefined ? null : interestSpec(filter));
  }

  filesystems(): FilesystemMark[] {
    return this.#b.marks();
  }

  guardian(): GuardianState | undefined {
    return this.#guarded ? { pid: this.#b.stats().guardianPid } : undefined;
  }

  /** Every native counter, including ownPidSkips, heldNow and queueErrors. */
  nativeStats(): NativeStats {
    return this.#b.stats();
  }

  /** Wall clock of the library (ms, sub-ms precision), the clock of `@timestamp`. */
  nowMs(): number {
    return this.#b.nowMs();
  }

  close(): Promise<void> {
    return this.#b.close();
  }
}
