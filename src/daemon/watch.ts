/**
 * Watches the config files and the rules folder and calls `onChange` once
 * per burst of changes (debounced), so an editor's write-rename-chmod
 * sequence gives one reload. Config files are watched through their folder:
 * an atomic write replaces the file, which a watch on the file would lose.
 */
export interface WatchTarget {
  /** A file: only events naming it count. A dir: anything below it counts. */
  path: string;
  kind: "file" | "dir";
  /** For a dir: only paths ending with one of these count (e.g. ".toml"). */
  suffixes?: string[];
}

export class ChangeWatcher {
  private watchers: Deno.FsWatcher[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  /** Paths that could not be watched, with the reason (health/debug). */
  readonly skipped: string[] = [];

  constructor(
    targets: WatchTarget[],
    private readonly onChange: (paths: string[]) => void,
    private readonly debounceMs = 300,
  ) {
    const byDir = new Map<string, WatchTarget[]>();
    for (const t of targets) {
      const dir = t.kind === "dir" ? t.path : t.path.slice(0, t.path.lastIndexOf("/")) || "/";
      byDir.set(dir, [...(byDir.get(dir) ?? []), t]);
    }
    for (const [dir, ts] of byDir) {
      let w: Deno.FsWatcher;
      try {
        w = Deno.watchFs(dir, { recursive: ts.some((t) => t.kind === "dir") });
      } catch (e) {
        this.skipped.push(`${dir}: ${e instanceof Error ? e.message : String(e)}`);
        continue;
      }
      this.watchers.push(w);
      this.pump(w, ts);
    }
  }

  private async pump(w: Deno.FsWatcher, targets: WatchTarget[]): Promise<void> {
    const pending = new Set<string>();
    try {
      for await (const ev of w) {
        if (ev.kind === "access" || ev.kind === "any") continue;
        for (const p of ev.paths) {
          if (targets.some((t) => matches(t, p))) {
            pending.add(p);
          }
        }
        if (pending.size > 0) this.schedule(pending);
      }
    } catch { /* closed */ }
  }

  private schedule(pending: Set<string>): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const paths = [...pending];
      pending.clear();
      if (!this.closed) this.onChange(paths);
    }, this.debounceMs);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const w of this.watchers) {
      try {
        w.close();
      } catch { /* already closed */ }
    }
    this.watchers = [];
  }
}

function matches(t: WatchTarget, p: string): boolean {
  if (t.kind === "file") return p === t.path;
  if (!p.startsWith(t.path.endsWith("/") ? t.path : t.path + "/")) return false;
  return !t.suffixes || t.suffixes.some((s) => p.endsWith(s));
}
