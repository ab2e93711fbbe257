/** Privilege escalation procedures (policies/linux/privilege_escalation_procedures.toml). */
import { run, runArgv, runDoing, sc, type Scenario, write } from "../scenario.ts";

const SUDO = "/usr/bin/sudo";
const SH = "/usr/bin/sh";
const BASH = "/usr/bin/bash";

export const PRIVILEGE_ESCALATION: Scenario[] = [
  sc(
    "setcap_dangerous",
    "root",
    [run("/usr/sbin/setcap", "cap_setuid+ep", "/usr/bin/python3.11")],
    [
      run("/usr/sbin/setcap", "cap_net_bind_service=+ep", "/usr/local/bin/caddy"),
      run("/usr/sbin/getcap", "/usr/bin/ping"),
    ],
  ),
  sc(
    "capability_enumeration",
    "user",
    [run("/usr/sbin/getcap", "-r", "/")],
    [run("/usr/sbin/getcap", "/usr/bin/ping")],
  ),
  sc(
    "suid_enumeration",
    "user",
    [run("/usr/bin/find", "/", "-perm", "-4000", "-type", "f")],
    [
      run("/usr/bin/find", ".", "-perm", "-u+x", "-name", "*.sh"),
      run("/usr/bin/find", "/var/log", "-mtime", "+30"),
    ],
  ),
  sc(
    "sudo_list_noninteractive",
    "web",
    [runArgv(SUDO, ["sudo", "-n", "-l"])],
    // an administrator checks their rights at a terminal
    [runArgv(SUDO, ["sudo", "-l"], { tty: "pts/0", stdin: "tty", stdout: "tty" })],
    "user",
  ),
  sc(
    "sudo_timestamp_write",
    "user",
    [runDoing("/usr/bin/python3", ["python3", "/tmp/ts.py"], [
      write("/run/sudo/ts/alice", { create: false }),
    ])],
    [runDoing(SUDO, ["sudo", "apt", "update"], [write("/run/sudo/ts/alice", { create: false })])],
  ),
  sc(
    "sudo_shell_escape",
    "user",
    [runDoing(SUDO, ["sudo", "vim", "-c", ":!/bin/sh"], [
      runDoing("/usr/bin/vim.basic", ["vim", "-c", ":!/bin/sh"], [runArgv(SH, ["/bin/sh"])], {
        uid: 0,
      }),
    ], { uid: 0 })],
    // sudo vim /etc/hosts; :!make runs sh -c
    [runDoing(SUDO, ["sudo", "vim", "/etc/nginx/nginx.conf"], [
      runDoing("/usr/bin/vim.basic", ["vim", "/etc/nginx/nginx.conf"], [
        runArgv(SH, ["/bin/sh", "-c", "nginx -t"]),
      ], {
        uid: 0,
      }),
    ], { uid: 0 })],
  ),
  sc(
    "find_exec_shell",
    "user",
    [run("/usr/bin/find", ".", "-exec", "/bin/sh", "-p", ";", "-quit")],
    [
      run("/usr/bin/find", ".", "-name", "*.o", "-exec", "rm", "{}", ";"),
      run(
        "/usr/bin/find",
        ".",
        "-name",
        "*.sh",
        "-exec",
        "sh",
        "-c",
        'shellcheck "$1"',
        "_",
        "{}",
        ";",
      ),
    ],
  ),
  sc(
    "shell_privileged_from_temp",
    "user",
    [runArgv("/tmp/.rootbash", ["/tmp/.rootbash", "-p"])],
    [runArgv(BASH, ["bash", "-p", "-c", "echo $EUID"])],
  ),
  sc(
    "nsenter_host_namespaces",
    "root",
    [run("/usr/bin/nsenter", "-t", "1", "-m", "-u", "-i", "-n", "-p", "--", "/bin/sh")],
    [run("/usr/bin/nsenter", "-t", "23411", "-n", "ip", "addr")],
  ),
  sc(
    "proc1_root_access",
    "root",
    [run("/usr/sbin/chroot", "/proc/1/root", "/bin/bash")],
    [run("/usr/bin/ls", "-l", "/proc/1/root"), run("/usr/bin/cat", "/proc/1/status")],
  ),
  sc(
    "docker_host_mount",
    "user",
    [run(
      "/usr/bin/docker",
      "run",
      "--rm",
      "-it",
      "-v",
      "/:/host",
      "alpine",
      "chroot",
      "/host",
      "sh",
    )],
    [run(
      "/usr/bin/docker",
      "run",
      "--rm",
      "-v",
      "/home/alice/src:/src",
      "-w",
      "/src",
      "node:20",
      "npm",
      "test",
    )],
  ),
  sc(
    "docker_socket_curl",
    "user",
    [run(
      "/usr/bin/curl",
      "-s",
      "--unix-socket",
      "/var/run/docker.sock",
      "http://localhost/containers/json",
    )],
    [run("/usr/bin/docker", "ps"), run("/usr/bin/curl", "-s", "http://localhost:2375/_ping")],
  ),
  sc(
    "cgroup_release_agent",
    "root",
    [
      run("/usr/bin/mkdir", "/tmp/cgrp/x"),
      runDoing(SH, ["sh", "-c", "echo 1 > /tmp/cgrp/x/notify_on_release"], [
        write("/tmp/cgrp/x/notify_on_release", { create: false }),
      ]),
      runDoing(SH, ["sh", "-c", "echo /cmd > /tmp/cgrp/release_agent"], [
        write("/tmp/cgrp/release_agent", { create: false }),
      ]),
    ],
    [runDoing("/usr/bin/tee", ["tee", "/sys/fs/cgroup/user.slice/cpu.max"], [
      write("/sys/fs/cgroup/user.slice/cpu.max", { create: false }),
    ])],
  ),
  sc(
    "cgroup_mount",
    "root",
    [
      run("/usr/bin/mkdir", "/tmp/cgrp"),
      run("/usr/bin/mount", "-t", "cgroup", "-o", "rdma", "cgroup", "/tmp/cgrp"),
    ],
    [
      run("/usr/bin/mount", "-t", "tmpfs", "tmpfs", "/tmp/build"),
      run("/usr/bin/mount", "-t", "cgroup2", "none", "/sys/fs/cgroup"),
    ],
  ),
  sc(
    "privesc_exploit_tools",
    "user",
    [
      runArgv(BASH, ["bash", "/tmp/linpeas.sh"]),
      runArgv("/tmp/pspy64", ["/tmp/pspy64", "-pf", "-i", "1000"]),
    ],
    [run("/usr/bin/uname", "-r"), runArgv(BASH, ["bash", "/home/alice/bin/peas-report.sh"])],
  ),
  sc(
    "pkexec_from_temp",
    "user",
    [runDoing("/tmp/.p/exploit", ["/tmp/.p/exploit"], [runArgv("/usr/bin/pkexec", ["pkexec"])])],
    [runArgv("/usr/bin/pkexec", ["pkexec", "/usr/sbin/gparted"])],
  ),
  sc(
    "gconv_path_env",
    "user",
    [runArgv("/usr/bin/env", [
      "env",
      "-i",
      "GCONV_PATH=.",
      "CHARSET=PWNKIT",
      "SHELL=pwnkit",
      "/usr/bin/pkexec",
    ])],
    [runArgv("/usr/bin/env", ["env", "-i", "PATH=/usr/bin", "LANG=C", "/usr/bin/locale"])],
  ),
  sc(
    "web_server_privesc_probe",
    "web",
    [runDoing(SH, ["sh", "-c", "sudo -n -l; find / -perm -4000 2>/dev/null"], [
      runArgv(SUDO, ["sudo", "-n", "-l"]),
      run("/usr/bin/find", "/", "-perm", "-4000"),
    ])],
    [run("/usr/bin/find", "/var/www/html/cache", "-mtime", "+7", "-delete")],
  ),
  sc(
    "ptrace_scope_disable",
    "root",
    [run("/usr/sbin/sysctl", "-w", "kernel.yama.ptrace_scope=0")],
    [
      run("/usr/sbin/sysctl", "-w", "net.ipv4.ip_forward=1"),
      run("/usr/sbin/sysctl", "kernel.yama.ptrace_scope"),
    ],
  ),
];
