/**
 * Burst counting on a rule's first step (`count > 1`): how many matching
 * events (or distinct values) one group saw within the rule's span.
 */
import type { BmEvent } from "../sensor/event.ts";
import type { MatchCtx } from "./fields.ts";
import type { CompiledStep } from "./rule_set.ts";

interface Counter {
  times: number[];
  /** Distinct value -> last time seen; for `distinct` steps. */
  distinct: Map<unknown, number> | undefined;
  events: BmEvent[];
  last: number;
}

/**
 * Groups counted at once per counted step. Past it the oldest group is
 * dropped (its count starts over if it comes back): a flood of processes each
 * matching a counted step keeps a bounded map, not one counter per process
 * for the whole span.
 */
export const MAX_GROUPS = 4096;

/** The burst counters of one first step, by group key. */
export class Bursts {
  readonly #counters = new Map<string, Counter>();
  /** Groups dropped because MAX_GROUPS were counted at once. */
  evicted = 0;

  constructor(private readonly step: CompiledStep, private readonly spanMs: number) {}

  /**
   * Counts one matching event for group `key`. Returns the burst's events
   * (the newest `count`) when the burst is complete, and starts over.
   */
  add(key: string, ev: BmEvent, now: number, ctx: MatchCtx): BmEvent[] | undefined {
    const step = this.step;
    const span = this.spanMs;
    let c = this.#counters.get(key);
    if (c === undefined) {
      if (this.#counters.size >= MAX_GROUPS) {
        // Map order is creation order: the first key is the oldest group.
        this.#counters.delete(this.#counters.keys().next().value!);
        this.evicted++;
      }
      c = { times: [], distinct: step.distinct ? new Map() : undefined, events: [], last: now };
      this.#counters.set(key, c);
    }
    c.last = now;
    let n: number;
    if (c.distinct !== undefined) {
      const v = step.distinct!(ctx);
      if (v === undefined || v === null) return undefined;
      const k = Array.isArray(v) ? v.join("\u0000") : v;
      for (const [dv, t] of c.distinct) if (now - t > span) c.distinct.delete(dv);
      c.distinct.delete(k);
      c.distinct.set(k, now);
      n = c.distinct.size;
    } else {
      c.times.push(now);
      while (c.times.length > 0 && now - c.times[0]! > span) c.times.shift();
      n = c.times.length;
    }
    c.events.push(ev);
    while (c.events.length > 0 && now - c.events[0]!["@timestamp"] > span) c.events.shift();
    if (c.events.length > step.count) c.events.splice(0, c.events.length - step.count);
    if (n < step.count) return undefined;
    this.#counters.delete(key);
    return c.events;
  }

  /** Drops groups idle for longer than the span. */
  sweep(now: number): void {
    for (const [key, c] of this.#counters) {
      if (now - c.last > this.spanMs) this.#counters.delete(key);
    }
  }
}
