/**
 * The process table: every process the engine knows, keyed by an entity id
 * that survives pid reuse, with its lineage and exec history (scores are
 * scoring.ts's).
 *
 * Bounded: exited processes stay `exitedRetentionMs` (so sequences across an
 * exit can complete), then go, and at most `exitedMax(max)` of them are kept
 * (the oldest exit goes first); past `max` entries the oldest exited, then the
 * least recently seen live processes are evicted and counted. A child keeps a
 * reference to its parent's record, so lineage survives the parent's eviction.
 * About 1 KB of heap a process: an exec flood (every entry an exited
 * process) holds the exited bound, not `max`, so memory plateaus low.
 */
import type { BmEvent, CodeSignature, ProcessFields, StreamKind } from "../sensor/event.ts";

/** A process as the daemon found it running at start (see proc_seed.ts). */
export interface SeedProcess {
  pid: number;
  ppid: number;
  /** Start time, ms since epoch. */
  start: number;
  executable: string;
  args: string[];
  working_directory?: string;
  uid?: number;
  entity_id?: string;
}

export interface ExecRecord {
  time: number;
  executable: string;
  /** The `#!` script `executable` (its interpreter) ran (Linux). */
  script?: string;
  args?: string[];
  env_vars?: string[];
  working_directory?: string;
  uid?: number;
}

export interface Proc {
  entity_id: string;
  pid: number;
  start: number;
  executable: string;
  name: string;
  args: string[] | undefined;
  /** Cache of `commandLine(p)`; undefined until asked for. */
  command_line: string | undefined;
  working_directory: string | undefined;
  /**
   * The configured environment variables of the current image ("NAME=value");
   * undefined until an exec that carries args says (the Linux auth exec does
   * not), [] when none of them is set.
   */
  env_vars: string[] | undefined;
  /** The `#!` script the current image (its interpreter) runs, when the sensor says. */
  script: string | undefined;
  uid: number | undefined;
  tty: string | undefined;
  stdin: StreamKind | undefined;
  stdout: StreamKind | undefined;
  code_signature: CodeSignature | undefined;
  parent: Proc | undefined;
  exited: boolean;
  exitTime: number;
  lastSeen: number;
  execs: ExecRecord[];
  /** Set between a Linux auth exec and its notify exec. */
  pendingAuthExec: boolean;
  /** Rules whose first step matched the current image's auth exec (not re-matched at notify). */
  authMatched: Set<string> | undefined;
  /** Rules that fired with this process as their first-step process. */
  fired: Set<string> | undefined;
  /** Other entity ids the sensor used for this process (start times computed differently). */
  aliases: string[] | undefined;
  /** Engine event number of the current image's auth exec (pairs it with its notify exec). */
  authExecNo: number;
  evicted: boolean;
  /**
   * Images this process wrote held events as (the sensor said so at the exec
   * that replaced each), oldest first, each valid until that exec's time: a
   * late event is judged as the image that wrote it. Undefined when none.
   */
  images: { until: number; proc: Proc }[] | undefined;
}

export interface ProcessTableStats {
  processes: number;
  live: number;
  evictions: number;
  expiredExited: number;
  created: number;
}

const MAX_EXECS = 8;
const MAX_PINNED = 4096;
/** Earlier images kept per process for its late (held) events. */
const MAX_IMAGES = 4;
const START_TOLERANCE_MS = 1000;

export function basename(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? p : p.slice(i + 1);
}

function newProc(entity_id: string, pid: number, start: number, now: number): Proc {
  return {
    entity_id,
    pid,
    start,
    executable: "",
    name: "",
    args: undefined,
    command_line: undefined,
    working_directory: undefined,
    env_vars: undefined,
    script: undefined,
    uid: undefined,
    tty: undefined,
    stdin: undefined,
    stdout: undefined,
    code_signature: undefined,
    parent: undefined,
    exited: false,
    exitTime: 0,
    lastSeen: now,
    execs: [],
    pendingAuthExec: false,
    authMatched: undefined,
    fired: undefined,
    aliases: undefined,
    authExecNo: -1,
    evicted: false,
    images: undefined,
  };
}

