/**
 * The sensor library's hold table (dylib/common/hold.c) as a TypeScript
 * model, for tests that replay events through the interest filter as the
 * agent would get them.
 */
import type { BmEvent } from "./event.ts";
import {
  type ExeTracker,
  interestDecision,
  type InterestFacts,
  type InterestFilter,
} from "./interest.ts";

/**
 * The library's hold table (hold.c) as a model, for tests that replay events
 * through the filter: `offer` takes every event in order and returns the
 * events the agent gets for it (held ones first, before an exec of their
 * file; none when the event itself is dropped or held).
 */
export class HeldEvents {
  /** Held events by file path, each with its expiry (event time + hold ms). */
  private readonly held = new Map<string, { ev: BmEvent; until: number }[]>();
  private readonly writers = new Set<number>();

  constructor(
    private readonly filter: InterestFilter | undefined,
    private readonly facts: InterestFacts = {},
  ) {}

  offer(ev: BmEvent): BmEvent[] {
    const file = (ev as { file?: { path?: string } }).file;
    const action = ev.event.action;
    if (action === "unlink" && file?.path !== undefined) this.held.delete(file.path);
    const out: BmEvent[] = [];
    if (action === "exec") {
      const pf = ev.process;
      for (const p of new Set([pf.executable, file?.path, pf.script])) {
        if (p === undefined || p === "") continue;
        for (const h of this.held.get(p) ?? []) {
          if (h.until > ev["@timestamp"]) {
            out.push(
              {
                ...h.ev,
                file: { ...(h.ev as { file: object }).file, path: p },
                bm: { ...h.ev.bm, late: true },
              } as BmEvent,
            );
          }
        }
        this.held.delete(p);
      }
    }
    const d = interestDecision(this.filter, ev, this.facts);
    if (typeof d === "number" && file?.path !== undefined) {
      const list = this.held.get(file.path) ?? [];
      const same = list.findIndex((h) =>
        h.ev.process.pid === ev.process.pid && h.ev.process.start === ev.process.start &&
        h.ev.event.action === action
      );
      const entry = { ev, until: ev["@timestamp"] + d };
      if (same >= 0) list[same] = entry;
      else list.push(entry);
      this.held.set(file.path, list);
      this.writers.add(ev.process.pid);
      return out;
    }
    if (d === "drop") return out;
    const pid = ev.process.pid;
    if (
      (action === "exit" && this.writers.delete(pid)) ||
      (action === "exec" && this.writers.has(pid))
    ) {
      out.push({ ...ev, bm: { ...ev.bm, held_writes: true } });
    } else out.push(ev);
    return out;
  }
}

/**
 * The events the agent gets for `events` through filter and hold, in order;
 * `exes` learns each executable as the agent reads it (and answers the
 * filter's name and executable questions unless `facts` is given).
 */
export function deliver(
  filter: InterestFilter | undefined,
  events: readonly BmEvent[],
  exes: ExeTracker,
  facts: InterestFacts = exes,
): BmEvent[] {
  const hold = new HeldEvents(filter, facts);
  const out: BmEvent[] = [];
  for (const e of events) {
    for (const k of hold.offer(e)) {
      exes.observe(k);
      out.push(k);
    }
  }
  return out;
}
