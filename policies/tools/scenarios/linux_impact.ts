/** Impact procedures (policies/linux/impact_procedures.toml). */
import { type Act, run, runArgv, runDoing, sc, type Scenario, write } from "../scenario.ts";

const BASH = "/usr/bin/bash";
const SC = "/usr/bin/systemctl";
const SH = "/usr/bin/sh";

const DOCS = ["q1.xlsx", "q2.xlsx", "contract.pdf", "plan.docx", "photo.jpg", "db.sql", "notes.md"];
const each = (f: (name: string) => Act, n = DOCS.length): Act[] => DOCS.slice(0, n).map(f);

export const IMPACT: Scenario[] = [
  sc(
    "openssl_encrypt_burst",
    "user",
    [runDoing(
      BASH,
      [
        "bash",
        "-c",
        "for f in *; do openssl enc -aes-256-cbc -salt -pbkdf2 -pass pass:x -in $f -out $f.enc; done",
      ],
      each((d) =>
        run(
          "/usr/bin/openssl",
          "enc",
          "-aes-256-cbc",
          "-salt",
          "-pbkdf2",
          "-pass",
          "pass:x",
          "-in",
          d,
          "-out",
          `${d}.enc`,
        )
      ),
    )],
    // a backup script encrypts its one archive; a certificate is inspected
    [runDoing(BASH, ["bash", "/home/alice/bin/backup.sh"], [
      run(
        "/usr/bin/openssl",
        "enc",
        "-aes-256-cbc",
        "-pbkdf2",
        "-pass",
        "file:/home/alice/.bk",
        "-in",
        "home.tar",
        "-out",
        "home.tar.enc",
      ),
      run("/usr/bin/openssl", "x509", "-in", "cert.pem", "-noout", "-dates"),
    ])],
  ),
  sc(
    "gpg_symmetric_burst",
    "user",
    [runDoing(
      BASH,
      ["bash", "-c", "find . -type f -exec gpg --batch --yes -c --passphrase x {} ;"],
      each((d) => run("/usr/bin/gpg", "--batch", "--yes", "-c", "--passphrase", "x", d)),
    )],
    [runDoing(BASH, ["bash", "-c", "gpg --batch -e -r ops@example.org dump.sql"], [
      run("/usr/bin/gpg", "--batch", "-e", "-r", "ops@example.org", "dump.sql"),
    ])],
  ),
  sc(
    "shred_burst",
    "root",
    [runDoing(
      BASH,
      ["bash", "-c", "find /srv/data -type f -exec shred -uz {} ;"],
      each((d) => run("/usr/bin/shred", "-uz", `/srv/data/${d}`)),
    )],
    [
      run("/usr/bin/shred", "-u", "/root/old_key.pem"),
      run("/usr/bin/shred", "-u", "/root/tmp_token"),
    ],
  ),
  sc(
    "disk_wipe",
    "root",
    [run("/usr/bin/dd", "if=/dev/zero", "of=/dev/sda", "bs=1M")],
    [
      run("/usr/bin/dd", "if=/dev/zero", "of=/root/swapfile", "bs=1M", "count=1024"),
      run("/usr/sbin/wipefs", "/dev/sdb"),
    ],
  ),
  sc(
    "rm_root_tree",
    "root",
    [run("/usr/bin/rm", "-rf", "--no-preserve-root", "/")],
    [run("/usr/bin/rm", "-rf", "/home/alice/build"), run("/usr/bin/rm", "-rf", "/tmp/x")],
  ),
  sc(
    "crypto_miner_stratum",
    "cron",
    [runArgv("/var/tmp/.sys/sysupdate", [
      "sysupdate",
      "-o",
      "stratum+tcp://pool.example.net:3333",
      "-u",
      "4Abc",
      "-p",
      "x",
    ])],
    [run("/usr/bin/curl", "-s", "https://status.example.net/stratum/health")],
  ),
  sc(
    "crypto_miner_names",
    "user",
    [runArgv("/tmp/.x/xmrig", ["./xmrig", "-c", "config.json"])],
    [run("/usr/bin/xz", "-d", "data.xz"), run("/usr/bin/python3", "mine_logs.py")],
  ),
  sc(
    "crypto_miner_flags",
    "cron",
    [runArgv("/var/tmp/.sys/kswapd0", [
      "kswapd0",
      "--donate-level",
      "1",
      "--cpu-max-threads-hint",
      "75",
      "-B",
    ])],
    [run("/usr/bin/nice", "-n", "19", "make", "-j4")],
  ),
  sc(
    "service_stop_burst",
    "root",
    [runDoing(
      BASH,
      ["bash", "/tmp/stop.sh"],
      ["mysql", "postgresql", "docker", "nginx", "bacula-fd", "cron"].map((s) =>
        run(SC, "stop", s)
      ),
    )],
    [runDoing(BASH, ["bash", "/root/maint.sh"], [
      run(SC, "stop", "nginx"),
      run(SC, "stop", "php8.2-fpm"),
      run(SC, "start", "nginx"),
    ])],
  ),
  sc(
    "database_service_kill",
    "root",
    [run("/usr/bin/pkill", "-9", "mysqld"), run("/usr/bin/killall", "-9", "postgres")],
    [run("/usr/bin/pkill", "-HUP", "nginx"), run("/usr/bin/pkill", "-9", "node")],
  ),
  sc(
    "shutdown_from_web_server",
    "web",
    [runDoing(SH, ["sh", "-c", "shutdown -h now"], [run("/usr/sbin/shutdown", "-h", "now")])],
    [run("/usr/sbin/sendmail", "-t", "-i")],
  ),
  sc(
    "backup_destruction",
    "root",
    [
      run("/usr/bin/rm", "-rf", "/var/backups/db"),
      run("/usr/sbin/lvremove", "-f", "/dev/vg0/snap1"),
    ],
    [run("/usr/bin/rm", "-f", "/var/backups/dpkg.status.7.gz"), run("/usr/sbin/lvs")],
  ),
  sc(
    "ransom_note_burst",
    "user",
    [runDoing(
      "/tmp/.e/enc",
      ["/tmp/.e/enc"],
      ["/home/alice/Documents", "/home/alice/Pictures", "/home/alice/src"].map((d) =>
        write(`${d}/HOW_TO_DECRYPT.txt`)
      ),
    )],
    [runDoing(
      "/usr/bin/git",
      ["git", "clone", "https://example.org/x.git"],
      ["/home/alice/x/README.md", "/home/alice/x/docs/README.md", "/home/alice/x/LICENSE.txt"].map((
        p,
      ) => write(p)),
    )],
  ),
  sc(
    "root_account_lockout",
    "root",
    [runArgv("/usr/bin/passwd", ["passwd", "-l", "root"], {
      stdin: "null",
      stdout: "null",
    })],
    [run("/usr/bin/passwd", "-l", "olduser"), run("/usr/bin/passwd", "-S", "root")],
  ),
];