/** The start time in a `<pid>-<start ms>` entity id, when it has that shape. */
function startOfEntityId(id: string): number | undefined {
  const m = /^\d+-(\d+)$/.exec(id);
  return m ? Number(m[1]) : undefined;
}

export function setArgs(p: Proc, args: string[] | undefined): void {
  p.args = args;
  p.command_line = undefined;
}

/** `process.command_line`: the args joined by spaces, computed on first use. */
export function commandLine(p: Proc): string | undefined {
  if (p.args === undefined) return undefined;
  return p.command_line ??= p.args.join(" ");
}

/**
 * Executables, names and folders repeat across thousands of processes; one
 * copy each. Bounded: cleared when full (only sharing is lost).
 */
const INTERN = new Map<string, string>();
export function intern(s: string): string {
  const hit = INTERN.get(s);
  if (hit !== undefined) return hit;
  if (INTERN.size >= 8192) INTERN.clear();
  INTERN.set(s, s);
  return s;
}

/** An exec that carries args carries the environment too: none of the variables is []. */
function setEnv(p: Proc, pf: ProcessFields): void {
  p.env_vars = pf.env_vars ?? (pf.args !== undefined ? [] : undefined);
}

function setExecutable(p: Proc, exe: string | undefined, name?: string): void {
  if (exe === undefined || exe === "") {
    if (name !== undefined && p.name === "") p.name = name;
    return;
  }
  p.executable = intern(exe);
  p.name = intern(name ?? basename(exe));
}

/**
 * Exited processes kept at most: an eighth of the table, at least 1,024
 * (8,192 of the default 65,536). Exited processes matter for a few seconds
 * (a sequence whose next step follows the exit, a late event); live ones
 * keep the rest of the room.
 */
export function exitedMax(max: number): number {
  return Math.max(1024, Math.floor(max / 8));
}

export class ProcessTable {
  private byEntity = new Map<string, Proc>();
  private byPid = new Map<number, Proc>();
  /** Exited entity ids in exit order, for retention expiry. */
  private exitedQueue: Proc[] = [];
  private exitedHead = 0;
  /**
   * Exited processes whose exit said they wrote events the sensor still
   * holds (bm.held_writes): kept `pinnedRetentionMs` (the longest hold), at
   * most MAX_PINNED, so a held write that comes late still finds its writer.
   */
  private pinnedQueue: Proc[] = [];
  private pinnedHead = 0;
  pinnedRetentionMs = 600_000;
  private evictions = 0;
  private expired = 0;
  private created = 0;

  constructor(public max: number, public exitedRetentionMs: number) {}

  /** Entity ids registered as aliases of another process (not processes themselves). */
  private aliasCount = 0;

  get size(): number {
    return this.byEntity.size - this.aliasCount;
  }

  get(entityId: string): Proc | undefined {
    return this.byEntity.get(entityId);
  }

  byPidLookup(pid: number): Proc | undefined {
    return this.byPid.get(pid);
  }

  stats(): ProcessTableStats {
    let live = 0;
    for (const [id, p] of this.byEntity) if (!p.exited && id === p.entity_id) live++;
    return {
      processes: this.size,
      live,
      evictions: this.evictions,
      expiredExited: this.expired,
      created: this.created,
    };
  }

  private insert(p: Proc): void {
    this.byEntity.set(p.entity_id, p);
    const cur = this.byPid.get(p.pid);
    if (cur === undefined || cur.start <= p.start || cur.exited) this.byPid.set(p.pid, p);
    this.created++;
  }

