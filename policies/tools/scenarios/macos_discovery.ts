/** macOS discovery (T1082, T1087, T1201, T1135, T1217, T1497.001, T1518) (policies/macos/discovery_procedures.toml). */
import { pipe, run, sc, type Scenario } from "../scenario.ts";

export const MACOS_DISCOVERY: Scenario[] = [
  sc(
    "vm_detection",
    "mac_app",
    [pipe(["/usr/sbin/ioreg", "ioreg", "-rd1", "-c", "IOPlatformExpertDevice"], [
      "/usr/bin/grep",
      "grep",
      "-i",
      "-E",
      "vmware|virtualbox|parallels",
    ])],
    [pipe(["/usr/sbin/ioreg", "ioreg", "-rd1", "-c", "IOPlatformExpertDevice"], [
      "/usr/bin/grep",
      "grep",
      "IOPlatformSerialNumber",
    ])],
    "mac_user",
  ),
  sc(
    "security_software_discovery",
    "mac_app",
    [pipe(["/bin/ps", "ps", "aux"], [
      "/usr/bin/egrep",
      "egrep",
      "-i",
      "little snitch|falcond|SentinelAgent|BlockBlock|LuLu",
    ])],
    [pipe(["/bin/ps", "ps", "aux"], ["/usr/bin/grep", "grep", "-i", "node"])],
    "mac_user",
  ),
  sc(
    "local_accounts_listed",
    "mac_app",
    [run("/usr/bin/dscl", ".", "list", "/Users")],
    [run("/usr/bin/dscl", ".", "-read", "/Users/alice", "NFSHomeDirectory")],
    "mac_user",
  ),
  sc(
    "password_policy_discovery",
    "mac_app",
    [run("/usr/bin/pwpolicy", "getaccountpolicies")],
    [run("/usr/bin/pwpolicy", "-u", "alice", "-authentication-allowed")],
    "mac_user",
  ),
  sc(
    "network_share_discovery",
    "mac_app",
    [run("/usr/bin/smbutil", "view", "-g", "//guest@fileserver.local")],
    [run("/usr/bin/smbutil", "statshares", "-a")],
    "mac_user",
  ),
  sc(
    "system_profile_by_app",
    "mac_app",
    [run("/usr/sbin/system_profiler", "SPHardwareDataType")],
    [run("/usr/sbin/system_profiler", "SPHardwareDataType")],
    "mac_user",
  ),
  sc(
    "browser_history_read",
    "mac_app",
    [run(
      "/usr/bin/sqlite3",
      "/Users/alice/Library/Safari/History.db",
      "SELECT url FROM history_items",
    )],
    [run("/usr/bin/sqlite3", "/Users/alice/src/app/dev.db", "SELECT count(*) FROM users")],
    "mac_user",
  ),
];
