/**
 * The kill action: SIGKILL a process or its whole tree, children first,
 * never hitting a reused pid.
 *
 * Every pid is checked against a start time before each signal: the target
 * against the start time the engine recorded, each descendant against the
 * start time read when it was found. The tree is frozen first (SIGSTOP, top
 * down, re-reading /proc/PID/task/TID/children until no new child appears),
 * so nothing forks while it is being killed; then SIGKILL goes to the deepest
 * processes first and the target last. The window left between a start-time
 * check and its signal is microseconds (Linux pidfd_send_signal would close
 * it; Deno has no binding for it).
 */
import { BmError } from "../errors.ts";
import type { ProcessInspector } from "./process_inspector.ts";

export interface KillTarget {
  pid: number;
  /** Start time the engine recorded, ms since epoch. */
  start: number;
  /** Kill every descendant too. */
  tree: boolean;
}

export interface KillOptions {
  inspector: ProcessInspector;
  /**
   * How far the live start time may differ from the recorded one (default
   * 1000 ms): /proc start times have 10 ms ticks and boot time may be read
   * in whole seconds by the sensor.
   */
  toleranceMs?: number;
  /** Sends a signal; tests may wrap it. Default Deno.kill. */
  signal?: (pid: number, sig: Deno.Signal) => void;
  /** Never signalled, nor its ancestors, nor any tree containing it (default: this process). */
  selfPid?: number;
}

export interface KillResult {
  /** Pids sent SIGKILL, in the order sent (target last). */
  killed: number[];
  /** True when the target had already exited (nothing to do). */
  gone: boolean;
}

/** Refused because the target is not the process the verdict meant, or must not be killed. */
export class KillRefused extends BmError {}

export function killProcess(target: KillTarget, options: KillOptions): KillResult {
  const { inspector } = options;
  const tol = options.toleranceMs ?? 1000;
  const signal = options.signal ?? ((pid, sig) => Deno.kill(pid, sig));
  const self = options.selfPid ?? Deno.pid;
  const { pid } = target;

  if (!Number.isInteger(pid) || pid <= 1) throw new KillRefused(`Refusing to kill pid ${pid}`);
  if (pid === self) throw new KillRefused(`Refusing to kill pid ${pid}: it is bm itself`);
  // An ancestor of bm is a shell, sshd or a container's init that a score merely passed through.
  for (
    let p = inspector.info(self)?.ppid, n = 0;
    p !== undefined && p > 1 && n < 256;
    p = inspector.info(p)?.ppid, n++
  ) {
    if (p === pid) throw new KillRefused(`Refusing to kill pid ${pid}: it is an ancestor of bm`);
  }
  const live = inspector.info(pid);
  if (!live || live.state === "Z" || live.state === "X") return { killed: [], gone: true };
  if (Math.abs(live.start - target.start) > tol) {
    throw new KillRefused(
      `Refusing to kill pid ${pid}: it started at ${iso(live.start)}, not ${
        iso(target.start)
      } (pid reused)`,
    );
  }

  /** pid -> start time we verified it with; insertion order is top-down. */
  const starts = new Map<number, number>([[pid, live.start]]);
  /** Signals `p` only if it is still the process we recorded; false if it is gone. */
  const send = (p: number, sig: Deno.Signal): boolean => {
    const now = inspector.info(p);
    if (!now || now.state === "Z" || Math.abs(now.start - starts.get(p)!) > (p === pid ? tol : 0)) {
      return false;
    }
    try {
      signal(p, sig);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
  };

  if (!send(pid, "SIGSTOP")) return { killed: [], gone: true };
  if (target.tree) {
    let frontier = [pid];
    while (frontier.length > 0) {
      const found: number[] = [];
      for (const p of [...starts.keys()]) {
        for (const c of inspector.children(p)) {
          if (starts.has(c)) continue;
          const info = inspector.info(c);
          if (!info || info.ppid !== p) continue; // exited and maybe reused meanwhile
          if (c === self || c <= 1) {
            for (const q of starts.keys()) send(q, "SIGCONT");
            throw new KillRefused(`Refusing to kill the tree of pid ${pid}: it contains bm itself`);
          }
          starts.set(c, info.start);
          send(c, "SIGSTOP");
          found.push(c);
        }
      }
      frontier = found;
    }
  }

  const killed: number[] = [];
  const order = [...starts.keys()].reverse(); // deepest first, target last
  for (const p of order) if (send(p, "SIGKILL")) killed.push(p);
  return { killed, gone: false };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