  private resolveParent(
    ev: BmEvent,
    now: number,
  ): Proc | undefined {
    const pf = ev.process.parent;
    // pid 0 is no process (Linux) or the kernel (macOS kernel_task): not a lineage entry.
    if (pf === undefined || pf.pid === 0) return undefined;
    const idStart = pf.entity_id !== undefined ? startOfEntityId(pf.entity_id) : undefined;
    let parent = pf.entity_id !== undefined
      ? this.byEntity.get(pf.entity_id) ?? this.byStartTolerance(pf.pid, idStart, pf.entity_id)
      : this.byPid.get(pf.pid);
    if (parent === undefined) {
      const start = idStart ?? now;
      parent = newProc(pf.entity_id ?? `${pf.pid}-${start}`, pf.pid, start, now);
      setExecutable(parent, pf.executable, pf.name);
      if (pf.args !== undefined) setArgs(parent, pf.args);
      this.insert(parent);
    }
    return parent;
  }

  /**
   * A process known under another entity id with nearly the same start: /proc
   * seeding and the sensor derive start times from boot time separately, so
   * they can differ by a few ms. Pid reuse within a second is not plausible.
   */
  private byStartTolerance(
    pid: number,
    start: number | undefined,
    entityId: string,
  ): Proc | undefined {
    if (start === undefined) return undefined;
    const p = this.byPid.get(pid);
    if (p === undefined || Math.abs(p.start - start) > START_TOLERANCE_MS) return undefined;
    (p.aliases ??= []).push(entityId);
    this.aliasCount++;
    this.byEntity.set(entityId, p);
    return p;
  }

  /** Finds or creates the process an event is about, without applying its semantics. */
  private resolve(ev: BmEvent, now: number, fresh: boolean): Proc {
    const pf = ev.process;
    if (pf.entity_id !== undefined) {
      const p = this.byEntity.get(pf.entity_id) ??
        this.byStartTolerance(pf.pid, pf.start, pf.entity_id);
      if (p !== undefined) return p;
    } else if (pf.start !== undefined) {
      const id = `${pf.pid}-${pf.start}`;
      const p = this.byEntity.get(id) ?? this.byStartTolerance(pf.pid, pf.start, id);
      if (p !== undefined) return p;
    } else if (!fresh) {
      const p = this.byPid.get(pf.pid);
      if (p !== undefined) return p;
    } else {
      // A fork record without a start time (its /proc facts lost the race with a fast exit)
      // that a held exec of the same child overtook (Linux reads permission events on
      // another thread): the process already known, not a new one.
      const p = this.byPid.get(pf.pid);
      if (
        p !== undefined && p.pendingAuthExec && !p.exited && pf.parent !== undefined &&
        p.parent?.pid === pf.parent.pid
      ) return p;
    }
    const start = pf.start ?? now;
    const p = newProc(pf.entity_id ?? `${pf.pid}-${start}`, pf.pid, start, now);
    const parent = this.resolveParent(ev, now);
    if (parent !== undefined) {
      p.parent = parent;
      if (fresh) {
        // A fork inherits the parent's image.
        p.executable = parent.executable;
        p.name = parent.name;
        p.args = parent.args;
        p.command_line = parent.command_line;
        p.working_directory = parent.working_directory;
        p.env_vars = parent.env_vars;
        p.script = parent.script;
        p.uid = parent.uid;
      }
    }
    this.insert(p);
    return p;
  }

  /** Set by `apply`: the event was a notify exec completing an auth exec of the same image (Linux). */
  lastExecPair = false;

