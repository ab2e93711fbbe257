/**
 * Counts events per process for `bm diagnostic hot-event-sources` (the FAQ
 * case "CPU went up after enabling behavior monitoring"): which executables,
 * and which of their pids, produce the most events. Memory is bounded: past
 * `maxKeys` executables, new ones are counted under "(other)".
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

export class HotSources {
  private readonly byExe = new Map<string, Entry>();
  total = 0;
  constructor(private readonly maxKeys = 4096) {}

  add(e: BmEvent): void {
    this.total++;
    let exe = e.process.executable ?? `(pid ${e.process.pid})`;
    let entry = this.byExe.get(exe);
    if (!entry) {
      if (this.byExe.size >= this.maxKeys) exe = OTHER;
      entry = this.byExe.get(exe);
      if (!entry) {
        entry = { events: 0, actions: new Map(), pids: new Map() };
        this.byExe.set(exe, entry);
      }
    }
    entry.events++;
    const a = e.event.action;
    entry.actions.set(a, (entry.actions.get(a) ?? 0) + 1);
    const pid = e.process.pid;
    if (entry.pids.has(pid) || entry.pids.size < MAX_PIDS) {
      entry.pids.set(pid, (entry.pids.get(pid) ?? 0) + 1);
    }
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
