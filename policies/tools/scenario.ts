/**
 * Scenarios: the procedure a rule's positive trace shows and the closest
 * benign activity its negative trace shows, written as what a shell session
 * (or a service) runs. A scenario is interpreted over a Trace, so every
 * command becomes the fork, auth exec, notify exec and exit a sensor reports,
 * under a realistic lineage.
 */
import {
  linuxLoginShell,
  macosTerminalShell,
  type Os,
  type Proc,
  type SpawnOptions,
  Trace,
} from "./trace_builder.ts";

/** Where the commands of a scenario run. */
export type Origin =
  /** alice (uid 1000) in an ssh session's interactive bash */
  | "user"
  /** root in an ssh session's interactive bash */
  | "root"
  /** `sh -c` under a web server worker (www-data, uid 33) */
  | "web"
  /** `sh -c` under cron (root) */
  | "cron"
  /** a non-interactive `bash script.sh` started by root from an ssh session */
  | "script"
  /** macOS: alice (uid 501) in Terminal's interactive zsh */
  | "mac_user"
  /** macOS: `sudo -s` from alice's Terminal zsh (a root zsh) */
  | "mac_root"
  /** macOS: `sh -c` run by an unsigned app alice opened from ~/Downloads */
  | "mac_app";

/** The OS a scenario's origin runs on. */
export function originOs(origin: Origin): Os {
  return origin.startsWith("mac_") ? "macos" : "linux";
}

/** One thing the session does. */
export type Act =
  | { run: string[]; opts?: SpawnOptions; then?: Act[]; keep?: boolean }
  | { pipe: string[][]; then?: Act[][] }
  | { write: string; create?: boolean; mode?: number; size?: number }
  | { open: string }
  | { rename: [string, string] }
  | { unlink: string }
  | { xattr: "setxattr" | "deletexattr"; path: string; name: string }
  | { launchItem: string; item: string }
  | { sleep: number };

/** `run("/usr/bin/id", "-u")`: argv[0] is the executable's name unless given as `args`. */
export function run(exe: string, ...args: string[]): Act {
  return { run: [exe, exe.slice(exe.lastIndexOf("/") + 1), ...args] };
}

/** A command whose argv[0] differs from the executable's name. */
export function runArgv(exe: string, argv: string[], opts?: SpawnOptions): Act {
  return opts === undefined ? { run: [exe, ...argv] } : { run: [exe, ...argv], opts };
}

/** A command that then does `then` itself (its children, its file events). */
export function runDoing(exe: string, argv: string[], then: Act[], opts?: SpawnOptions): Act {
  return opts === undefined ? { run: [exe, ...argv], then } : { run: [exe, ...argv], then, opts };
}

/** `a | b | c` from the shell: siblings joined by pipes. */
export function pipe(...cmds: string[][]): Act {
  return { pipe: cmds };
}

export function write(path: string, extra: { create?: boolean; mode?: number } = {}): Act {
  return {
    write: path,
    create: extra.create ?? true,
    ...(extra.mode !== undefined ? { mode: extra.mode } : {}),
  };
}

/** macOS: an extended attribute set or removed (`xattr -d com.apple.quarantine f`). */
export function xattr(action: "setxattr" | "deletexattr", path: string, name: string): Act {
  return { xattr: action, path, name };
}

/** macOS: a background or login item registered with BTM. */
export function launchItem(plist: string, item: string): Act {
  return { launchItem: plist, item };
}

export function sleep(ms: number): Act {
  return { sleep: ms };
}

