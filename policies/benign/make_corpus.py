#!/usr/bin/env python3
"""Writes the benign corpus: everyday activity the full pack must not flag.

    python3 policies/benign/make_corpus.py     # rewrites policies/benign/*.jsonl

Each trace is a realistic slice of normal work with its lineage and sizes
(a tar extraction writes hundreds of files, dpkg renames every file it
installs, logrotate renames and deletes logs). tests/policies/pack_test.ts
replays them through the engine with every rule of the platform loaded and
requires zero rule firings and zero verdicts. Output is deterministic.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tools"))
from bmtrace import Trace, linux_login_shell, macos_terminal_shell  # noqa: E402


def asig(name: str) -> dict:
    return {"signing_id": f"com.apple.{name}", "platform_binary": True}


# -- a C build with make --------------------------------------------------------

def make_build() -> Trace:
    t = Trace("linux", first_pid=20100)
    sh = linux_login_shell(t)
    src = "/home/alice/src/minivm"
    mods = ["main", "lexer", "parser", "ast", "compile", "vm", "gc", "table", "string", "object",
            "memory", "debug", "value", "chunk", "scanner", "native", "io", "os", "math", "list",
            "map", "utf8", "error", "repl"]
    make = t.spawn(sh, "/usr/bin/make", ["make", "-j2", "all", "check"], cwd=src)
    t.open(make, f"{src}/Makefile")
    for i, m in enumerate(mods):
        s = t.spawn(make, "/usr/bin/sh", ["/bin/sh", "-c", f"cc -O2 -Wall -c src/{m}.c -o build/{m}.o"],
                    cwd=src, stdin="tty", stdout="tty")
        cc = t.spawn(s, "/usr/bin/cc", ["cc", "-O2", "-Wall", "-c", f"src/{m}.c", "-o", f"build/{m}.o"])
        tmp = f"/tmp/cc{'AbCdEf'[i % 6]}{i:04d}x.s"
        cc1 = t.spawn(cc, "/usr/libexec/gcc/x86_64-linux-gnu/12/cc1",
                      ["/usr/libexec/gcc/x86_64-linux-gnu/12/cc1", "-quiet", f"src/{m}.c", "-O2",
                       "-Wall", "-o", tmp])
        t.open(cc1, f"{src}/src/{m}.c")
        t.open(cc1, "/usr/include/stdio.h")
        t.open(cc1, f"{src}/src/common.h")
        t.write(cc1, tmp, create=True)
        t.exit(cc1)
        as_ = t.spawn(cc, "/usr/bin/x86_64-linux-gnu-as", ["as", "--64", "-o", f"build/{m}.o", tmp])
        t.open(as_, tmp)
        t.write(as_, f"{src}/build/{m}.o", create=True)
        t.exit(as_)
        t.unlink(cc, tmp)
        t.exit(cc)
        t.exit(s)
        t.tick(180)
    # archive and link
    s = t.spawn(make, "/usr/bin/sh", ["/bin/sh", "-c", "ar rcs build/libvm.a build/*.o"], cwd=src)
    ar = t.spawn(s, "/usr/bin/x86_64-linux-gnu-ar", ["ar", "rcs", "build/libvm.a"] + [f"build/{m}.o" for m in mods])
    t.write(ar, f"{src}/build/stV2xq9a", create=True)
    t.rename(ar, f"{src}/build/stV2xq9a", f"{src}/build/libvm.a")
    t.exit(ar)
    s = t.spawn(make, "/usr/bin/sh", ["/bin/sh", "-c", "cc -o minivm build/main.o build/libvm.a -lm"], cwd=src)
    cc = t.spawn(s, "/usr/bin/cc", ["cc", "-o", "minivm", "build/main.o", "build/libvm.a", "-lm"])
    c2 = t.spawn(cc, "/usr/libexec/gcc/x86_64-linux-gnu/12/collect2",
                 ["/usr/libexec/gcc/x86_64-linux-gnu/12/collect2", "-plugin", "-o", "minivm"])
    ld = t.spawn(c2, "/usr/bin/x86_64-linux-gnu-ld.bfd", ["/usr/bin/ld", "-o", "minivm", "build/main.o"])
    t.open(ld, f"{src}/build/libvm.a")
    t.write(ld, f"{src}/minivm", create=True)
    t.exit(ld)
    t.exit(c2)
    t.exit(cc)
    # a tiny config probe compiled to a.out and run from the build dir
    s = t.spawn(make, "/usr/bin/sh", ["/bin/sh", "-c", "cc build/probe.c && ./a.out > build/config.h"], cwd=src)
    cc = t.spawn(s, "/usr/bin/cc", ["cc", "build/probe.c"])
    ld = t.spawn(cc, "/usr/bin/x86_64-linux-gnu-ld.bfd", ["/usr/bin/ld", "-o", "a.out"])
    t.write(ld, f"{src}/a.out", create=True)
    t.exit(ld)
    t.exit(cc)
    aout = t.spawn(s, f"{src}/a.out", ["./a.out"], stdout="file")
    t.write(s, f"{src}/build/config.h", create=True)
    t.exit(aout)
    # make check: runs the built binary on test scripts, then a stamp with touch -r
    for n in range(12):
        s = t.spawn(make, "/usr/bin/sh", ["/bin/sh", "-c", f"./minivm tests/t{n:02d}.vm > build/t{n:02d}.out"], cwd=src)
        vm = t.spawn(s, f"{src}/minivm", ["./minivm", f"tests/t{n:02d}.vm"], stdout="file")
        t.open(vm, f"{src}/tests/t{n:02d}.vm")
        t.write(s, f"{src}/build/t{n:02d}.out", create=True)
        t.exit(vm)
        d = t.spawn(s, "/usr/bin/diff", ["diff", "-u", f"tests/t{n:02d}.expected", f"build/t{n:02d}.out"])
        t.exit(d)
        t.exit(s)
        t.tick(40)
    s = t.spawn(make, "/usr/bin/sh", ["/bin/sh", "-c", "touch -r src/main.c build/.stamp"], cwd=src)
    t.spawn(s, "/usr/bin/touch", ["touch", "-r", "src/main.c", "build/.stamp"])
    t.exit(make)
    return t


# -- a package install with maintainer scripts ----------------------------------

NGINX_FILES = (
    ["/usr/sbin/nginx", "/lib/systemd/system/nginx.service", "/etc/systemd/system/nginx-reload.service",
     "/etc/init.d/nginx", "/etc/logrotate.d/nginx", "/etc/default/nginx", "/etc/ufw/applications.d/nginx",
     "/etc/nginx/nginx.conf", "/etc/nginx/mime.types", "/etc/nginx/fastcgi_params", "/etc/nginx/koi-utf",
     "/etc/nginx/sites-available/default", "/etc/nginx/snippets/snakeoil.conf",
     "/etc/cron.d/nginx-certs"]
    + [f"/usr/share/nginx/modules-available/mod-{i:02d}.conf" for i in range(20)]
    + [f"/usr/share/doc/nginx-common/file{i:03d}" for i in range(60)]
    + [f"/usr/share/man/man8/nginx{i}.8.gz" for i in range(4)]
    + [f"/var/www/html/index-{i}.html" for i in range(2)]
)


def dpkg_install() -> Trace:
    t = Trace("linux", first_pid=30100)
    root = linux_login_shell(t, "root", 0)
    apt = t.spawn(root, "/usr/bin/apt-get", ["apt-get", "install", "-y", "nginx"])
    for p in ["/var/lib/dpkg/status", "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages"]:
        t.open(apt, p)
    http = t.spawn(apt, "/usr/lib/apt/methods/http", ["/usr/lib/apt/methods/http"], stdin="pipe", stdout="pipe")
    for deb in ["nginx-common_1.22.1-9_all.deb", "nginx_1.22.1-9_amd64.deb"]:
        part = f"/var/cache/apt/archives/partial/{deb}"
        t.write(http, part, create=True)
        t.rename(apt, part, f"/var/cache/apt/archives/{deb}")
    t.exit(http)
    dpkg = t.spawn(apt, "/usr/bin/dpkg", ["/usr/bin/dpkg", "--status-fd", "36", "--no-triggers", "--unpack",
                                          "--auto-deconfigure", "/var/cache/apt/archives/nginx_1.22.1-9_amd64.deb"])
    pre = t.spawn(dpkg, "/usr/bin/sh", ["/bin/sh", "/var/lib/dpkg/tmp.ci/preinst", "install"])
    t.exit(pre)
    for f in NGINX_FILES:
        t.write(dpkg, f + ".dpkg-new", create=True)
    for f in NGINX_FILES:
        t.rename(dpkg, f + ".dpkg-new", f)
    t.write(dpkg, "/var/lib/dpkg/info/nginx.list", create=True)
    t.write(dpkg, "/var/lib/dpkg/status-new", create=True)
    t.rename(dpkg, "/var/lib/dpkg/status-new", "/var/lib/dpkg/status")
    t.exit(dpkg)
    dpkg = t.spawn(apt, "/usr/bin/dpkg", ["/usr/bin/dpkg", "--status-fd", "36", "--configure", "nginx:amd64"])
    post = t.spawn(dpkg, "/usr/bin/sh", ["/bin/sh", "/var/lib/dpkg/info/nginx.postinst", "configure"])
    for args in (["adduser", "--system", "--group", "--no-create-home", "www-data"],
                 ["chown", "root:adm", "/var/log/nginx"], ["chmod", "0750", "/var/log/nginx"]):
        c = t.spawn(post, f"/usr/bin/{args[0]}" if args[0] != "adduser" else "/usr/sbin/adduser", args)
        if args[0] == "adduser":
            t.open(c, "/etc/shadow")
            t.open(c, "/etc/passwd")
        t.exit(c)
    helper = t.spawn(post, "/usr/bin/perl", ["/usr/bin/perl", "/usr/bin/deb-systemd-helper", "enable", "nginx.service"])
    t.file(helper, "create", "/etc/systemd/system/multi-user.target.wants/nginx.service")
    t.write(helper, "/var/lib/systemd/deb-systemd-helper-enabled/nginx.service.dsh-also", create=True)
    t.exit(helper)
    sc = t.spawn(post, "/usr/bin/systemctl", ["systemctl", "--system", "daemon-reload"])
    t.exit(sc)
    inv = t.spawn(post, "/usr/sbin/invoke-rc.d", ["/usr/sbin/invoke-rc.d", "nginx", "start"])
    sc = t.spawn(inv, "/usr/bin/systemctl", ["systemctl", "--quiet", "start", "nginx.service"])
    t.exit(sc)
    t.exit(inv)
    t.exit(post)
    # systemd starts the service: nginx master and workers, writing its logs
    systemd = t.root("/usr/lib/systemd/systemd", ["/sbin/init"], pid=1, ppid=0, age_ms=86_400_000)
    ng = t.spawn(systemd, "/usr/sbin/nginx", ["/usr/sbin/nginx", "-g", "daemon on; master_process on;"],
                 cwd="/", uid=0, stdin="null", stdout="null")
    t.write(ng, "/run/nginx.pid", create=True)
    for _ in range(2):
        t.fork(ng, uid=33)
    t.file(ng, "create", "/var/log/nginx/access.log")
    t.file(ng, "create", "/var/log/nginx/error.log")
    ldc = t.spawn(dpkg, "/usr/sbin/ldconfig", ["/sbin/ldconfig"])
    t.write(ldc, "/etc/ld.so.cache~", create=True)
    t.rename(ldc, "/etc/ld.so.cache~", "/etc/ld.so.cache")
    t.exit(dpkg)
    t.exit(apt)
    return t


# -- git operations ---------------------------------------------------------------

def git_ops() -> Trace:
    t = Trace("linux", first_pid=40100)
    sh = linux_login_shell(t)
    home = "/home/alice"
    repo = f"{home}/work/webapp"
    clone = t.spawn(sh, "/usr/bin/git", ["git", "clone", "git@github.com:example/webapp.git"], cwd=f"{home}/work")
    ssh = t.spawn(clone, "/usr/bin/ssh", ["ssh", "-o", "SendEnv=GIT_PROTOCOL", "git@github.com",
                                          "git-upload-pack 'example/webapp.git'"], stdin="pipe", stdout="pipe")
    for k in ["id_rsa", "id_ecdsa", "id_ed25519", "id_ed25519.pub"]:
        t.open(ssh, f"{home}/.ssh/{k}")
    t.open(ssh, f"{home}/.ssh/known_hosts")
    ip = t.spawn(clone, "/usr/lib/git-core/git", ["git", "index-pack", "--stdin", "--fix-thin"], cwd=repo,
                 stdin="pipe")
    t.write(ip, f"{repo}/.git/objects/pack/tmp_pack_Qm3x8a", create=True)
    t.write(ip, f"{repo}/.git/objects/pack/tmp_idx_Qm3x8a", create=True)
    t.exit(ip)
    t.exit(ssh)
    pk = "pack-4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    t.rename(clone, f"{repo}/.git/objects/pack/tmp_pack_Qm3x8a", f"{repo}/.git/objects/pack/{pk}.pack")
    t.rename(clone, f"{repo}/.git/objects/pack/tmp_idx_Qm3x8a", f"{repo}/.git/objects/pack/{pk}.idx")
    for f in ["config", "HEAD", "description", "packed-refs", "index"]:
        t.write(clone, f"{repo}/.git/{f}.lock", create=True)
        t.rename(clone, f"{repo}/.git/{f}.lock", f"{repo}/.git/{f}")
    for h in ["pre-commit.sample", "pre-push.sample", "commit-msg.sample", "post-update.sample"]:
        t.write(clone, f"{repo}/.git/hooks/{h}", create=True)
    dirs = ["src", "src/components", "src/lib", "tests", "docs", "scripts", "public"]
    for i in range(180):
        d = dirs[i % len(dirs)]
        ext = ["ts", "tsx", "md", "json", "css", "sh"][i % 6]
        t.write(clone, f"{repo}/{d}/file{i:03d}.{ext}", create=True)
    t.exit(clone)
    t.tick(60_000)
    # edit, then commit with a pre-commit hook
    vim = t.spawn(sh, "/usr/bin/vim.basic", ["vim", "src/lib/api.ts"], cwd=repo)
    t.write(vim, f"{repo}/src/lib/.api.ts.swp", create=True)
    t.write(vim, f"{repo}/src/lib/api.ts")
    t.unlink(vim, f"{repo}/src/lib/.api.ts.swp")
    t.exit(vim)
    add = t.spawn(sh, "/usr/bin/git", ["git", "add", "-A"], cwd=repo)
    t.write(add, f"{repo}/.git/objects/ab/tmp_obj_x81Kq2", create=True)
    t.rename(add, f"{repo}/.git/objects/ab/tmp_obj_x81Kq2", f"{repo}/.git/objects/ab/3f9e1c77d0a2b5e6f")
    t.write(add, f"{repo}/.git/index.lock", create=True)
    t.rename(add, f"{repo}/.git/index.lock", f"{repo}/.git/index")
    t.exit(add)
    commit = t.spawn(sh, "/usr/bin/git", ["git", "commit", "-m", "api: retry on 503"], cwd=repo)
    hook = t.spawn(commit, f"{repo}/.git/hooks/pre-commit", [".git/hooks/pre-commit"], cwd=repo)
    t.exec(hook, "/usr/bin/bash", ["bash", ".git/hooks/pre-commit"])
    g = t.spawn(hook, "/usr/bin/git", ["git", "diff", "--cached", "--name-only"], stdout="pipe")
    t.exit(g)
    gr = t.spawn(hook, "/usr/bin/grep", ["grep", "-n", "console.log"], stdin="pipe")
    t.exit(gr)
    t.exit(hook)
    for o in range(4):
        tmp = f"{repo}/.git/objects/{o:02x}/tmp_obj_Z{o}aQ"
        t.write(commit, tmp, create=True)
        t.rename(commit, tmp, f"{repo}/.git/objects/{o:02x}/9d{o}e0c1b2a3f4e5d6c7b8a9")
    t.write(commit, f"{repo}/.git/refs/heads/main.lock", create=True)
    t.rename(commit, f"{repo}/.git/refs/heads/main.lock", f"{repo}/.git/refs/heads/main")
    t.write(commit, f"{repo}/.git/logs/HEAD")
    t.exit(commit)
    t.tick(30_000)
    fetch = t.spawn(sh, "/usr/bin/git", ["git", "fetch", "origin"], cwd=repo)
    ssh = t.spawn(fetch, "/usr/bin/ssh", ["ssh", "git@github.com", "git-upload-pack 'example/webapp.git'"],
                  stdin="pipe", stdout="pipe")
    for k in ["id_rsa", "id_ecdsa", "id_ed25519"]:
        t.open(ssh, f"{home}/.ssh/{k}")
    t.exit(ssh)
    t.write(fetch, f"{repo}/.git/FETCH_HEAD", create=True)
    t.exit(fetch)
    push = t.spawn(sh, "/usr/bin/git", ["git", "push", "origin", "main"], cwd=repo)
    ssh = t.spawn(push, "/usr/bin/ssh", ["ssh", "git@github.com", "git-receive-pack 'example/webapp.git'"],
                  stdin="pipe", stdout="pipe")
    t.open(ssh, f"{home}/.ssh/id_ed25519")
    po = t.spawn(push, "/usr/lib/git-core/git", ["git", "pack-objects", "--all-progress-implied", "--stdout"],
                 stdout="pipe")
    t.exit(po)
    t.exit(ssh)
    t.exit(push)
    return t


# -- an interactive shell session -------------------------------------------------

def interactive_session() -> Trace:
    t = Trace("linux", first_pid=50100)
    sh = linux_login_shell(t)
    home = "/home/alice"

    def run(exe, args, gap=9_000, **kw):
        p = t.spawn(sh, exe, args, **kw)
        t.exit(p)
        t.tick(gap)
        return p

    run("/usr/bin/ls", ["ls", "--color=auto", "-la"])
    c = run("/usr/bin/cat", ["cat", "README.md"])
    t.open(c, f"{home}/README.md")
    # vim edits ~/.bashrc: swap file, backup by rename, new file written
    vim = t.spawn(sh, "/usr/bin/vim.basic", ["vim", f"{home}/.bashrc"])
    t.open(vim, f"{home}/.bashrc")
    t.write(vim, f"{home}/.bashrc.swp", create=True)
    t.tick(45_000)
    t.write(vim, f"{home}/4913", create=True)
    t.unlink(vim, f"{home}/4913")
    t.rename(vim, f"{home}/.bashrc", f"{home}/.bashrc~")
    t.write(vim, f"{home}/.bashrc", create=True)
    t.unlink(vim, f"{home}/.bashrc~")
    t.unlink(vim, f"{home}/.bashrc.swp")
    t.write(vim, f"{home}/.viminfo.tmp", create=True)
    t.rename(vim, f"{home}/.viminfo.tmp", f"{home}/.viminfo")
    t.exit(vim)
    t.tick(4_000)
    run("/usr/bin/grep", ["grep", "--color=auto", "-rn", "TODO", "src/"], cwd=home)
    ps = t.spawn(sh, "/usr/bin/ps", ["ps", "aux"], stdout="pipe")
    gr = t.spawn(sh, "/usr/bin/grep", ["grep", "--color=auto", "nginx"], stdin="pipe")
    t.exit(ps)
    t.exit(gr)
    t.tick(12_000)
    run("/usr/bin/less", ["less", "/var/log/nginx/error.log"], gap=30_000)
    run("/usr/bin/uname", ["uname", "-r"])
    sd = t.spawn(sh, "/usr/bin/sudo", ["sudo", "systemctl", "restart", "nginx"])
    t.open(sd, "/etc/sudoers")
    t.open(sd, "/etc/shadow")
    sc = t.spawn(sd, "/usr/bin/systemctl", ["systemctl", "restart", "nginx"], uid=0)
    t.exit(sc)
    t.exit(sd)
    t.tick(8_000)
    run("/usr/bin/df", ["df", "-h"])
    run("/usr/bin/mkdir", ["mkdir", "-p", "notes"])
    cp = t.spawn(sh, "/usr/bin/cp", ["cp", "README.md", "notes/README.bak"])
    t.write(cp, f"{home}/notes/README.bak", create=True)
    t.exit(cp)
    t.tick(5_000)
    ssh = t.spawn(sh, "/usr/bin/ssh", ["ssh", "build01", "uptime"])
    t.open(ssh, f"{home}/.ssh/id_ed25519")
    t.open(ssh, f"{home}/.ssh/known_hosts")
    t.exit(ssh)
    t.tick(20_000)
    run("/usr/bin/python3", ["python3", "-c", "import json,sys; print(json.dumps({'ok': True}))"])
    run("/usr/bin/find", ["find", ".", "-name", "*.log", "-mtime", "+7"])
    run("/usr/bin/chmod", ["chmod", "755", "notes"])
    run("/usr/bin/tail", ["tail", "-n", "50", f"{home}/.bash_history"])
    run("/usr/bin/clear", ["clear"])
    # logout: bash writes its history
    t.write(sh, f"{home}/.bash_history")
    t.exit(sh)
    return t


# -- archive extraction ------------------------------------------------------------

def tar_extract() -> Trace:
    t = Trace("linux", first_pid=60100)
    sh = linux_login_shell(t)
    base = "/home/alice/src"
    tar = t.spawn(sh, "/usr/bin/tar", ["tar", "xzf", "/home/alice/Downloads/curl-8.11.0.tar.gz"], cwd=base)
    t.open(tar, "/home/alice/Downloads/curl-8.11.0.tar.gz")
    gz = t.spawn(tar, "/usr/bin/gzip", ["gzip", "-d"], stdin="file", stdout="pipe")
    dirs = ["lib", "lib/vtls", "lib/vauth", "lib/vquic", "src", "include/curl", "docs", "docs/libcurl",
            "docs/libcurl/opts", "tests/data", "tests/libtest", "tests/unit", "m4", "scripts", "packages"]
    root = f"{base}/curl-8.11.0"
    for i in range(520):
        d = dirs[i % len(dirs)]
        ext = {"lib": "c", "src": "c", "include/curl": "h", "m4": "m4", "scripts": "pl"}.get(d, "md")
        if d.startswith("tests/data"):
            ext = ""
        name = f"{root}/{d}/f{i:04d}" + (f".{ext}" if ext else "")
        t.write(tar, name, create=True)
    for f in ["configure", "Makefile.in", "install-sh", "config.guess", "ltmain.sh", ".gitattributes"]:
        t.write(tar, f"{root}/{f}", create=True)
    t.exit(gz)
    t.exit(tar)
    t.tick(5_000)
    # then a second archive: a prebuilt tool unpacked under ~/opt and run from there
    tar = t.spawn(sh, "/usr/bin/tar", ["tar", "xJf", "/home/alice/Downloads/node-v22.11.0-linux-x64.tar.xz",
                                       "-C", "/home/alice/opt"], cwd="/home/alice")
    xz = t.spawn(tar, "/usr/bin/xz", ["xz", "-d"], stdin="file", stdout="pipe")
    nroot = "/home/alice/opt/node-v22.11.0-linux-x64"
    for i in range(140):
        sub = ["lib/node_modules/npm/lib", "lib/node_modules/npm/node_modules", "include/node", "share/doc/node"][i % 4]
        t.write(tar, f"{nroot}/{sub}/m{i:03d}.js", create=True)
    t.write(tar, f"{nroot}/bin/node", create=True)
    t.exit(xz)
    t.exit(tar)
    node = t.spawn(sh, f"{nroot}/bin/node", ["node", "--version"])
    t.exit(node)
    return t


# -- log rotation ----------------------------------------------------------------------

LOGS = ["syslog", "auth.log", "kern.log", "daemon.log", "user.log", "messages", "debug", "mail.log",
        "cron.log", "dpkg.log", "alternatives.log", "apt/history.log", "apt/term.log", "nginx/access.log",
        "nginx/error.log", "ufw.log", "fail2ban.log", "unattended-upgrades/unattended-upgrades.log",
        "btmp", "wtmp"]


def logrotate() -> Trace:
    t = Trace("linux", first_pid=70100)
    systemd = t.root("/usr/lib/systemd/systemd", ["/sbin/init"], pid=1, ppid=0, age_ms=86_400_000)
    lr = t.spawn(systemd, "/usr/sbin/logrotate", ["/usr/sbin/logrotate", "/etc/logrotate.conf"], cwd="/")
    t.open(lr, "/etc/logrotate.conf")
    t.open(lr, "/var/lib/logrotate/status")
    for name in LOGS:
        p = f"/var/log/{name}"
        t.unlink(lr, f"{p}.7.gz")
        for n in range(6, 1, -1):
            t.rename(lr, f"{p}.{n}.gz", f"{p}.{n + 1}.gz")
        t.rename(lr, f"{p}.1", f"{p}.2")
        t.rename(lr, p, f"{p}.1")
        t.file(lr, "create", p)
        gz = t.spawn(lr, "/usr/bin/gzip", ["/bin/gzip"], stdin="file", stdout="file")
        t.open(gz, f"{p}.2")
        t.write(gz, f"{p}.2.gz", create=True)
        t.exit(gz)
        t.unlink(lr, f"{p}.2")
        t.tick(20)
    # postrotate for rsyslog and nginx
    sh = t.spawn(lr, "/usr/bin/sh", ["sh", "-c", "/usr/lib/rsyslog/rsyslog-rotate"])
    t.exec(sh, "/usr/bin/sh", ["/bin/sh", "/usr/lib/rsyslog/rsyslog-rotate"])
    sc = t.spawn(sh, "/usr/bin/systemctl", ["systemctl", "kill", "-s", "HUP", "rsyslog.service"])
    t.exit(sc)
    t.exit(sh)
    sh = t.spawn(lr, "/usr/bin/sh", ["sh", "-c", "invoke-rc.d nginx rotate >/dev/null 2>&1"])
    inv = t.spawn(sh, "/usr/sbin/invoke-rc.d", ["/usr/sbin/invoke-rc.d", "nginx", "rotate"])
    t.exit(inv)
    t.exit(sh)
    t.write(lr, "/var/lib/logrotate/status.tmp", create=True)
    t.rename(lr, "/var/lib/logrotate/status.tmp", "/var/lib/logrotate/status")
    t.exit(lr)
    # savelog-style cleanup of old journal files by journald itself
    jd = t.root("/usr/lib/systemd/systemd-journald", ["/lib/systemd/systemd-journald"], ppid=1,
                parent_exe="/usr/lib/systemd/systemd")
    for i in range(4):
        t.unlink(jd, f"/var/log/journal/5f3c2a/system@0006{i}-archived.journal")
    return t


# -- a server's daily housekeeping: cron.daily, ssh logins, tmpfiles, updatedb ------

def server_daily() -> Trace:
    t = Trace("linux", first_pid=90100)
    systemd = t.root("/usr/lib/systemd/systemd", ["/sbin/init"], pid=1, ppid=0, age_ms=86_400_000)
    cron = t.root("/usr/sbin/cron", ["/usr/sbin/cron", "-f"], ppid=1, parent_exe="/usr/lib/systemd/systemd",
                  age_ms=86_000_000)
    job = t.fork(cron)
    t.exec(job, "/usr/bin/dash", ["/bin/sh", "-c", "test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }"])
    rp = t.spawn(job, "/usr/bin/run-parts", ["run-parts", "--report", "/etc/cron.daily"], cwd="/")
    # /etc/cron.daily/passwd: keep copies of the account files in /var/backups
    pw = t.spawn(rp, "/usr/bin/dash", ["/bin/sh", "/etc/cron.daily/passwd"])
    for f in ["passwd", "group", "shadow", "gshadow"]:
        cmp = t.spawn(pw, "/usr/bin/cmp", ["cmp", "-s", f"{f}.bak", f"/etc/{f}"], cwd="/var/backups")
        t.open(cmp, f"/var/backups/{f}.bak")
        t.open(cmp, f"/etc/{f}")
        t.exit(cmp, 1)
        cp = t.spawn(pw, "/usr/bin/cp", ["cp", "-p", f"/etc/{f}", f"{f}.bak"], cwd="/var/backups")
        t.open(cp, f"/etc/{f}")
        t.write(cp, f"/var/backups/{f}.bak")
        t.exit(cp)
        ch = t.spawn(pw, "/usr/bin/chmod", ["chmod", "600", f"{f}.bak"], cwd="/var/backups")
        t.exit(ch)
    t.exit(pw)
    # /etc/cron.daily/dpkg -> dpkg-db-backup: rotate the dpkg status backups
    dk = t.spawn(rp, "/usr/bin/dash", ["/bin/sh", "/etc/cron.daily/dpkg"])
    dbb = t.spawn(dk, "/usr/bin/dash", ["/bin/sh", "/usr/libexec/dpkg/dpkg-db-backup"], cwd="/var/backups")
    sl = t.spawn(dbb, "/usr/bin/savelog", ["savelog", "-c", "7", "-l", "-n", "dpkg.status"], cwd="/var/backups")
    for n in range(6, 0, -1):
        t.rename(sl, f"/var/backups/dpkg.status.{n}.gz", f"/var/backups/dpkg.status.{n + 1}.gz")
    t.rename(sl, "/var/backups/dpkg.status.0", "/var/backups/dpkg.status.1")
    gz = t.spawn(sl, "/usr/bin/gzip", ["gzip", "-9f", "dpkg.status.1"], cwd="/var/backups")
    t.write(gz, "/var/backups/dpkg.status.1.gz", create=True)
    t.unlink(gz, "/var/backups/dpkg.status.1")
    t.exit(gz)
    t.exit(sl)
    tar = t.spawn(dbb, "/usr/bin/tar", ["tar", "-cf", "/var/backups/alternatives.tar.0", "-C", "/var/lib/dpkg", "alternatives"])
    t.write(tar, "/var/backups/alternatives.tar.0", create=True)
    t.exit(tar)
    t.exit(dbb)
    t.exit(dk)
    # /etc/cron.daily/man-db: refresh the index as user man
    mdb = t.spawn(rp, "/usr/bin/dash", ["/bin/sh", "/etc/cron.daily/man-db"])
    mandb = t.spawn(mdb, "/usr/bin/mandb", ["/usr/bin/mandb", "--quiet"], uid=6)
    for i in range(40):
        t.open(mandb, f"/usr/share/man/man1/tool{i:02d}.1.gz")
    t.write(mandb, "/var/cache/man/index.db.tmp", create=True)
    t.rename(mandb, "/var/cache/man/index.db.tmp", "/var/cache/man/index.db")
    t.exit(mandb)
    t.exit(mdb)
    t.exit(rp)
    t.exit(job)
    t.tick(60_000)
    # ssh logins: OpenSSH 9.8 sshd-session authenticates through PAM
    listener = t.root("/usr/sbin/sshd", ["sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"], ppid=1,
                      parent_exe="/usr/lib/systemd/systemd", age_ms=86_000_000)
    for n, user in enumerate(["deploy", "alice", "backup"]):
        sess = t.spawn(listener, "/usr/lib/openssh/sshd-session", ["sshd-session: " + user + " [priv]"])
        for k in ["rsa", "ecdsa", "ed25519"]:
            t.open(sess, f"/etc/ssh/ssh_host_{k}_key")
        t.open(sess, "/etc/shadow")
        chk = t.spawn(sess, "/usr/sbin/unix_chkpwd", ["/sbin/unix_chkpwd", user, "chkexpiry"])
        t.open(chk, "/etc/shadow")
        t.exit(chk)
        uid = 1001 + n
        child = t.fork(sess, uid=uid)
        sh = t.spawn(child, "/usr/bin/bash", ["bash", "-c", "uptime; df -h /"], uid=uid, stdin="pipe", stdout="pipe")
        for cmd in (["uptime"], ["df", "-h", "/"]):
            c = t.spawn(sh, f"/usr/bin/{cmd[0]}", cmd, stdout="pipe")
            t.exit(c)
        t.exit(sh)
        t.exit(sess)
        t.tick(20_000)
    # systemd-tmpfiles --clean and updatedb
    tf = t.spawn(systemd, "/usr/bin/systemd-tmpfiles", ["systemd-tmpfiles", "--clean"])
    for i in range(30):
        t.unlink(tf, f"/tmp/systemd-private-8f2a-chrony.service-{i:02d}/tmp/file")
    for i in range(6):
        t.unlink(tf, f"/var/tmp/cache-{i}.tmp")
    t.exit(tf)
    up = t.spawn(systemd, "/usr/sbin/updatedb.plocate", ["/usr/sbin/updatedb.plocate"])
    t.write(up, "/var/lib/plocate/plocate.db.Xk2f9a", create=True)
    t.rename(up, "/var/lib/plocate/plocate.db.Xk2f9a", "/var/lib/plocate/plocate.db")
    t.exit(up)
    sa = t.spawn(systemd, "/usr/lib/sysstat/sa1", ["/usr/lib/sysstat/sa1", "1", "1"])
    sadc = t.spawn(sa, "/usr/lib/sysstat/sadc", ["/usr/lib/sysstat/sadc", "-F", "-L", "-S", "DISK", "1", "1", "/var/log/sysstat"])
    t.write(sadc, "/var/log/sysstat/sa27")
    t.exit(sadc)
    t.exit(sa)
    return t


# -- macOS: a developer terminal session with Homebrew and an Xcode build ----------------

def macos_dev_session() -> Trace:
    t = Trace("macos", first_pid=80100)
    sh = macos_terminal_shell(t)
    home = "/Users/alice"

    def run(exe, args, parent=sh, gap=8_000, **kw):
        if exe.startswith(("/usr/", "/bin/", "/sbin/")) and "signing" not in kw:
            kw["signing"] = asig(exe.rsplit("/", 1)[-1])
        p = t.spawn(parent, exe, args, **kw)
        return p

    ls = run("/bin/ls", ["ls", "-la"])
    t.exit(ls)
    # brew install: bottle download, extraction into the Cellar, service plist
    brew = run("/bin/bash", ["/bin/bash", "/opt/homebrew/Library/Homebrew/brew.sh", "install", "postgresql@16"])
    ruby = t.spawn(brew, "/opt/homebrew/Library/Homebrew/vendor/portable-ruby/current/bin/ruby",
                   ["ruby", "/opt/homebrew/Library/Homebrew/brew.rb", "install", "postgresql@16"])
    cache = f"{home}/Library/Caches/Homebrew/downloads"
    curl = run("/usr/bin/curl", ["curl", "--location", "--output", f"{cache}/pg16.bottle.tar.gz.incomplete",
                                 "https://ghcr.io/v2/homebrew/core/postgresql/16/blobs/sha256:1"], parent=ruby)
    t.write(curl, f"{cache}/pg16.bottle.tar.gz.incomplete", create=True)
    t.exit(curl)
    t.rename(ruby, f"{cache}/pg16.bottle.tar.gz.incomplete", f"{cache}/pg16.bottle.tar.gz")
    tar = run("/usr/bin/tar", ["tar", "--extract", "--no-same-owner", "--file", f"{cache}/pg16.bottle.tar.gz",
                               "--directory", "/private/tmp/d20261127-1234-x1"], parent=ruby)
    cellar = "/opt/homebrew/Cellar/postgresql@16/16.4"
    for i in range(150):
        sub = ["bin", "lib", "share/postgresql@16", "include/postgresql@16/server"][i % 4]
        t.write(tar, f"/private/tmp/d20261127-1234-x1/postgresql@16/16.4/{sub}/f{i:03d}", create=True)
    t.exit(tar)
    for i in range(150):
        sub = ["bin", "lib", "share/postgresql@16", "include/postgresql@16/server"][i % 4]
        t.rename(ruby, f"/private/tmp/d20261127-1234-x1/postgresql@16/16.4/{sub}/f{i:03d}",
                 f"{cellar}/{sub}/f{i:03d}")
    cs = run("/usr/bin/codesign", ["codesign", "--sign", "-", "--force", f"{cellar}/bin/postgres"], parent=ruby)
    t.exit(cs)
    t.file(ruby, "deletexattr", f"{cellar}/bin/postgres", xattr="com.apple.provenance")
    initdb = t.spawn(ruby, f"{cellar}/bin/initdb", ["initdb", "--locale=C", "-E", "UTF-8", "/opt/homebrew/var/postgresql@16"])
    t.exit(initdb)
    t.exit(ruby)
    t.exit(brew)
    t.tick(10_000)
    # brew services start: writes the LaunchAgent, loads it with launchctl
    brew = run("/bin/bash", ["/bin/bash", "/opt/homebrew/Library/Homebrew/brew.sh", "services", "start", "postgresql@16"])
    ruby = t.spawn(brew, "/opt/homebrew/Library/Homebrew/vendor/portable-ruby/current/bin/ruby",
                   ["ruby", "/opt/homebrew/Library/Homebrew/brew.rb", "services", "start", "postgresql@16"])
    t.write(ruby, f"{home}/Library/LaunchAgents/homebrew.mxcl.postgresql@16.plist", create=True)
    lc = run("/bin/launchctl", ["launchctl", "bootstrap", "gui/501",
                                f"{home}/Library/LaunchAgents/homebrew.mxcl.postgresql@16.plist"], parent=ruby)
    t.exit(lc)
    t.exit(ruby)
    t.exit(brew)
    t.tick(15_000)
    # an Xcode command-line build and test run
    xb = run("/usr/bin/xcodebuild", ["xcodebuild", "-scheme", "App", "-configuration", "Debug", "build"],
             cwd=f"{home}/dev/App")
    dd = f"{home}/Library/Developer/Xcode/DerivedData/App-abc/Build"
    for i in range(30):
        sc = t.spawn(xb, "/Applications/Xcode.app/Contents/Developer/Toolchains/XcodeDefault.xctoolchain/usr/bin/swift-frontend",
                     ["swift-frontend", "-frontend", "-c", f"Sources/F{i}.swift"],
                     signing={"signing_id": "com.apple.swift-frontend", "team_id": "59GAB85EFG"})
        t.write(sc, f"{dd}/Intermediates.noindex/App.build/Debug/App.build/Objects-normal/arm64/F{i}.o", create=True)
        t.exit(sc)
    ld = t.spawn(xb, "/Applications/Xcode.app/Contents/Developer/Toolchains/XcodeDefault.xctoolchain/usr/bin/ld",
                 ["ld", "-o", f"{dd}/Products/Debug/App.app/Contents/MacOS/App"])
    t.write(ld, f"{dd}/Products/Debug/App.app/Contents/MacOS/App", create=True)
    t.exit(ld)
    t.exit(xb)
    app = t.spawn(sh, f"{dd}/Products/Debug/App.app/Contents/MacOS/App", ["App", "--self-test"])
    t.exit(app)
    # everyday commands
    for exe, args in [("/usr/bin/git", ["git", "status"]), ("/usr/bin/grep", ["grep", "-rn", "TODO", "Sources"]),
                      ("/usr/bin/security", ["security", "find-generic-password", "-s", "gh:github.com"]),
                      ("/usr/bin/defaults", ["defaults", "read", "com.apple.dock", "autohide"]),
                      ("/usr/bin/xattr", ["xattr", "-l", f"{home}/Downloads/report.pdf"]),
                      ("/usr/bin/sw_vers", ["sw_vers"]), ("/bin/ps", ["ps", "aux"])]:
        p = run(exe, args)
        t.exit(p)
        t.tick(12_000)
    v = run("/usr/bin/vim", ["vim", f"{home}/.zshrc"])
    t.write(v, f"{home}/.zshrc")
    t.exit(v)
    t.write(sh, f"{home}/.zsh_history")
    return t


TRACES = {
    "make_build": make_build,
    "dpkg_install": dpkg_install,
    "git_ops": git_ops,
    "interactive_session": interactive_session,
    "tar_extract": tar_extract,
    "logrotate": logrotate,
    "server_daily": server_daily,
    "macos_dev_session": macos_dev_session,
}


def main() -> int:
    for name, fn in TRACES.items():
        n = fn().dump(HERE / f"{name}.jsonl")
        print(f"{name}.jsonl: {n} events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
