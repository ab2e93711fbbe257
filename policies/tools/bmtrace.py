"""Builds realistic bm traces (JSON lines in the shape of src/sensor/event.ts).

Used by make_rule_tests.py (per-rule positive and negative traces) and by
../benign/make_corpus.py (the benign corpus). Output is deterministic: the same
script run twice writes the same bytes, so committed traces can be regenerated
and diffed.

Exec semantics follow event.ts: on Linux a spawn is a fork event, an auth exec
(bm.auth_id set; only pid, executable, file and the caller's lineage) and the
notify exec that carries args, cwd and the standard streams. On macOS the auth
exec carries everything, so one exec event is written.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

EPOCH_MS = int(datetime(2026, 11, 27, 10, 0, 0, tzinfo=timezone.utc).timestamp() * 1000)


def iso(ms: int) -> str:
    dt = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


class Proc:
    def __init__(self, pid: int, start: int, exe: str, args: list[str], cwd: str,
                 parent: "Proc | None", uid: int, tty: str | None,
                 stdin: str, stdout: str, ppid: int | None = None,
                 parent_exe: str | None = None, parent_args: list[str] | None = None,
                 signing: dict | None = None):
        self.pid = pid
        self.start = start
        self.entity_id = f"{pid}-{start}"
        self.exe = exe
        self.args = args
        self.cwd = cwd
        self.parent = parent
        self.uid = uid
        self.tty = tty
        self.stdin = stdin
        self.stdout = stdout
        self.ppid = ppid
        self.parent_exe = parent_exe
        self.parent_args = parent_args
        self.signing = signing

    @property
    def name(self) -> str:
        return self.exe.rsplit("/", 1)[-1]

    def parent_fields(self) -> dict:
        if self.parent is not None:
            p = self.parent
            return {"pid": p.pid, "entity_id": p.entity_id, "executable": p.exe,
                    "name": p.name, "args": list(p.args)}
        out: dict = {"pid": self.ppid if self.ppid is not None else 1}
        if self.parent_exe:
            out["executable"] = self.parent_exe
            out["name"] = self.parent_exe.rsplit("/", 1)[-1]
        if self.parent_args is not None:
            out["args"] = list(self.parent_args)
        return out

    def fields(self, full: bool = True) -> dict:
        out: dict = {"pid": self.pid, "entity_id": self.entity_id, "start": self.start,
                     "executable": self.exe, "name": self.name}
        if full:
            out["args"] = list(self.args)
            out["working_directory"] = self.cwd
        out["parent"] = self.parent_fields()
        if full:
            if self.tty:
                out["tty"] = self.tty
            out["stdin"] = self.stdin
            out["stdout"] = self.stdout
            if self.signing:
                out["code_signature"] = dict(self.signing)
        return out


class Trace:
    """One trace: a clock, a pid counter and the events written so far."""

    def __init__(self, os: str = "linux", start_ms: int = EPOCH_MS, first_pid: int = 4242,
                 auth: bool = True):
        assert os in ("linux", "macos")
        self.os = os
        self.t = start_ms
        self.next_pid = first_pid
        self.auth = auth
        self.auth_id = 1
        self.seq = 1
        self.events: list[dict] = []

    # -- time and ids -------------------------------------------------------
    def tick(self, ms: int = 3) -> None:
        self.t += ms

    def _pid(self) -> int:
        pid = self.next_pid
        self.next_pid += 1 + (pid % 3)
        return pid

    def _base(self, action: str, p: Proc, full: bool = True) -> dict:
        ev: dict = {"@timestamp": iso(self.t), "event": {"action": action},
                    "process": p.fields(full), "user": {"id": p.uid}}
        ev["bm"] = {"source": self.os, "seq": self.seq}
        self.seq += 1
        return ev

    def _emit(self, ev: dict) -> dict:
        self.events.append(ev)
        return ev

    # -- processes ----------------------------------------------------------
    def root(self, exe: str, args: list[str], cwd: str = "/", uid: int = 0,
             tty: str | None = None, stdin: str = "null", stdout: str = "null",
             ppid: int = 1, parent_exe: str | None = None,
             parent_args: list[str] | None = None, pid: int | None = None,
             age_ms: int = 60_000, signing: dict | None = None,
             emit: bool = True) -> Proc:
        """A process that was running before the trace began (its exec is written
        so the engine's process table knows it, as the /proc seed would)."""
        if pid is None:
            pid = self._pid()
        p = Proc(pid, self.t - age_ms, exe, args, cwd, None, uid, tty, stdin, stdout,
                 ppid=ppid, parent_exe=parent_exe, parent_args=parent_args, signing=signing)
        if emit:
            self._emit(self._base("exec", p))
            self.tick(1)
        return p

    def fork(self, parent: Proc, **over) -> Proc:
        """A fork: the child runs the parent's image until it execs."""
        pid = self._pid()
        child = Proc(pid, self.t, parent.exe, list(parent.args), over.get("cwd", parent.cwd),
                     parent, over.get("uid", parent.uid), over.get("tty", parent.tty),
                     over.get("stdin", parent.stdin), over.get("stdout", parent.stdout),
                     signing=parent.signing)
        self._emit(self._base("fork", child))
        self.tick(1)
        return child

    def exec(self, p: Proc, exe: str, args: list[str], cwd: str | None = None,
             stdin: str | None = None, stdout: str | None = None,
             signing: dict | None = None, uid: int | None = None) -> Proc:
        """Replaces the image of p (keeps pid and entity id)."""
        p.exe = exe
        p.args = list(args)
        if cwd is not None:
            p.cwd = cwd
        if stdin is not None:
            p.stdin = stdin
        if stdout is not None:
            p.stdout = stdout
        if uid is not None:
            p.uid = uid
        p.signing = signing
        if self.os == "linux":
            if self.auth:
                ev = self._base("exec", p, full=False)
                ev["file"] = {"path": exe}
                ev["bm"]["auth_id"] = self.auth_id
                ev["bm"]["deadline"] = self.t + 5000
                self.auth_id += 1
                self._emit(ev)
                self.tick(1)
            ev = self._base("exec", p)
            self._emit(ev)
        else:
            ev = self._base("exec", p)
            ev["file"] = {"path": exe}
            if self.auth:
                ev["bm"]["auth_id"] = self.auth_id
                ev["bm"]["deadline"] = self.t + 5000
                self.auth_id += 1
            self._emit(ev)
        self.tick(1)
        return p

    def spawn(self, parent: Proc, exe: str, args: list[str], **kw) -> Proc:
        """fork + exec, the way a shell runs a command."""
        fork_over = {k: kw[k] for k in ("cwd", "uid", "tty", "stdin", "stdout") if k in kw}
        child = self.fork(parent, **fork_over)
        self.exec(child, exe, args, cwd=kw.get("cwd"), stdin=kw.get("stdin"),
                  stdout=kw.get("stdout"), signing=kw.get("signing"), uid=kw.get("uid"))
        return child

    def exit(self, p: Proc, code: int = 0) -> None:
        ev = self._base("exit", p)
        ev["process"]["exit_code"] = code
        self._emit(ev)
        self.tick(1)

    # -- files --------------------------------------------------------------
    def file(self, p: Proc, action: str, path: str, **extra) -> dict:
        f: dict = {"path": path}
        f.update(extra)
        ev = self._base(action, p)
        ev["file"] = f
        self._emit(ev)
        self.tick(1)
        return ev

    def open(self, p: Proc, path: str, **extra) -> dict:
        return self.file(p, "open", path, **extra)

    def write(self, p: Proc, path: str, create: bool = False, **extra) -> None:
        """A write: optional create, then close_modified (what fanotify and ES report)."""
        if create:
            self.file(p, "create", path)
        self.file(p, "close_modified", path, **extra)

    def rename(self, p: Proc, src: str, dst: str) -> None:
        self.file(p, "rename", src, target_path=dst)

    def unlink(self, p: Proc, path: str) -> None:
        self.file(p, "unlink", path)

    def launch_item_add(self, p: Proc, plist: str, item: str) -> None:
        ev = self.file(p, "launch_item_add", plist)
        ev["bm"]["launch_item"] = item

    # -- output -------------------------------------------------------------
    def dump(self, path: Path) -> int:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            for ev in self.events:
                fh.write(json.dumps(ev, separators=(",", ":")) + "\n")
        return len(self.events)


# -- common starting points ---------------------------------------------------

def linux_login_shell(t: Trace, user: str = "alice", uid: int = 1000) -> Proc:
    """sshd session -> interactive bash on a pty."""
    sshd = t.root("/usr/sbin/sshd", [f"sshd: {user}@pts/0"], cwd="/", uid=0,
                  ppid=812, parent_exe="/usr/sbin/sshd", parent_args=["/usr/sbin/sshd", "-D"],
                  stdin="null", stdout="null", age_ms=120_000)
    home = "/root" if uid == 0 else f"/home/{user}"
    return t.spawn(sshd, "/usr/bin/bash", ["-bash"], cwd=home, uid=uid, tty="pts/0",
                   stdin="tty", stdout="tty")


def macos_terminal_shell(t: Trace, user: str = "alice", uid: int = 501) -> Proc:
    """Terminal.app -> login -> zsh on a tty."""
    term = t.root("/System/Applications/Utilities/Terminal.app/Contents/MacOS/Terminal",
                  ["/System/Applications/Utilities/Terminal.app/Contents/MacOS/Terminal"],
                  cwd="/", uid=uid, ppid=1, parent_exe="/sbin/launchd",
                  signing={"signing_id": "com.apple.Terminal", "platform_binary": True},
                  age_ms=600_000)
    login = t.spawn(term, "/usr/bin/login", ["login", "-pf", user], uid=0, tty="ttys001",
                    stdin="tty", stdout="tty",
                    signing={"signing_id": "com.apple.login", "platform_binary": True})
    return t.spawn(login, "/bin/zsh", ["-zsh"], cwd=f"/Users/{user}", uid=uid,
                   signing={"signing_id": "com.apple.zsh", "platform_binary": True})
