/** Discovery procedures (policies/linux/discovery_procedures.toml). */
import { type Act, pipe, run, runArgv, runDoing, sc, type Scenario } from "../scenario.ts";

const SH = "/usr/bin/sh";

const pings = (n: number): Act[] =>
  Array.from(
    { length: n },
    (_, i) => run("/usr/bin/ping", "-c", "1", "-W", "1", `10.0.0.${i + 1}`),
  );

export const DISCOVERY: Scenario[] = [
  sc(
    "container_discovery",
    "user",
    [run("/usr/bin/cat", "/proc/1/cgroup"), run("/usr/bin/ls", "-la", "/.dockerenv")],
    [run("/usr/bin/cat", "/proc/cpuinfo"), run("/usr/bin/kubectl", "get", "pods", "-n", "web")],
  ),
  sc(
    "web_server_container_probe",
    "web",
    [runDoing(SH, [
      "sh",
      "-c",
      "ls -la /.dockerenv; cat /var/run/secrets/kubernetes.io/serviceaccount/token",
    ], [
      run("/usr/bin/ls", "-la", "/.dockerenv"),
      run("/usr/bin/cat", "/var/run/secrets/kubernetes.io/serviceaccount/token"),
    ])],
    [run("/usr/bin/convert", "in.png", "out.webp")],
  ),
  sc(
    "network_scanner",
    "user",
    [run("/usr/bin/nmap", "-sS", "-p-", "10.0.0.0/24")],
    [run("/usr/bin/ping", "-c", "3", "10.0.0.1"), run("/usr/bin/dig", "example.org")],
  ),
  sc(
    "netcat_port_sweep",
    "user",
    [run("/usr/bin/nc", "-zv", "10.0.0.5", "1-1024")],
    [run("/usr/bin/nc", "-zv", "10.0.0.5", "22"), run("/usr/bin/nc", "-l", "8080")],
  ),
  sc(
    "ping_sweep",
    "user",
    [runDoing("/usr/bin/bash", [
      "bash",
      "-c",
      "for i in $(seq 1 12); do ping -c 1 -W 1 10.0.0.$i; done",
    ], pings(12))],
    [runDoing("/usr/bin/bash", ["bash", "-c", "ping -c 3 10.0.0.1; ping -c 3 8.8.8.8"], [
      run("/usr/bin/ping", "-c", "3", "10.0.0.1"),
      run("/usr/bin/ping", "-c", "3", "8.8.8.8"),
    ])],
  ),
  sc(
    "security_software_discovery",
    "user",
    [pipe(["/usr/bin/ps", "ps", "aux"], [
      "/usr/bin/grep",
      "grep",
      "-Ei",
      "falcon|osquery|auditd|wazuh",
    ])],
    [pipe(["/usr/bin/ps", "ps", "aux"], ["/usr/bin/grep", "grep", "nginx"])],
  ),
  sc(
    "account_enum_from_web",
    "web",
    [runDoing(SH, ["sh", "-c", "getent passwd; w"], [
      run("/usr/bin/getent", "passwd"),
      run("/usr/bin/w"),
    ])],
    [run("/usr/sbin/sendmail", "-t", "-i")],
  ),
  sc(
    "network_connections_from_web",
    "web",
    [runDoing(SH, ["sh", "-c", "netstat -antp; ip a"], [
      run("/usr/bin/netstat", "-antp"),
      run("/usr/sbin/ip", "a"),
    ])],
    [run("/usr/bin/convert", "in.png", "out.webp")],
  ),
  sc(
    "ssh_hosts_harvest",
    "user",
    [
      run("/usr/bin/cat", "/home/alice/.ssh/known_hosts"),
      run("/usr/bin/grep", "-h", "HostName", "/home/alice/.ssh/config"),
    ],
    [
      run("/usr/bin/ssh-keygen", "-R", "10.0.0.5"),
      run("/usr/bin/cat", "/home/alice/.ssh/id_ed25519.pub"),
    ],
  ),
  sc(
    "password_policy_discovery",
    "user",
    [run("/usr/bin/cat", "/etc/login.defs"), run("/usr/bin/chage", "-l", "alice")],
    [run("/usr/bin/cat", "/etc/hostname")],
  ),
  sc(
    "virtualization_check",
    "cron",
    [
      run("/usr/bin/systemd-detect-virt"),
      runArgv("/usr/sbin/dmidecode", ["dmidecode", "-s", "system-product-name"]),
    ],
    [runArgv("/usr/bin/systemd-detect-virt", ["systemd-detect-virt"], {
      tty: "pts/0",
      stdin: "tty",
      stdout: "tty",
    })],
    "user",
  ),
];
