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
 * the path is the process's executable (an unknown one matches); `names`:
 * the process's name is one of these (an unknown one matches: see
 * ExeTracker.name); `sizes`: the size of the event's file.path is one of
 * these (the event's, else the file's now; one that cannot be had matches);
 * `hold`: an event only such patterns pass is held for this many ms and
 * sent, late, only before an exec of its file (hold.c), forgotten when
 * the file is deleted: for a step that needs a written file only if that
 * very path is then executed.
 */
export interface PathPattern {
  prefix: string;
  suffix: string;
  contains?: string;
  fold?: boolean;
  modeAny?: number;
  exe?: boolean;
  names?: readonly string[];
  /** The process's name is none of these (an unknown one matches); ignored beside `names`. */
  notNames?: readonly string[];
  sizes?: readonly number[];
  hold?: number;
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
  if (p.hold !== undefined && !(Number.isInteger(p.hold) && p.hold > 0 && p.hold <= 86_400_000)) {
    return false;
  }
  return p.modeAny === undefined || (Number.isInteger(p.modeAny) && p.modeAny > 0 &&
    p.modeAny <= 0o7777777);
}

function matchesAny(p: PathPattern): boolean {
  return p.prefix === "" && p.suffix === "" && !p.contains && !p.modeAny && !p.exe && !p.names &&
    !p.notNames && !p.sizes && !p.hold;
}

/**
 * The names of a gate the library can hold, or undefined (no gate: the
 * pattern widens). A name the library never knows a process by (not plain
 * ASCII, a backslash: see ExeTracker.name; a "/", which no base name holds;
 * "") is left out: such a process passes as unknown. A separator of the spec
 * in a name gives up the gate.
 */
function usableNames(names: readonly string[] | undefined): readonly string[] | undefined {
  if (names === undefined || names.some((n) => /[\t\n\0]/.test(n))) return undefined;
  const out = [...new Set(names.filter((n) => n !== "" && !/[\/\\\u0080-\uffff]/.test(n)))];
  return out.length > 0 ? out : undefined;
}

function usableSizes(sizes: readonly number[] | undefined): readonly number[] | undefined {
  if (sizes === undefined || sizes.length === 0) return undefined;
  return sizes.every((n) => Number.isSafeInteger(n) && n >= 0) ? [...new Set(sizes)] : undefined;
}

/** A pattern as the library applies it: gates it cannot hold widened away. */
function gates(p: PathPattern): PathPattern {
  if (p.names === undefined && p.notNames === undefined && p.sizes === undefined) return p;
  const out: PathPattern = { ...p };
  const names = usableNames(p.names), sizes = usableSizes(p.sizes);
  // a name left out of a "none of" set only lets more through; one gate of names a pattern
  const notNames = names === undefined ? usableNames(p.notNames) : undefined;
  if (names === undefined) delete out.names;
  else out.names = names;
  if (notNames === undefined) delete out.notNames;
  else out.notNames = notNames;
  if (sizes === undefined) delete out.sizes;
  else out.sizes = sizes;
  return out;
}

/** The patterns of one kind as the library applies them: "all" when any is "any path" or unusable. */
function effective(v: "all" | readonly PathPattern[]): "all" | readonly PathPattern[] {
  if (v === "all") return v;
  const ps = v.map(gates);
  return ps.some((p) => matchesAny(p) || !usable(p)) ? "all" : ps;
}

/**
 * The spec text bm_sensor_set_interest takes: "KIND\tPREFIX\tSUFFIX" lines,
 * then CONTAINS and FLAGS, and NAMES and SIZES when a pattern has them.
 */
