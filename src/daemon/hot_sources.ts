/**
 * Counts events per process for `bm diagnostic hot-event-sources` (the FAQ
 * case "CPU went up after enabling behavior monitoring"): which executables,
 * and which of their pids, produce the most events. Memory is bounded: past
 * `maxKeys` executables, new ones are counted under "(other)".
 *
 * An event that names no executable (a Linux fork or exit record carries
 * only pids) counts for the image its pid last ran, as far as these events
 * said (a fork: its parent's); only a pid never seen with one counts under
 * "(pid N)". Every event is on the agent's hot path: no string is built for
 * it, and a known pid costs one look-up by number.
 */
import type { BmEvent } from "../sensor/event.ts";

export interface HotSource {
  executable: string;
  events: number;
  /** Events per action, e.g. {"exec": 3, "close_modified": 120}. */
  actions: Record<string, number>;
  /** The busiest pids of this executable (at most 5), with their counts. */
  pids: { pid: number; events: number }[];
}

interface Entry {
  events: number;
  actions: Map<string, number>;
  pids: Map<number, number>;
}

const OTHER = "(other)";
const MAX_PIDS = 64;
/** Pids whose image is remembered at most; past it the memory starts over (only attribution is lost). */
const MAX_IMAGES = 65_536;

export class HotSources {
  private readonly byExe = new Map<string, Entry>();
  /** The entry of the image each live pid runs (exit forgets it). */
  private readonly image = new Map<number, Entry>();
  total = 0;
  constructor(private readonly maxKeys = 4096) {}

  add(e: BmEvent): void {
    this.total++;
    const pf = e.process;
    const pid = pf.pid;
    const action = e.event.action;
    let entry: Entry | undefined;
    const exe = pf.executable;
    if (exe !== undefined) {
      entry = this.byExe.get(exe) ?? this.entryFor(exe);
      if (this.image.get(pid) !== entry) this.remember(pid, entry);
    } else {
      entry = this.image.get(pid);
      if (entry === undefined && action === "fork" && pf.parent !== undefined) {
        entry = this.image.get(pf.parent.pid);
        if (entry !== undefined) this.remember(pid, entry);
      }
      entry ??= this.entryFor(`(pid ${pid})`);
    }
    entry.events++;
    entry.actions.set(action, (entry.actions.get(action) ?? 0) + 1);
    const pids = entry.pids;
    const n = pids.get(pid);
    if (n !== undefined) pids.set(pid, n + 1);
    else if (pids.size < MAX_PIDS) pids.set(pid, 1);
    if (action === "exit") this.image.delete(pid);
  }

  private entryFor(exe: string): Entry {
    let key = exe;
    let entry = this.byExe.get(key);
    if (entry !== undefined) return entry;
    if (this.byExe.size >= this.maxKeys) {
      key = OTHER;
      entry = this.byExe.get(key);
      if (entry !== undefined) return entry;
    }
    entry = { events: 0, actions: new Map(), pids: new Map() };
    this.byExe.set(key, entry);
    return entry;
  }

  private remember(pid: number, entry: Entry): void {
    if (this.image.size >= MAX_IMAGES) this.image.clear();
    this.image.set(pid, entry);
  }

  /** The `limit` busiest executables, most events first. */
  top(limit = 20): HotSource[] {
    return [...this.byExe.entries()]
      .sort((a, b) => b[1].events - a[1].events || a[0].localeCompare(b[0]))
      .slice(0, limit)
      .map(([executable, e]) => ({
        executable,
        events: e.events,
        actions: Object.fromEntries([...e.actions.entries()].sort((a, b) => b[1] - a[1])),
        pids: [...e.pids.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5)
          .map(([pid, events]) => ({ pid, events })),
      }));
  }
}
