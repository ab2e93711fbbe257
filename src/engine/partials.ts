/**
 * Partial sequences: rules whose first steps matched and that wait for the
 * next. Each is registered under the relation keys its next step can arrive
 * by (see `register`), queued by age, bounded (the oldest are evicted and
 * counted) and expired past its deadline.
 */
import type { BmEvent } from "../sensor/event.ts";
import type { Proc } from "./process_table.ts";
import type { RuleOrder } from "./event_index.ts";

const MAX_DEPTH = 64;

/** An in-flight sequence. Kept small: thousands may wait at once (write, then exec). */
export interface PartialMatch {
  rt: RuleOrder;
  next: number;
  deadline: number;
  procs: Proc[];
  /** Per matched step: its event, or its events for a `count` step. */
  events: (BmEvent | BmEvent[])[];
  /** Captured values per step; undefined while no step captured anything. */
  refs: (unknown[] | undefined)[] | undefined;
  count: number;
  distinct: Set<unknown> | undefined;
  stamp: number;
  lastEventNo: number;
  dead: boolean;
  /** Where it is registered: the first bucket inline, the rest (lineage) flat as map, key, ... */
  regMap: Map<string, PartialMatch[]> | undefined;
  regKey: string;
  regMore: (Map<string, PartialMatch[]> | string)[] | undefined;
  /** Key in `rt.ident` while waiting for step 2. */
  identKey: string | undefined;
}

export class Partials {
  #queue: PartialMatch[] = [];
  #head = 0;
  /** Partials neither completed, dropped nor expired. */
  live = 0;
  expired = 0;
  evicted = 0;

  constructor(public max: number) {}

  /** Forgets every partial (the rule index was rebuilt). */
  clear(): void {
    this.#queue = [];
    this.#head = 0;
    this.live = 0;
  }

  /** Queues and registers a new partial, evicting the oldest past `max`. */
  add(p: PartialMatch): void {
    while (this.live >= this.max && this.#head < this.#queue.length) {
      const old = this.#queue[this.#head++]!;
      if (!old.dead) {
        this.dropPartial(old);
        this.evicted++;
      }
    }
    this.#queue.push(p);
    this.live++;
    this.register(p);
  }

  /**
   * Registers `p` where its next step can arrive: under the entity id its
   * relation refers to (the parent's for `sibling`; for `lineage` every
   * ancestor too, and `down` for descendants).
   */
  register(p: PartialMatch): void {
    const step = p.rt.steps[p.next]!;
    const r = p.procs[step.of]!;
    const add = (map: Map<string, PartialMatch[]>, key: string) => {
      let b = map.get(key);
      if (b === undefined) map.set(key, b = []);
      b.push(p);
      if (p.regMap === undefined) {
        p.regMap = map;
        p.regKey = key;
      } else (p.regMore ??= []).push(map, key);
    };
    for (const ri of p.rt.waiters[p.next]!) {
      const m = ri.m;
      switch (ri.rel) {
        case "same":
        case "child":
        case "descendant":
          add(m, r.entity_id);
          break;
        case "sibling":
          if (r.parent !== undefined) add(m, r.parent.entity_id);
          break;
        case "lineage": {
          // Up: the event's process is `r` or an ancestor of it. Down: `r` is an ancestor of it.
          add(m, r.entity_id);
          add(ri.down!, r.entity_id);
          for (let a = r.parent, n = 0; a !== undefined && n < MAX_DEPTH; a = a.parent, n++) {
            add(m, a.entity_id);
          }
          break;
        }
      }
    }
    // Exactly as long as it is: grown by push, the array kept about twice the
    // slots it used, for as long as the partial waits (minutes, thousands at once).
    if (p.regMore !== undefined) p.regMore = p.regMore.slice();
  }

  /** Removes `p` from its rule's waiting-for-step-2 identity map. */
  forget(p: PartialMatch): void {
    if (p.identKey === undefined) return;
    if (p.rt.ident.get(p.identKey) === p) p.rt.ident.delete(p.identKey);
    p.identKey = undefined;
  }

  /** Removes `p` from every bucket it is registered in. */
  unregister(p: PartialMatch): void {
    if (p.regMap === undefined) return;
    unlist(p, p.regMap, p.regKey);
    const more = p.regMore;
    if (more !== undefined) {
      for (let i = 0; i < more.length; i += 2) {
        unlist(p, more[i] as Map<string, PartialMatch[]>, more[i + 1] as string);
      }
    }
    p.regMap = undefined;
    p.regMore = undefined;
  }

  /** Ends `p` (completed, replaced or evicted): it no longer waits for anything. */
  dropPartial(p: PartialMatch): void {
    if (p.dead) return;
    p.dead = true;
    this.forget(p);
    this.live--;
    this.unregister(p);
  }

  /** Drops `p` because its deadline passed. */
  expire(p: PartialMatch): void {
    this.dropPartial(p);
    this.expired++;
  }

  /** Expires the queue's head past its deadline; compacts the queue now and then. */
  sweep(now: number): void {
    const q = this.#queue;
    while (this.#head < q.length) {
      const p = q[this.#head]!;
      if (!p.dead && now <= p.deadline) break;
      this.#head++;
      if (!p.dead) this.expire(p);
    }
    if (this.#head > 4096 && this.#head * 2 > q.length) {
      this.#queue = q.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Live partials per rule id. */
  countsByRule(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = this.#head; i < this.#queue.length; i++) {
      const p = this.#queue[i]!;
      if (!p.dead) out[p.rt.rule.id] = (out[p.rt.rule.id] ?? 0) + 1;
    }
    return out;
  }
}

function unlist(p: PartialMatch, m: Map<string, PartialMatch[]>, key: string): void {
  const b = m.get(key);
  if (b === undefined) return;
  const i = b.lastIndexOf(p);
  if (i >= 0) b.splice(i, 1);
  if (b.length === 0) m.delete(key);
}
