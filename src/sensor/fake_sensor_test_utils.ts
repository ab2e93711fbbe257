/**
 * A Sensor for unit tests of the layers above: the test pushes events, the
 * code under test pulls them with next() and answers; the fake records every
 * answer and table push so the test can assert on them.
 */
import type { BmEvent } from "./event.ts";
import {
  type AuthAnswer,
  emptyStats,
  type NextOptions,
  type Sensor,
  type SensorStats,
} from "./sensor.ts";

export class FakeSensor implements Sensor {
  readonly subsystem = "fake";
  /** Every respond() call, in order (including late ones). */
  readonly responses: AuthAnswer[] = [];
  readonly deniedPids: number[] = [];
  readonly deniedExecutables: string[] = [];
  allowCacheClears = 0;
  /** The options of every next() call, in order. */
  readonly nextOptions: NextOptions[] = [];
  closed = false;
  #queue: BmEvent[] = [];
  #ended = false;
  #waiter: (() => void) | null = null;
  #pendingAuth = new Set<number>();
  #stats = emptyStats();

  /** Queues events; auth ones (bm.auth_id set) wait for an answer. */
  push(...events: BmEvent[]): void {
    for (const e of events) {
      if (e.bm?.auth_id !== undefined) this.#pendingAuth.add(e.bm.auth_id);
      this.#queue.push(e);
    }
    this.#wake();
  }

  /** After the queue drains, next() returns null. */
  end(): void {
    this.#ended = true;
    this.#wake();
  }

  /** Auth ids not answered yet. */
  get pendingAuth(): number[] {
    return [...this.#pendingAuth];
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  async next(timeoutMs: number, options: NextOptions = {}): Promise<BmEvent[] | null> {
    this.nextOptions.push(options);
    if (!this.#queue.length && !this.#ended && !this.closed) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
        timer = setTimeout(resolve, Math.max(0, timeoutMs));
      });
      clearTimeout(timer);
      this.#waiter = null;
    }
    if (this.closed) return null;
    if (!this.#queue.length) return this.#ended ? null : [];
    const batch = this.#queue;
    this.#queue = [];
    this.#stats.events += batch.length;
    return batch;
  }

  respond(answer: AuthAnswer): void {
    this.responses.push(answer);
    if (this.#pendingAuth.delete(answer.authId)) this.#stats.authByAgent++;
    else this.#stats.lateAnswers++;
  }

  denyProcess(pid: number): void {
    this.deniedPids.push(pid);
  }

  denyExecutable(path: string): void {
    this.deniedExecutables.push(path);
  }

  clearAllowCache(): void {
    this.allowCacheClears++;
  }

  stats(): SensorStats {
    return { ...this.#stats };
  }

  close(): Promise<void> {
    this.closed = true;
    this.#wake();
    return Promise.resolve();
  }
}