  /** Stage 2 of the pipeline: updates the table from one event and returns its process. */
  apply(ev: BmEvent): Proc {
    const now = ev["@timestamp"];
    const action = ev.event.action;
    const pf = ev.process;
    const p = this.resolve(ev, now, action === "fork");
    if (ev.bm?.late && p.images !== undefined) {
      // written before an exec replaced the image: judged as the image that wrote it
      const img = p.images.find((i) => now < i.until);
      if (img !== undefined) return img.proc;
    }
    if (now > p.lastSeen) p.lastSeen = now; // a late (held) event is older than what came before
    if (p.parent === undefined && pf.parent !== undefined && pf.parent.pid !== pf.pid) {
      p.parent = this.resolveParent(ev, now);
    }
    let execPair = false;
    if (action === "exec") {
      const isAuth = ev.bm?.auth_id !== undefined;
      // a new image of a process whose held events may still come: keep the one they were written as
      if (ev.bm?.held_writes && (isAuth || !p.pendingAuthExec)) {
        const img = { until: now, proc: { ...p, execs: p.execs.slice(), images: undefined } };
        p.images = [...(p.images ?? []).slice(1 - MAX_IMAGES), img];
      }
      const exe = pf.executable ?? (ev as { file?: { path?: string } }).file?.path;
      if (isAuth) {
        setExecutable(p, exe, pf.name);
        setArgs(p, pf.args);
        p.working_directory = pf.working_directory && intern(pf.working_directory);
        setEnv(p, pf);
        p.script = pf.script;
        p.pendingAuthExec = pf.args === undefined;
        p.authMatched = undefined;
        this.pushExec(p, now);
      } else {
        // A script's notify exec names its interpreter; the auth exec named the script.
        execPair = p.pendingAuthExec &&
          (exe === undefined || exe === p.executable ||
            (pf.script !== undefined && pf.script === p.executable));
        p.pendingAuthExec = false;
        if (!execPair) p.authMatched = undefined;
        if (!execPair && exe === undefined) {
          // A new image whose /proc facts lost the race with a fast exit: it is
          // unknown, and the image inherited at fork must not stand in for it.
          p.executable = "";
          p.name = "";
          setArgs(p, undefined);
        }
        setExecutable(p, exe, pf.name);
        if (pf.args !== undefined) setArgs(p, pf.args);
        if (pf.working_directory !== undefined) p.working_directory = intern(pf.working_directory);
        setEnv(p, pf);
        p.script = pf.script;
        if (execPair) {
          const last = p.execs[p.execs.length - 1];
          if (last !== undefined) {
            last.executable = p.executable;
            if (p.script !== undefined) last.script = p.script;
            if (p.args !== undefined) last.args = p.args;
            if (p.working_directory !== undefined) last.working_directory = p.working_directory;
            if (p.env_vars?.length) last.env_vars = p.env_vars;
          }
        } else {
          this.pushExec(p, now);
        }
      }
      const uid = ev.user?.id;
      if (uid !== undefined) p.uid = uid;
      if (pf.code_signature !== undefined) p.code_signature = pf.code_signature;
    } else {
      if (p.executable === "" && pf.executable !== undefined) {
        setExecutable(p, pf.executable, pf.name);
      }
      if (p.args === undefined && pf.args !== undefined) setArgs(p, pf.args);
      if (p.working_directory === undefined && pf.working_directory !== undefined) {
        p.working_directory = pf.working_directory;
      }
      if (p.uid === undefined && ev.user?.id !== undefined) p.uid = ev.user.id;
    }
    if (pf.tty !== undefined) p.tty = pf.tty;
    if (pf.stdin !== undefined) p.stdin = pf.stdin;
    if (pf.stdout !== undefined) p.stdout = pf.stdout;
    if (action === "exit" && !p.exited) {
      p.exited = true;
      p.exitTime = now;
      if (ev.bm?.held_writes) this.pinnedQueue.push(p);
      else this.exitedQueue.push(p);
    }
    this.lastExecPair = execPair;
    return p;
  }

