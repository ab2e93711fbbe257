/**
 * Reads the running processes from /proc (Linux) so that processes older
 * than the agent have parents in the process table. The only I/O of the
 * engine's folder; the Engine itself takes the SeedProcess[] (`seed()`).
 *
 * Start times follow the native sensor: boot wall time plus the stat
 * `starttime` ticks (USER_HZ = 100), so entity ids match to within the
 * engine's start tolerance.
 */
import type { SeedProcess } from "./process_table.ts";
import { readLinkBytes } from "../../ffi/libc_fs.ts";
import { bytesToPath } from "../sensor/path_codec.ts";

const USER_HZ = 100;

/** A link's target in the text form of path_codec.ts, as the sensor gives paths (not always UTF-8). */
function readLinkPath(path: string): string {
  return bytesToPath(readLinkBytes(path));
}

/** Parses /proc/PID/stat: ppid and starttime (ticks since boot). */
export function parseStat(text: string): { ppid: number; startTicks: number } | undefined {
  // comm may contain spaces and parentheses: fields start after the last ")".
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const rest = text.slice(close + 2).split(" ");
  // rest[0] is field 3 (state); ppid is field 4, starttime field 22.
  const ppid = Number(rest[1]);
  const startTicks = Number(rest[19]);
  if (!Number.isFinite(ppid) || !Number.isFinite(startTicks)) return undefined;
  return { ppid, startTicks };
}

/** Wall-clock ms at boot, from /proc/uptime. */
export function bootWallMs(procRoot = "/proc", nowMs = Date.now()): number {
  const up = Number(Deno.readTextFileSync(`${procRoot}/uptime`).split(" ")[0]);
  return nowMs - up * 1000;
}

/** Every process readable under `procRoot`; processes that exit mid-read are skipped. */
export function readProcesses(procRoot = "/proc"): SeedProcess[] {
  const boot = bootWallMs(procRoot);
  const out: SeedProcess[] = [];
  for (const ent of Deno.readDirSync(procRoot)) {
    if (!/^\d+$/.test(ent.name)) continue;
    const pid = Number(ent.name);
    const dir = `${procRoot}/${ent.name}`;
    try {
      const stat = parseStat(Deno.readTextFileSync(`${dir}/stat`));
      if (!stat) continue;
      const cmdline = Deno.readTextFileSync(`${dir}/cmdline`);
      const args = cmdline.length === 0 ? [] : cmdline.replace(/\0$/, "").split("\0");
      let executable = "";
      try {
        executable = readLinkPath(`${dir}/exe`).replace(/ \(deleted\)$/, "");
      } catch {
        // kernel threads and other users' processes without ptrace access
      }
      let cwd: string | undefined;
      try {
        cwd = readLinkPath(`${dir}/cwd`);
      } catch {
        cwd = undefined;
      }
      let uid: number | undefined;
      const m = /^Uid:\s+(\d+)/m.exec(Deno.readTextFileSync(`${dir}/status`));
      if (m) uid = Number(m[1]);
      const start = Math.round(boot + (stat.startTicks * 1000) / USER_HZ);
      const p: SeedProcess = {
        pid,
        ppid: stat.ppid,
        start,
        executable,
        args,
        entity_id: `${pid}-${start}`,
      };
      if (cwd !== undefined) p.working_directory = cwd;
      if (uid !== undefined) p.uid = uid;
      out.push(p);
    } catch {
      // exited while we read it
    }
  }
  out.sort((a, b) => a.pid - b.pid);
  return out;
}

/** The name the daemon's sensor factory looks for. */
export const readProcSeed: () => SeedProcess[] = () => readProcesses();
