/**
 * What the kill action needs to know about live processes: parent, state,
 * start time and children. Linux reads /proc here (LinuxProcessInspector);
 * macOS asks the native library (NativeProcessInspector: bm_proc_info and
 * bm_proc_children, which use libproc's proc_pidinfo PROC_PIDTBSDINFO for
 * pbi_ppid, pbi_status and pbi_start_tvsec/usec, and proc_listchildpids), so
 * struct layouts come from C compiled against Apple's headers, not from
 * offsets in TypeScript. Other systems refuse rather than guess.
 */
import * as fs from "node:fs";
import { BmError } from "../errors.ts";
import { NativeProcessInspector } from "./native_process_inspector.ts";

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** One letter from /proc/PID/stat: R, S, D, T, Z, ... */
  state: string;
  /** Start time, ms since epoch. */
  start: number;
}

export interface ProcessInspector {
  /** Undefined when no such process exists (any more). */
  info(pid: number): ProcessInfo | undefined;
  /** Direct children, as of now. */
  children(pid: number): number[];
}

/** Linux USER_HZ: 100 on every architecture Linux ships today (the ABI fixes it). */
export const CLK_TCK = 100;

/** Parses /proc/PID/stat: the command name may hold spaces and parentheses. */
export function parseStat(text: string): { ppid: number; state: string; startTicks: number } {
  const close = text.lastIndexOf(")");
  const rest = text.slice(close + 2).split(" ");
  // Fields after the name start at field 3 (state); starttime is field 22.
  const state = rest[0] ?? "?";
  const ppid = Number(rest[1]);
  const startTicks = Number(rest[19]);
  if (close < 0 || !Number.isFinite(ppid) || !Number.isFinite(startTicks)) {
    throw new Error(`Cannot parse /proc stat line "${text.slice(0, 80)}"`);
  }
  return { ppid, state, startTicks };
}

export class LinuxProcessInspector implements ProcessInspector {
  /**
   * Boot time in ms since epoch, with sub-second precision: now minus
   * /proc/uptime. (/proc/stat btime is whole seconds; the native sensor may use
   * it, so callers compare start times with a tolerance of at least 1 s.)
   */
  readonly bootMs: number;

  constructor(private readonly proc = "/proc") {
    const up = Number(fs.readFileSync(`${proc}/uptime`, "utf8").split(" ")[0]);
    this.bootMs = Date.now() - up * 1000;
  }

  info(pid: number): ProcessInfo | undefined {
    let text: string;
    try {
      text = fs.readFileSync(`${this.proc}/${pid}/stat`, "utf8");
    } catch {
      return undefined;
    }
    const s = parseStat(text);
    return {
      pid,
      ppid: s.ppid,
      state: s.state,
      start: Math.round(this.bootMs + (s.startTicks * 1000) / CLK_TCK),
    };
  }

  children(pid: number): number[] {
    const out = new Set<number>();
    let tasks: string[];
    try {
      tasks = fs.readdirSync(`${this.proc}/${pid}/task`);
    } catch {
      return [];
    }
    for (const tid of tasks) {
      let text: string;
      try {
        text = fs.readFileSync(`${this.proc}/${pid}/task/${tid}/children`, "utf8");
      } catch {
        continue; // thread exited meanwhile
      }
      for (const w of text.split(/\s+/)) if (w) out.add(Number(w));
    }
    return [...out];
  }
}

export function systemProcessInspector(os: string = Deno.build.os): ProcessInspector {
  if (os === "linux") return new LinuxProcessInspector();
  if (os === "darwin") return new NativeProcessInspector();
  throw new BmError(`Cannot inspect processes on "${os}": unsupported system`);
}
