/** Credential access procedures (policies/linux/credential_access_procedures.toml). */
import { type Act, pipe, run, runArgv, runDoing, sc, type Scenario } from "../scenario.ts";

const PY = "/usr/bin/python3";
const BASH = "/usr/bin/bash";

const opens = (paths: string[]): Act[] => paths.map((p) => ({ open: p }));
const pids = [812, 1021, 1190, 1204, 1377, 1402, 1533, 1688, 1702, 1804];

export const CREDENTIAL_ACCESS: Scenario[] = [
  sc(
    "proc_mem_read",
    "root",
    [runDoing(PY, ["python3", "/tmp/mp.py"], [{ open: "/proc/1377/maps" }, {
      open: "/proc/1377/mem",
    }])],
    [
      runDoing("/usr/bin/gdb", ["gdb", "-p", "1377", "-batch", "-ex", "bt"], [{
        open: "/proc/1377/mem",
      }]),
      runDoing("/usr/bin/ps", ["ps", "aux"], opens(["/proc/1377/stat"])),
    ],
  ),
  sc(
    "proc_maps_scan",
    "root",
    [runDoing(BASH, ["bash", "/tmp/mimipenguin"], opens(pids.map((p) => `/proc/${p}/maps`)))],
    [
      runDoing("/usr/bin/pmap", ["pmap", "-x", "1377"], opens(["/proc/1377/maps"])),
      runDoing(
        PY,
        ["python3", "leakcheck.py"],
        opens(pids.slice(0, 3).map((p) => `/proc/${p}/maps`)),
      ),
    ],
  ),
  sc(
    "credential_dumper_tools",
    "root",
    [run(BASH, "/tmp/mimipenguin.sh"), run(PY, "/tmp/laZagne.py", "all")],
    [run(BASH, "/root/bin/backup.sh"), run(PY, "/usr/local/bin/certbot", "renew")],
  ),
  sc(
    "history_password_grep",
    "user",
    [run("/usr/bin/grep", "-i", "pass", "/home/alice/.bash_history")],
    [
      run("/usr/bin/grep", "ssh", "/home/alice/.bash_history"),
      run("/usr/bin/grep", "-i", "pass", "notes.txt"),
    ],
  ),
  sc(
    "credential_grep_recursive",
    "web",
    [run("/usr/bin/grep", "-rni", "password", "/var/www")],
    [
      run("/usr/bin/grep", "-rn", "TODO", "/var/www/html/src"),
      run("/usr/bin/grep", "-i", "password", "/var/www/html/README"),
    ],
  ),
  sc(
    "credential_file_search",
    "user",
    [run("/usr/bin/find", "/", "-name", "id_rsa", "-o", "-name", "*.pem")],
    [run("/usr/bin/find", ".", "-name", "*.pem"), run("/usr/bin/find", "/home", "-name", "*.log")],
  ),
  sc(
    "cloud_credential_read",
    "user",
    [runDoing("/usr/bin/tar", [
      "tar",
      "czf",
      "/tmp/.c.tgz",
      "/home/alice/.aws",
      "/home/alice/.kube",
    ], opens(["/home/alice/.aws/credentials", "/home/alice/.kube/config"]))],
    [
      runDoing("/usr/local/bin/aws", ["aws", "s3", "ls"], opens(["/home/alice/.aws/credentials"])),
      runDoing("/usr/bin/kubectl", ["kubectl", "get", "pods"], opens(["/home/alice/.kube/config"])),
    ],
  ),
  sc(
    "cloud_metadata_credentials",
    "web",
    [run(
      "/usr/bin/curl",
      "-s",
      "http://169.254.169.254/latest/meta-data/iam/security-credentials/web-role",
    )],
    [
      run("/usr/bin/curl", "-s", "http://169.254.169.254/latest/meta-data/instance-id"),
      run("/usr/bin/curl", "-s", "http://127.0.0.1:8080/health"),
    ],
  ),
  sc(
    "dotfile_secret_read",
    "user",
    [runDoing(
      "/usr/bin/cat",
      ["cat", "/home/alice/.git-credentials"],
      opens(["/home/alice/.git-credentials"]),
    )],
    [runDoing("/usr/bin/git", ["git", "push"], [
      runDoing(
        "/usr/lib/git-core/git-credential-store",
        ["git-credential-store", "get"],
        opens(["/home/alice/.git-credentials"]),
      ),
    ])],
  ),
  sc(
    "proc_environ_read",
    "user",
    [pipe(["/usr/bin/cat", "cat", "/proc/1402/environ"], ["/usr/bin/tr", "tr", "\\0", "\\n"])],
    [run("/usr/bin/cat", "/proc/self/status"), run("/usr/bin/cat", "/proc/meminfo")],
  ),
  sc(
    "password_cracker",
    "user",
    [
      run("/usr/sbin/unshadow", "passwd.txt", "shadow.txt"),
      run("/usr/sbin/john", "--wordlist=rockyou.txt", "hashes"),
    ],
    [run("/usr/bin/openssl", "passwd", "-6"), run("/usr/bin/mkpasswd", "-m", "sha-512")],
  ),
  sc(
    "secret_store_dump",
    "user",
    [run(
      "/usr/bin/secret-tool",
      "search",
      "--all",
      "xdg:schema",
      "org.gnome.keyring.NetworkPassword",
    )],
    [run("/usr/bin/secret-tool", "lookup", "service", "backup")],
  ),
  sc(
    "input_device_read",
    "root",
    [runDoing(PY, ["python3", "/tmp/.k/kl.py"], opens(["/dev/input/event3"]))],
    [runDoing("/usr/bin/evtest", ["evtest", "/dev/input/event3"], opens(["/dev/input/event3"]))],
  ),
  sc(
    "tty_input_snoop",
    "root",
    [run("/usr/bin/strace", "-p", "1804", "-f", "-e", "trace=read,write", "-s", "64")],
    [
      run("/usr/bin/strace", "-f", "-e", "trace=openat", "./server"),
      run("/usr/bin/strace", "-c", "-p", "1804"),
    ],
  ),
  sc(
    "ssh_agent_socket_hijack",
    "root",
    [runArgv("/usr/bin/env", [
      "env",
      "SSH_AUTH_SOCK=/tmp/ssh-XXXXk2Ncq1/agent.2204",
      "ssh",
      "-o",
      "StrictHostKeyChecking=no",
      "deploy@10.0.4.12",
    ])],
    [runArgv("/usr/bin/env", [
      "env",
      "SSH_AUTH_SOCK=/run/user/0/gnupg/S.gpg-agent.ssh",
      "ssh",
      "backup@10.0.4.12",
    ])],
  ),
];
