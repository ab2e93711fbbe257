/**
 * Builds bm traces (JSON lines in the shape of src/sensor/event.ts) for the
 * rules' positive and negative tests. Output is deterministic: the same
 * scenario built twice gives the same bytes, so checked-in traces can be
 * rebuilt and diffed (make_rule_tests.ts --check).
 *
 * Exec follows the sensors: on Linux a spawn is a fork event, an auth exec
 * (bm.auth_id set; pid, executable, file and the caller's lineage only) and
 * the notify exec with args, cwd and the standard streams. On macOS the auth
 * exec carries everything, so one exec event is written.
 */

/** 2026-11-27T10:00:00Z, the start of every trace unless told otherwise. */
export const EPOCH_MS = Date.UTC(2026, 10, 27, 10, 0, 0);

export type Os = "linux" | "macos";
export type Stream = "tty" | "pipe" | "socket" | "file" | "null";
type Json = Record<string, unknown>;

export interface Signing {
  signing_id?: string;
  team_id?: string;
  platform_binary?: boolean;
}

/** One process as the trace knows it. */
export class Proc {
  readonly entity_id: string;
  constructor(
    readonly pid: number,
    readonly start: number,
    public exe: string,
    public args: string[],
    public cwd: string,
    readonly parent: Proc | undefined,
    public uid: number,
    public tty: string | undefined,
    public stdin: Stream,
    public stdout: Stream,
    readonly orphan: { ppid?: number; exe?: string; args?: string[] } = {},
    public signing?: Signing,
  ) {
    this.entity_id = `${pid}-${start}`;
  }

  get name(): string {
    return this.exe.slice(this.exe.lastIndexOf("/") + 1);
  }

  parentFields(): Json {
    const p = this.parent;
    if (p !== undefined) {
      return {
        pid: p.pid,
        entity_id: p.entity_id,
        executable: p.exe,
        name: p.name,
        args: [...p.args],
      };
    }
    const out: Json = { pid: this.orphan.ppid ?? 1 };
    if (this.orphan.exe) {
      out.executable = this.orphan.exe;
      out.name = this.orphan.exe.slice(this.orphan.exe.lastIndexOf("/") + 1);
    }
    if (this.orphan.args !== undefined) out.args = [...this.orphan.args];
    return out;
  }

  fields(full = true): Json {
    const out: Json = {
      pid: this.pid,
      entity_id: this.entity_id,
      start: this.start,
      executable: this.exe,
      name: this.name,
    };
    if (full) {
      out.args = [...this.args];
      out.working_directory = this.cwd;
    }
    out.parent = this.parentFields();
    if (full) {
      if (this.tty) out.tty = this.tty;
      out.stdin = this.stdin;
      out.stdout = this.stdout;
      if (this.signing) out.code_signature = { ...this.signing };
    }
    return out;
  }
}

/** What a new process may differ in from its parent. */
export interface SpawnOptions {
  cwd?: string;
  uid?: number;
  tty?: string;
  stdin?: Stream;
  stdout?: Stream;
  signing?: Signing;
}

export interface RootOptions extends SpawnOptions {
  ppid?: number;
  parentExe?: string;
  parentArgs?: string[];
  pid?: number;
  /** How long before the trace's start the process began. */
  ageMs?: number;
  /** Write its exec (as the /proc seed would make it known). Default true. */
  emit?: boolean;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** One trace: a clock, a pid counter and the events written so far. */
export class Trace {
  t: number;
  private nextPid: number;
  private authId = 1;
  private seq = 1;
  readonly events: Json[] = [];

  constructor(
    readonly os: Os = "linux",
    opts: { startMs?: number; firstPid?: number; auth?: boolean } = {},
  ) {
    this.t = opts.startMs ?? EPOCH_MS;
    this.nextPid = opts.firstPid ?? 4242;
    this.auth = opts.auth ?? true;
  }
  private readonly auth: boolean;

  tick(ms = 3): void {
    this.t += ms;
  }

  private pid(): number {
    const pid = this.nextPid;
    this.nextPid += 1 + (pid % 3);
    return pid;
  }

  private base(action: string, p: Proc, full = true): Json {
    const ev: Json = {
      "@timestamp": iso(this.t),
      event: { action },
      process: p.fields(full),
      user: { id: p.uid },
      bm: { source: this.os, seq: this.seq },
    };
    this.seq++;
    return ev;
  }

  private emit(ev: Json): Json {
    this.events.push(ev);
    return ev;
  }

  /**
   * A process that was running before the trace began (its exec is written so
   * the engine's process table knows it, as the /proc seed would).
   */
  root(exe: string, args: string[], o: RootOptions = {}): Proc {
    const p = new Proc(
      o.pid ?? this.pid(),
      this.t - (o.ageMs ?? 60_000),
      exe,
      args,
      o.cwd ?? "/",
      undefined,
      o.uid ?? 0,
      o.tty,
      o.stdin ?? "null",
      o.stdout ?? "null",
      {
        ppid: o.ppid ?? 1,
        ...(o.parentExe !== undefined ? { exe: o.parentExe } : {}),
        ...(o.parentArgs !== undefined ? { args: o.parentArgs } : {}),
      },
      o.signing,
    );
    if (o.emit ?? true) {
      this.emit(this.base("exec", p));
      this.tick(1);
    }
    return p;
  }

