/**
 * The interest filter: which notify events the agent can use at all, by
 * event kind and file path. The daemon compiles it from what consumes events
 * (src/engine/interest.ts: the loaded rules, the process table, RTP, the
 * event export) and hands it to the sensor, which drops the rest at the
 * source (the native library's bm_sensor_set_interest), before they cost a
 * wake-up, an FFI crossing and a decode. Auth events always pass.
 *
 * `interesting` is the library's decision (dylib/common/interest.c) in
 * TypeScript; interest_test.ts checks the two agree.
 */
import { type BmEvent, EVENT_ACTIONS, type EventAction } from "./event.ts";

/**
 * A path starts with `prefix`, ends with `suffix` and contains `contains`
 * ("" or absent = any); `fold`: ASCII letters compare without case;
 * `modeAny`: the event's file mode has one of these bits; `exe`:
 * the path is the process's executable (an unknown one matches).
 */
export interface PathPattern {
  prefix: string;
  suffix: string;
  contains?: string;
  fold?: boolean;
  modeAny?: number;
  exe?: boolean;
}

/**
 * Per event kind: "all", or the patterns one of which the event's file path
 * or rename target must match. A kind the map lacks is dropped whole.
 */
export type InterestFilter = ReadonlyMap<EventAction, "all" | readonly PathPattern[]>;

/** The library's bound: a longer path always passes (the engine cuts it and marks it cut). */
const LONG_PATH_BYTES = 4096;
/** Kinds the library's filter can name (a bit each); later ones always pass. */
const MAX_KIND = 31;

/** The library's record kind of an action (BM_KIND_*: index in EVENT_ACTIONS, plus one). */
function kindOf(a: EventAction): number {
  return EVENT_ACTIONS.indexOf(a) + 1;
}

/**
 * A pattern the library can hold and compare byte for byte with what the
 * engine compares as text: no field separators, and no U+FFFD (what the
 * decoder makes of bytes that are not UTF-8, which the library never sees).
 */
function usable(p: PathPattern): boolean {
  const text = p.prefix + p.suffix + (p.contains ?? "");
  if (/[\t\n\0\uFFFD]/.test(text)) return false;
  if (p.fold && /[\u0080-\uffff]/.test(text)) return false;
  return p.modeAny === undefined || (Number.isInteger(p.modeAny) && p.modeAny > 0 &&
    p.modeAny <= 0o7777777);
}

function matchesAny(p: PathPattern): boolean {
  return p.prefix === "" && p.suffix === "" && !p.contains && !p.modeAny && !p.exe;
}

/** The patterns of one kind as the library applies them: "all" when any is "any path" or unusable. */
function effective(v: "all" | readonly PathPattern[]): "all" | readonly PathPattern[] {
  if (v === "all") return v;
  return v.some((p) => matchesAny(p) || !usable(p)) ? "all" : v;
}

/** The spec text bm_sensor_set_interest takes: "KIND\tPREFIX\tSUFFIX" lines. */
export function interestSpec(f: InterestFilter): string {
  const lines: string[] = [];
  for (const [action, v] of f) {
    const k = kindOf(action);
    if (k > MAX_KIND) continue; // always passes there
    const e = effective(v);
    if (e === "all") lines.push(`${k}\t\t`);
    else {
      for (const p of e) {
        const flags = `${p.fold ? "i" : ""}${p.exe ? "e" : ""}${p.modeAny ? `m${p.modeAny}` : ""}`;
        lines.push(`${k}\t${p.prefix}\t${p.suffix}\t${p.contains ?? ""}\t${flags}`);
      }
    }
  }
  return lines.join("\n") + "\n";
}

const enc = new TextEncoder();

function longPath(p: string): boolean {
  // a UTF-16 unit is at most 3 UTF-8 bytes: only long strings need encoding
  return p.length > LONG_PATH_BYTES || (p.length * 3 > LONG_PATH_BYTES &&
    enc.encode(p).length > LONG_PATH_BYTES);
}

/**
 * Each process's executable as the agent's process table has it, from the
 * events in the order the agent reads them: the library's bm_exe_table
 * (interest.c), for `exe` patterns. An exec sets it (its executable, else
 * its file's path), a fork copies the parent's, an exit forgets it.
 */
export class ExeTracker {
  private readonly exe = new Map<number, string>();

  /** Call with every event the agent gets (the filter never drops exec, fork or exit). */
  observe(ev: BmEvent): void {
    const pid = ev.process.pid;
    switch (ev.event.action) {
      case "exec": {
        const exe = ev.process.executable ?? (ev as { file?: { path?: string } }).file?.path;
        if (exe) this.exe.set(pid, exe);
        else this.exe.delete(pid);
        return;
      }
      case "fork": {
        const parent = ev.process.parent?.pid;
        const exe = parent === undefined ? undefined : this.exe.get(parent);
        if (exe !== undefined) this.exe.set(pid, exe);
        else this.exe.delete(pid);
        return;
      }
      case "exit":
        this.exe.delete(pid);
        return;
    }
  }

  get(pid: number): string | undefined {
    return this.exe.get(pid);
  }
}

/**
 * Whether the filter lets `ev` through: the library's decision (interest.c).
 * `exeOf`: the process's executable for `exe` patterns (ExeTracker); none known matches.
 */
export function interesting(
  f: InterestFilter | undefined,
  ev: BmEvent,
  exeOf?: (pid: number) => string | undefined,
): boolean {
  if (f === undefined || ev.bm?.auth_id !== undefined) return true;
  const action = ev.event.action;
  if (kindOf(action) > MAX_KIND) return true;
  const v = f.get(action);
  if (v === undefined) return false;
  const e = effective(v);
  if (e === "all") return true;
  const file = (ev as { file?: { path?: string; target_path?: string; mode?: number } }).file;
  const paths = [file?.path, file?.target_path].filter((p): p is string => p !== undefined);
  if (paths.length === 0) return true;
  const mode = file?.mode ?? 0;
  return paths.some((p) => {
    if (longPath(p)) return true;
    // the library compares bytes: only plain ASCII without a backslash reads the same as
    // its text form (path_codec.ts); any other path passes what its mode allows
    const plain = !/[\\\u0080-\uffff]/.test(p);
    return e.some((pat) => {
      if (pat.modeAny && (mode & pat.modeAny) === 0) return false;
      if (!plain) return true;
      if (pat.exe) {
        const exe = exeOf?.(ev.process.pid);
        if (exe !== undefined && exe !== p) return false;
      }
      const f = (x: string) => (pat.fold ? x.toLowerCase() : x);
      const s = f(p);
      return s.startsWith(f(pat.prefix)) && s.endsWith(f(pat.suffix)) &&
        s.includes(f(pat.contains ?? ""));
    });
  });
}
