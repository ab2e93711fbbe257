import type { BmEvent } from "../sensor/event.ts";

/** Exited pids remembered for their late file events (oldest forgotten first). */
const EXITED_MAX = 4096;

/**
 * Keeps a recording to one process subtree: the root pid and every process
 * forked from a process already kept. The proc connector and fanotify report
 * the whole machine, so without this a recording on a shared host holds
 * everyone's activity.
 *
 * The two kernel sources are read separately, so their records interleave
 * late either way. A file event can reach the ring before the fork event of
 * its process: it is kept when its enrichment names a kept parent, and the
 * process joins the subtree then. A file event can also reach it after the
 * exit of its process (a short-lived `mv` whose rename is read once it is
 * gone, without enrichment): an exited pid stays in the subtree until a fork
 * outside the subtree reuses it, or until EXITED_MAX later exits.
 */
export class RecordScope {
  #pids = new Set<number>();
  /** Kept processes that exited, in exit order. */
  #exited = new Set<number>();
  /** Events dropped because their process is outside the subtree. */
  dropped = 0;

  constructor(readonly root: number) {
    this.#pids.add(root);
  }

  /** True when `e` belongs to the subtree; updates membership from fork and exit. */
  keep(e: BmEvent): boolean {
    const pid = e.process.pid;
    const parent = e.process.parent?.pid;
    const parentKept = parent !== undefined && this.#pids.has(parent);
    // The pid of an exited member, reused: outside the subtree, or a new member.
    if (e.event.action === "fork" && this.#exited.delete(pid) && parentKept) this.#pids.add(pid);
    let inside = this.#pids.has(pid) || this.#exited.has(pid);
    if (!inside && parentKept) {
      this.#pids.add(pid);
      inside = true;
    }
    if (!inside) {
      this.dropped++;
      return false;
    }
    if (e.event.action === "exit" && pid !== this.root && this.#pids.delete(pid)) {
      this.#exited.add(pid);
      if (this.#exited.size > EXITED_MAX) {
        const oldest = this.#exited.values().next().value;
        if (oldest !== undefined) this.#exited.delete(oldest);
      }
    }
    return true;
  }

  /** Processes currently in the subtree (exited ones not counted). */
  get size(): number {
    return this.#pids.size;
  }
}