export function interestSpec(f: InterestFilter): string {
  const lines: string[] = [];
  for (const [action, v] of f) {
    const k = kindOf(action);
    if (k > MAX_KIND) continue; // always passes there
    const e = effective(v);
    if (e === "all") lines.push(`${k}\t\t`);
    else {
      for (const p of e) {
        const flags = `${p.fold ? "i" : ""}${p.exe ? "e" : ""}${p.modeAny ? `m${p.modeAny}` : ""}${
          p.hold ? `h${p.hold}` : ""
        }`;
        const names = p.names?.join("/") ?? (p.notNames ? `!${p.notNames.join("/")}` : "");
        const gate = p.names || p.notNames || p.sizes
          ? `\t${names}\t${p.sizes?.join(",") ?? ""}`
          : "";
        lines.push(`${k}\t${p.prefix}\t${p.suffix}\t${p.contains ?? ""}\t${flags}${gate}`);
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
 * (interest.c), for `exe` and `names` patterns. An exec sets it (its
 * executable, else its file's path), a fork copies the parent's, an exit
 * marks it gone (the process table keeps exited processes, found by pid, for
 * the file events read after the exit). A fork of a pid known alive (a held
 * exec of the child came first: the process table keeps that image) leaves it
 * unknown until the next exec.
 */
export class ExeTracker {
  /** exe null: the pid is known, its executable is not. */
  private readonly exes = new Map<number, { exe: string | null; gone: boolean }>();

  /** Call with every event the agent gets (the filter never drops exec, fork or exit). */
  observe(ev: BmEvent): void {
    const pid = ev.process.pid;
    switch (ev.event.action) {
      case "exec": {
        const exe = ev.process.executable ?? (ev as { file?: { path?: string } }).file?.path;
        this.exes.set(pid, { exe: exe || null, gone: false });
        return;
      }
      case "fork": {
        const parent = ev.process.parent?.pid;
        const cur = this.exes.get(pid);
        const exe = parent === undefined || (cur !== undefined && !cur.gone)
          ? null
          : this.exes.get(parent)?.exe;
        this.exes.set(pid, { exe: exe ?? null, gone: false });
        return;
      }
      case "exit": {
        const cur = this.exes.get(pid);
        if (cur !== undefined) cur.gone = true;
        return;
      }
    }
  }

  exe(pid: number): string | undefined {
    return this.exes.get(pid)?.exe ?? undefined;
  }

  /**
   * The process's name as the table has it (its executable's base name), or
   * undefined when unknown: none known, or one whose text is not the bytes
   * the library hashes (not plain ASCII, a backslash), or empty.
   */
  name(pid: number): string | undefined {
    const exe = this.exe(pid);
    if (!exe || longPath(exe)) return undefined;
    const i = exe.lastIndexOf("/");
    if (i < 0) return undefined;
    const name = exe.slice(i + 1);
    return name === "" || /[\\\u0080-\uffff]/.test(name) ? undefined : name;
  }
}

/** What the library knows beside the event, for `exe`, `names` and `sizes` patterns. */
export interface InterestFacts {
  /** The process's executable (ExeTracker.exe); none known matches. */
  exe?(pid: number): string | undefined;
  /** The process's name (ExeTracker.name); none known matches. */
  name?(pid: number): string | undefined;
  /** The size of the file at `path` now (the library's lstat); none matches. */
  size?(path: string): number | undefined;
}

/** Whether the filter lets `ev` through now (interestDecision "pass"). */
export function interesting(
  f: InterestFilter | undefined,
  ev: BmEvent,
  facts: InterestFacts = {},
): boolean {
  return interestDecision(f, ev, facts) === "pass";
}

/**
 * The library's decision (interest.c) on `ev`: it passes, it is held (only
 * `hold` patterns pass it; the hold milliseconds), or it is dropped. The
 * process's name counts only for an event without a start time or an
 * executable of its own (the agent finds such an event's process by pid, as
 * the library's table does).
 */
export function interestDecision(
  f: InterestFilter | undefined,
  ev: BmEvent,
  facts: InterestFacts = {},
): "pass" | "drop" | number {
  if (f === undefined || ev.bm?.auth_id !== undefined) return "pass";
  const action = ev.event.action;
  if (kindOf(action) > MAX_KIND) return "pass";
  const v = f.get(action);
  if (v === undefined) return "drop";
  const e = effective(v);
  if (e === "all") return "pass";
  const file = (ev as {
    file?: { path?: string; target_path?: string; mode?: number; size?: number };
  }).file;
  const paths = [file?.path, file?.target_path].filter((p): p is string => p !== undefined);
  if (paths.length === 0) return "pass";
  const mode = file?.mode ?? 0;
  const pf = ev.process;
  const bare = pf.start === undefined && pf.entity_id === undefined && pf.executable === undefined;
  const name = bare ? facts.name?.(pf.pid) : undefined;
  let size: number | undefined | null = file?.size !== undefined && file.size >= 0
    ? file.size
    : null; // null: not looked up yet
  const sizeNow = () => {
    if (size === null) size = file?.path === undefined ? undefined : facts.size?.(file.path);
    return size;
  };
  let hold = 0;
  const passes = paths.some((p) => {
    if (longPath(p)) return true;
    // the library compares bytes: only plain ASCII without a backslash reads the same as
    // its text form (path_codec.ts); any other path passes what its mode, names and sizes allow
    const plain = !/[\\\u0080-\uffff]/.test(p);
    return e.some((pat) => {
      if (pat.modeAny && (mode & pat.modeAny) === 0) return false;
      if (pat.names && name !== undefined && !pat.names.includes(name)) return false;
      if (pat.notNames && name !== undefined && pat.notNames.includes(name)) return false;
      if (plain) {
        if (pat.exe) {
          const exe = facts.exe?.(pf.pid);
          if (exe !== undefined && exe !== p) return false;
        }
        const f = (x: string) => (pat.fold ? x.toLowerCase() : x);
        const s = f(p);
        if (
          !(s.startsWith(f(pat.prefix)) && s.endsWith(f(pat.suffix)) &&
            s.includes(f(pat.contains ?? "")))
        ) return false;
      }
      if (pat.sizes) {
        const n = sizeNow();
        if (n !== undefined && !pat.sizes.includes(n)) return false;
      }
      if (pat.hold) {
        hold = Math.max(hold, pat.hold); // passes if nothing else does: held
        return false;
      }
      return true;
    });
  });
  return passes ? "pass" : hold > 0 ? hold : "drop";
}