  /** A fork: the child runs the parent's image until it execs. */
  fork(parent: Proc, o: SpawnOptions = {}): Proc {
    const child = new Proc(
      this.pid(),
      this.t,
      parent.exe,
      [...parent.args],
      o.cwd ?? parent.cwd,
      parent,
      o.uid ?? parent.uid,
      o.tty ?? parent.tty,
      o.stdin ?? parent.stdin,
      o.stdout ?? parent.stdout,
      {},
      parent.signing,
    );
    this.emit(this.base("fork", child));
    this.tick(1);
    return child;
  }

  /** Replaces the image of p (keeps pid and entity id). */
  exec(p: Proc, exe: string, args: string[], o: SpawnOptions = {}): Proc {
    p.exe = exe;
    p.args = [...args];
    if (o.cwd !== undefined) p.cwd = o.cwd;
    if (o.stdin !== undefined) p.stdin = o.stdin;
    if (o.stdout !== undefined) p.stdout = o.stdout;
    if (o.uid !== undefined) p.uid = o.uid;
    p.signing = o.signing;
    if (this.os === "linux") {
      if (this.auth) {
        const ev = this.base("exec", p, false);
        ev.file = { path: exe };
        const bm = ev.bm as Json;
        bm.auth_id = this.authId++;
        bm.deadline = this.t + 5000;
        this.emit(ev);
        this.tick(1);
      }
      this.emit(this.base("exec", p));
    } else {
      const ev = this.base("exec", p);
      ev.file = { path: exe };
      if (this.auth) {
        const bm = ev.bm as Json;
        bm.auth_id = this.authId++;
        bm.deadline = this.t + 5000;
      }
      this.emit(ev);
    }
    this.tick(1);
    return p;
  }

  /** fork + exec, the way a shell runs a command. */
  spawn(parent: Proc, exe: string, args: string[], o: SpawnOptions = {}): Proc {
    const { signing: _s, ...forkOpts } = o;
    const child = this.fork(parent, forkOpts);
    return this.exec(child, exe, args, o);
  }

  exit(p: Proc, code = 0): void {
    const ev = this.base("exit", p);
    (ev.process as Json).exit_code = code;
    this.emit(ev);
    this.tick(1);
  }

  file(p: Proc, action: string, path: string, extra: Json = {}): Json {
    const ev = this.base(action, p);
    ev.file = { path, ...extra };
    this.emit(ev);
    this.tick(1);
    return ev;
  }

  open(p: Proc, path: string, extra: Json = {}): Json {
    return this.file(p, "open", path, extra);
  }

  /** A write: optional create, then close_modified (what fanotify and ES report). */
  write(p: Proc, path: string, o: { create?: boolean } & Json = {}): void {
    const { create, ...extra } = o;
    if (create) this.file(p, "create", path);
    this.file(p, "close_modified", path, extra);
  }

  rename(p: Proc, src: string, dst: string): void {
    this.file(p, "rename", src, { target_path: dst });
  }

  unlink(p: Proc, path: string): void {
    this.file(p, "unlink", path);
  }

  launchItemAdd(p: Proc, plist: string, item: string): void {
    const ev = this.file(p, "launch_item_add", plist);
    (ev.bm as Json).launch_item = item;
  }

  /** The trace as JSON lines. */
  text(): string {
    return this.events.map((e) => JSON.stringify(e) + "\n").join("");
  }
}

// -- common starting points -------------------------------------------------

/** sshd session -> interactive bash on a pty. */
export function linuxLoginShell(t: Trace, user = "alice", uid = 1000): Proc {
  const sshd = t.root("/usr/sbin/sshd", [`sshd: ${user}@pts/0`], {
    cwd: "/",
    uid: 0,
    ppid: 812,
    parentExe: "/usr/sbin/sshd",
    parentArgs: ["/usr/sbin/sshd", "-D"],
    ageMs: 120_000,
  });
  const home = uid === 0 ? "/root" : `/home/${user}`;
  return t.spawn(sshd, "/usr/bin/bash", ["-bash"], {
    cwd: home,
    uid,
    tty: "pts/0",
    stdin: "tty",
    stdout: "tty",
  });
}

/** Terminal.app -> login -> zsh on a tty. */
export function macosTerminalShell(t: Trace, user = "alice", uid = 501): Proc {
  const term = t.root(
    "/System/Applications/Utilities/Terminal.app/Contents/MacOS/Terminal",
    ["/System/Applications/Utilities/Terminal.app/Contents/MacOS/Terminal"],
    {
      cwd: "/",
      uid,
      ppid: 1,
      parentExe: "/sbin/launchd",
      signing: { signing_id: "com.apple.Terminal", platform_binary: true },
      ageMs: 600_000,
    },
  );
  const login = t.spawn(term, "/usr/bin/login", ["login", "-pf", user], {
    uid: 0,
    tty: "ttys001",
    stdin: "tty",
    stdout: "tty",
    signing: { signing_id: "com.apple.login", platform_binary: true },
  });
  return t.spawn(login, "/bin/zsh", ["-zsh"], {
    cwd: `/Users/${user}`,
    uid,
    signing: { signing_id: "com.apple.zsh", platform_binary: true },
  });
}
