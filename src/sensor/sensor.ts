/**
 * The Sensor port: where events come from and where auth answers go.
 *
 * Three implementations: the native sensor (`native_sensor.ts`, Deno FFI to
 * the C library), the replay sensor (`replay_sensor.ts`, a JSONL trace) and a
 * fake for unit tests (`fake_sensor_test_utils.ts`). Only the daemon's composition root
 * builds the native one.
 */
import type { BmEvent } from "./event.ts";
import type { InterestFilter } from "./interest.ts";

/** Counters every sensor keeps (invariant 2: no silent loss). */
export interface SensorStats {
  /** Records delivered to the agent. */
  events: number;
  /** Auth events answered by the agent in time. */
  authByAgent: number;
  /** Auth events answered by the native watchdog with the fail-open default. */
  authByWatchdog: number;
  /** Answers from the agent that came after the watchdog answered. */
  lateAnswers: number;
  /** Notify events dropped because the ring was full. */
  dropped: number;
  /** Auth events answered at once because the ring was full. */
  authRingFull: number;
  /** /proc reads that lost the race with a fast exit. */
  enrichmentMisses: number;
  /** Auth events answered in C from the allow cache or deny tables. */
  fastPathAnswers: number;
  /** Answers the OS refused even when tried twice (the event may still wait). */
  answerFailures: number;
  /** Auth events the guardian process answered: the agent was dead, stopped or late. */
  authByGuardian: number;
  /** Times the guardian was found dead and started again. */
  guardianRestarts: number;
  /** Execs whose environment could not be read whole (process gone, or longer than 64 KiB). */
  envMisses: number;
  /** Notify records the interest filter dropped before they reached the agent (no rule can use them). */
  filtered: number;
  /** Records the interest filter held until an exec of their file (a `hold` pattern). */
  heldRecords: number;
  /** Held records sent (late) before an exec of their file. */
  heldReleased: number;
  /** Held records forgotten: their file was deleted or their rule's span passed. */
  heldForgotten: number;
  /** Records a `hold` pattern passed whole because the hold table was full. */
  holdFull: number;
}

/** A filesystem the sensor marks, or does not and why (Linux fanotify marks). */
export interface FilesystemMark {
  marked: boolean;
  mountPoint: string;
  type: string;
  /** Why it is not (fully) marked: skipped, or the mark the kernel refused and its errno text. */
  reason?: string;
}

/** The process that answers held events when the agent cannot (Linux). */
export interface GuardianState {
  /** Its pid; 0 while it is not running (being restarted, or it cannot start). */
  pid: number;
}

export interface AuthAnswer {
  authId: number;
  allow: boolean;
  /** Let the OS (or the allow cache) remember an allow for this file. */
  cache: boolean;
}

export interface NextOptions {
  busy?: boolean;
}

export interface Sensor {
  /** Which OS facility feeds it: "fanotify", "endpoint_security", "replay", "fake". */
  readonly subsystem: string;
  /**
   * Tests of the watchdog and guardian only: the agent sits on every batch
   * with an auth event this long. Only a native sensor on the test build of
   * the library has one (debug_stall_ms, bm_sensor_testing.h): the shipped
   * library refuses the key, so a release agent cannot be made to stall.
   */
  readonly debugStallMs?: number;
  /**
   * The next batch of events, waiting at most `timeoutMs`. An empty array
   * means the wait timed out; `null` means the source is finished or closed.
   * `options.busy`: the caller has asynchronous work in flight (a kill, a
   * threat write), so the wait must let the event loop run (the native sensor
   * otherwise may wait on the JS thread while held events flow).
   */
  next(timeoutMs: number, options?: NextOptions): Promise<BmEvent[] | null>;
  /** Answers one auth event. Exactly one answer counts; later ones are ignored and counted. */
  respond(answer: AuthAnswer): void;
  /** Deny every further exec by this process (and, natively, its new children). */
  denyProcess(pid: number): void;
  /** Deny every further exec of this file (`path` as events carry it: src/sensor/path_codec.ts). */
  denyExecutable(path: string): void;
  /** Forget cached allow decisions (rules or settings changed). */
  clearAllowCache(): void;
  stats(): SensorStats;
  /** The guardian, for sensors that hold events with one (Linux native); else undefined. */
  guardian?(): GuardianState | undefined;
  /**
   * Installs the interest filter (`interest.ts`): events it rules out are
   * dropped at the source and counted in `filtered`; undefined removes it.
   * Absent where the source cannot filter (replay, fakes): they deliver everything.
   */
  setInterest?(filter: InterestFilter | undefined): void;
  /** What the sensor marks (Linux native sensor); absent where marks do not apply. */
  filesystems?(): FilesystemMark[];
  close(): Promise<void>;
}

export function emptyStats(): SensorStats {
  return {
    events: 0,
    authByAgent: 0,
    authByWatchdog: 0,
    lateAnswers: 0,
    dropped: 0,
    authRingFull: 0,
    enrichmentMisses: 0,
    fastPathAnswers: 0,
    answerFailures: 0,
    authByGuardian: 0,
    guardianRestarts: 0,
    envMisses: 0,
    filtered: 0,
    heldRecords: 0,
    heldReleased: 0,
    heldForgotten: 0,
    holdFull: 0,
  };
}
