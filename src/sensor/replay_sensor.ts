/**
 * A Sensor that reads a JSONL trace (trace.ts codec). Bad lines are skipped
 * and counted (`problems` lists each with its line and reason) so one broken
 * line never hides the rest of a trace. Answers are recorded, not enforced.
 */
import type { BmEvent } from "./event.ts";
import { type AuthAnswer, emptyStats, type Sensor, type SensorStats } from "./sensor.ts";
import { parseTraceBytes, type TraceProblem } from "./trace.ts";
import { BmError } from "../errors.ts";

export interface ReplayOptions {
  /** Events per next() batch (default 1000). */
  batchSize?: number;
}

export class ReplaySensor implements Sensor {
  readonly subsystem = "replay";
  readonly responses: AuthAnswer[] = [];
  readonly deniedPids: number[] = [];
  readonly deniedExecutables: string[] = [];
  #events: BmEvent[];
  #pos = 0;
  #batch: number;
  #closed = false;
  #stats = emptyStats();

  constructor(
    events: BmEvent[],
    readonly problems: TraceProblem[] = [],
    readonly file = "<trace>",
    o: ReplayOptions = {},
  ) {
    this.#events = events;
    this.#batch = Math.max(1, o.batchSize ?? 1000);
  }

  /** Reads and parses a trace file; throws BmError when it cannot be read or is not a regular file. */
  static async open(file: string, o: ReplayOptions = {}): Promise<ReplaySensor> {
    let bytes: Uint8Array;
    try {
      if (!(await Deno.stat(file)).isFile) throw new Error("not a regular file");
      bytes = await Deno.readFile(file);
    } catch (err) {
      throw new BmError(`Cannot read trace "${file}": ${(err as Error).message}`);
    }
    const { events, problems } = parseTraceBytes(bytes, file);
    return new ReplaySensor(events, problems, file, o);
  }

  /** Lines skipped because they were not valid events. */
  get skipped(): number {
    return this.problems.length;
  }

  next(_timeoutMs: number): Promise<BmEvent[] | null> {
    if (this.#closed || this.#pos >= this.#events.length) return Promise.resolve(null);
    const batch = this.#events.slice(this.#pos, this.#pos + this.#batch);
    this.#pos += batch.length;
    this.#stats.events += batch.length;
    return Promise.resolve(batch);
  }

  respond(answer: AuthAnswer): void {
    this.responses.push(answer);
    this.#stats.authByAgent++;
  }

  denyProcess(pid: number): void {
    this.deniedPids.push(pid);
  }

  denyExecutable(path: string): void {
    this.deniedExecutables.push(path);
  }

  clearAllowCache(): void {}

  stats(): SensorStats {
    return { ...this.#stats };
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}