function originShell(t: Trace, origin: Origin): Proc {
  switch (origin) {
    case "user":
      return linuxLoginShell(t);
    case "root":
      return linuxLoginShell(t, "root", 0);
    case "script": {
      const sh = linuxLoginShell(t, "root", 0);
      return t.spawn(sh, "/usr/bin/bash", ["bash", "/root/setup.sh"], {
        stdin: "tty",
        stdout: "tty",
      });
    }
    case "web": {
      const master = t.root("/usr/sbin/php-fpm8.2", [
        "php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)",
      ], {
        uid: 0,
        ppid: 1,
        parentExe: "/usr/lib/systemd/systemd",
        ageMs: 3_600_000,
      });
      const worker = t.fork(master, { uid: 33, cwd: "/var/www/html" });
      t.exec(worker, "/usr/sbin/php-fpm8.2", ["php-fpm: pool www"], { uid: 33 });
      t.tick(200);
      // PHP's system()/exec() run their command through sh -c.
      return t.spawn(worker, "/usr/bin/sh", ["sh", "-c", "/usr/sbin/sendmail -t -i"], {
        stdin: "pipe",
        stdout: "pipe",
      });
    }
    case "mac_user":
      return macosTerminalShell(t);
    case "mac_root": {
      const zsh = macosTerminalShell(t);
      const sudo = t.spawn(zsh, "/usr/bin/sudo", ["sudo", "-s"], {
        uid: 0,
        signing: APPLE("sudo"),
      });
      return t.spawn(sudo, "/bin/zsh", ["/bin/zsh"], { uid: 0, signing: APPLE("zsh") });
    }
    case "mac_app": {
      const app = t.root(
        "/Users/alice/Downloads/Player.app/Contents/MacOS/Player",
        ["/Users/alice/Downloads/Player.app/Contents/MacOS/Player"],
        { cwd: "/", uid: 501, ppid: 1, parentExe: "/sbin/launchd", ageMs: 30_000 },
      );
      return t.spawn(app, "/bin/sh", ["sh", "-c", "./setup.sh"], {
        cwd: "/Users/alice/Downloads/Player.app/Contents/Resources",
        stdin: "null",
        stdout: "pipe",
        signing: APPLE("sh"),
      });
    }
    case "cron": {
      const cron = t.root("/usr/sbin/cron", ["/usr/sbin/cron", "-f"], {
        uid: 0,
        ppid: 1,
        parentExe: "/usr/lib/systemd/systemd",
        ageMs: 3_600_000,
      });
      const child = t.fork(cron);
      return t.exec(child, "/usr/bin/sh", ["/bin/sh", "-c", "/etc/cron.hourly/job"], {
        stdin: "pipe",
        stdout: "pipe",
      });
    }
  }
}

function APPLE(name: string) {
  return { signing_id: `com.apple.${name}`, platform_binary: true };
}

/** macOS programs in the sealed system folders are Apple platform binaries. */
function macSigning(t: Trace, exe: string): SpawnOptions {
  if (t.os !== "macos") return {};
  if (!/^\/(usr\/bin|bin|usr\/sbin|sbin|usr\/libexec|System)\//.test(exe)) return {};
  return { signing: APPLE(exe.slice(exe.lastIndexOf("/") + 1)) };
}

function play(t: Trace, who: Proc, acts: Act[]): void {
  for (const a of acts) {
    if ("run" in a) {
      const [exe, ...argv] = a.run;
      const streams: SpawnOptions = who.stdin === "tty" ? { stdin: "tty", stdout: "tty" } : {};
      const p = t.spawn(who, exe!, argv, { ...streams, ...macSigning(t, exe!), ...a.opts });
      if (a.then) play(t, p, a.then);
      if (!a.keep) t.exit(p);
      t.tick(40);
    } else if ("pipe" in a) {
      const ps = a.pipe.map(([exe, ...argv], i) =>
        t.spawn(who, exe!, argv, {
          ...macSigning(t, exe!),
          stdin: i === 0 ? (who.stdin === "tty" ? "tty" : who.stdin) : "pipe",
          stdout: i === a.pipe.length - 1 ? (who.stdout === "tty" ? "tty" : who.stdout) : "pipe",
        })
      );
      ps.forEach((p, i) => {
        const then = a.then?.[i];
        if (then) play(t, p, then);
      });
      t.tick(30);
      for (const p of ps) t.exit(p);
      t.tick(40);
    } else if ("write" in a) {
      const extra: Record<string, unknown> = {};
      if (a.mode !== undefined) extra.mode = a.mode;
      if (a.size !== undefined) extra.size = a.size;
      t.write(who, a.write, { create: a.create ?? true, ...extra });
    } else if ("open" in a) {
      t.open(who, a.open);
    } else if ("rename" in a) {
      t.rename(who, a.rename[0], a.rename[1]);
    } else if ("unlink" in a) {
      t.unlink(who, a.unlink);
    } else if ("xattr" in a) {
      t.file(who, a.xattr, a.path, { xattr: a.name });
    } else if ("launchItem" in a) {
      t.launchItemAdd(who, a.launchItem, a.item);
    } else {
      t.tick(a.sleep);
    }
  }
}

/** A scenario from its two sides; `negOrigin` defaults to `origin`. */
export function sc(
  name: string,
  origin: Origin,
  pos: Act[],
  neg: Act[],
  negOrigin?: Origin,
): Scenario {
  return { name, pos: { origin, acts: pos }, neg: { origin: negOrigin ?? origin, acts: neg } };
}

/** A rule's two traces as acts from an origin. */
export interface Scenario {
  /** The trace's base name under policies/tests/linux/. */
  name: string;
  pos: { origin: Origin; acts: Act[] };
  neg: { origin: Origin; acts: Act[] };
}

export function build(origin: Origin, acts: Act[]): Trace {
  const t = new Trace(originOs(origin));
  play(t, originShell(t, origin), acts);
  return t;
}