  private pushExec(p: Proc, now: number): void {
    const rec: ExecRecord = { time: now, executable: p.executable };
    if (p.script !== undefined) rec.script = p.script;
    if (p.args !== undefined) rec.args = p.args;
    if (p.env_vars?.length) rec.env_vars = p.env_vars;
    if (p.working_directory !== undefined) rec.working_directory = p.working_directory;
    if (p.uid !== undefined) rec.uid = p.uid;
    if (p.execs.length === 0) p.execs = [rec]; // a literal: push on [] reserves 16 slots
    else p.execs.push(rec);
    if (p.execs.length > MAX_EXECS) p.execs.shift();
  }

  /** Drops exited processes past retention or past their bound, and enforces the size bound. */
  sweep(now: number): void {
    const q = this.exitedQueue;
    while (this.exitedHead < q.length) {
      const p = q[this.exitedHead]!;
      if (now - p.exitTime < this.exitedRetentionMs) break;
      this.exitedHead++;
      if (this.remove(p)) this.expired++;
    }
    // The newest exits are kept; entries already evicted count until skipped.
    const keep = exitedMax(this.max);
    while (q.length - this.exitedHead > keep) {
      if (this.remove(q[this.exitedHead++]!)) this.evictions++;
    }
    if (this.exitedHead > 4096 && this.exitedHead * 2 > q.length) {
      this.exitedQueue = q.slice(this.exitedHead);
      this.exitedHead = 0;
    }
    const pq = this.pinnedQueue;
    while (
      this.pinnedHead < pq.length &&
      (now - pq[this.pinnedHead]!.exitTime >= this.pinnedRetentionMs ||
        pq.length - this.pinnedHead > MAX_PINNED)
    ) {
      if (this.remove(pq[this.pinnedHead++]!)) this.expired++;
    }
    if (this.pinnedHead > 1024 && this.pinnedHead * 2 > pq.length) {
      this.pinnedQueue = pq.slice(this.pinnedHead);
      this.pinnedHead = 0;
    }
    if (this.size > this.max) this.evict();
  }

  private remove(p: Proc): boolean {
    if (this.byEntity.get(p.entity_id) !== p) return false;
    this.byEntity.delete(p.entity_id);
    if (p.aliases !== undefined) { for (const a of p.aliases) this.byEntity.delete(a); }
    if (this.byPid.get(p.pid) === p) this.byPid.delete(p.pid);
    p.evicted = true;
    return true;
  }

  private evict(): void {
    // Exited first (oldest exit), then live processes in insertion order (oldest first).
    const q = this.exitedQueue;
    while (this.size > this.max && this.exitedHead < q.length) {
      const p = q[this.exitedHead++]!;
      if (this.remove(p)) this.evictions++;
    }
    if (this.size <= this.max) return;
    const target = Math.floor(this.max * 0.95);
    for (const p of this.byEntity.values()) {
      if (this.size <= target) break;
      if (this.remove(p)) this.evictions++;
    }
  }

  /** Adds processes found running at start; parents linked by ppid. */
  seed(procs: SeedProcess[], now: number): void {
    const made = new Map<number, Proc>();
    for (const s of procs) {
      const p = newProc(s.entity_id ?? `${s.pid}-${s.start}`, s.pid, s.start, now);
      setExecutable(p, s.executable);
      setArgs(p, s.args);
      p.working_directory = s.working_directory;
      p.uid = s.uid;
      const rec: ExecRecord = { time: s.start, executable: s.executable, args: s.args };
      p.execs = [rec];
      made.set(s.pid, p);
      this.insert(p);
    }
    for (const s of procs) {
      const p = made.get(s.pid)!;
      const parent = s.ppid !== s.pid && s.ppid !== 0
        ? made.get(s.ppid) ?? this.byPid.get(s.ppid)
        : undefined;
      if (parent !== undefined) p.parent = parent;
    }
  }

  /** Root first, `p` last. Bounded against cycles. */
  lineage(p: Proc): Proc[] {
    const out: Proc[] = [];
    let cur: Proc | undefined = p;
    while (cur !== undefined && out.length < 64) {
      out.push(cur);
      cur = cur.parent;
    }
    return out.reverse();
  }
}
