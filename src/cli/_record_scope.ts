import type { BmEvent } from "../sensor/event.ts";

/**
 * Keeps a recording to one process subtree: the root pid and every process
 * forked from a process already kept. The proc connector and fanotify report
 * the whole machine, so without this a recording on a shared host holds
 * everyone's activity.
 *
 * A file event can reach the ring before the fork event of its process (two
 * kernel sources); such an event is kept when its enrichment names a kept
 * parent, and the process joins the subtree then.
 */
export class RecordScope {
  #pids = new Set<number>();
  /** Events dropped because their process is outside the subtree. */
  dropped = 0;

  constructor(readonly root: number) {
    this.#pids.add(root);
  }

  /** True when `e` belongs to the subtree; updates membership from fork and exit. */
  keep(e: BmEvent): boolean {
    const pid = e.process.pid;
    const parent = e.process.parent?.pid;
    let inside = this.#pids.has(pid);
    if (!inside && parent !== undefined && this.#pids.has(parent)) {
      this.#pids.add(pid);
      inside = true;
    }
    if (!inside) {
      this.dropped++;
      return false;
    }
    if (e.event.action === "exit" && pid !== this.root) this.#pids.delete(pid);
    return true;
  }

  /** Processes currently in the subtree. */
  get size(): number {
    return this.#pids.size;
  }
}
