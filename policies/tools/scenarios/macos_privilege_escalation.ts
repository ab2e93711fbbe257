/** macOS privilege escalation (T1548) (policies/macos/privilege_escalation_procedures.toml). */
import { run, sc, type Scenario } from "../scenario.ts";

export const MACOS_PRIVILEGE_ESCALATION: Scenario[] = [
  sc(
    "sudoers_weakened_cmd",
    "mac_root",
    [run(
      "/usr/bin/sed",
      "-i",
      "",
      "s/env_reset.*$/env_reset,timestamp_timeout=-1/",
      "/etc/sudoers",
    )],
    [run("/usr/bin/sed", "-n", "/Defaults/p", "/etc/sudoers")],
  ),
  sc(
    "authorizationdb_allow",
    "mac_root",
    [run("/usr/bin/security", "authorizationdb", "write", "system.privilege.admin", "allow")],
    [run("/usr/bin/security", "authorizationdb", "read", "system.login.console")],
  ),
  sc(
    "setuid_untrusted_path",
    "mac_root",
    [run("/bin/chmod", "u+s", "/Users/Shared/.svc/sh")],
    [
      run("/bin/chmod", "u+x", "/Users/Shared/tools/run.sh"),
      run("/bin/chmod", "4755", "/usr/local/bin/helper"),
    ],
  ),
];
