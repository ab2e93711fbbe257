/** macOS credential access (T1555.001, T1552, T1539, T1110) (policies/macos/credential_access_procedures.toml). */
import { run, sc, type Scenario } from "../scenario.ts";

export const MACOS_CREDENTIAL_ACCESS: Scenario[] = [
  sc(
    "keychain_export",
    "mac_app",
    [run(
      "/usr/bin/security",
      "export",
      "-k",
      "/Users/alice/Library/Keychains/login.keychain-db",
      "-t",
      "identities",
      "-f",
      "pkcs12",
      "-P",
      "x",
      "-o",
      "/private/tmp/.k.p12",
    )],
    [
      run("/usr/bin/security", "list-keychains"),
      run("/usr/bin/security", "find-certificate", "-c", "Developer ID"),
    ],
    "mac_user",
  ),
  sc(
    "keychain_unlock_password_arg",
    "mac_app",
    [run(
      "/usr/bin/security",
      "unlock-keychain",
      "-p",
      "hunter2",
      "/Users/alice/Library/Keychains/login.keychain-db",
    )],
    [run(
      "/usr/bin/security",
      "unlock-keychain",
      "/Users/alice/Library/Keychains/login.keychain-db",
    )],
    "mac_user",
  ),
  sc(
    "keychain_dumper_tool",
    "mac_user",
    [run(
      "/usr/bin/python3",
      "-m",
      "chainbreaker",
      "--dump-all",
      "/Users/alice/Library/Keychains/login.keychain-db",
    )],
    [run("/usr/bin/python3", "-m", "pip", "list")],
  ),
  sc(
    "kcpassword_read",
    "mac_root",
    [run("/usr/bin/xxd", "/private/etc/kcpassword")],
    [run("/bin/ls", "-l", "/private/etc/kcpassword")],
  ),
  sc(
    "ssh_private_key_copy",
    "mac_app",
    [run(
      "/usr/bin/zip",
      "-q",
      "/private/tmp/.s.zip",
      "/Users/alice/.ssh/id_ed25519",
      "/Users/alice/.ssh/known_hosts",
    )],
    [
      run("/bin/cat", "/Users/alice/.ssh/id_ed25519.pub"),
      run("/bin/cp", "/Users/alice/.ssh/id_ed25519.pub", "/Users/alice/Desktop/key.pub"),
    ],
    "mac_user",
  ),
  sc(
    "cloud_credentials_copy",
    "mac_app",
    [run("/bin/cp", "/Users/alice/.aws/credentials", "/private/tmp/.c")],
    [run("/bin/cat", "/Users/alice/.aws/config")],
    "mac_user",
  ),
  sc(
    "browser_cookie_copy",
    "mac_app",
    [run(
      "/bin/cp",
      "/Users/alice/Library/Containers/com.apple.Safari/Data/Library/Cookies/Cookies.binarycookies",
      "/private/tmp/.c",
    )],
    [run("/bin/ls", "/Users/alice/Library/Containers/com.apple.Safari/Data/Library/Cookies")],
  ),
  sc(
    "dscl_authonly_guessing",
    "mac_app",
    [
      run("/usr/bin/dscl", ".", "-authonly", "alice", "123456"),
      run("/usr/bin/dscl", ".", "-authonly", "alice", "password"),
      run("/usr/bin/dscl", ".", "-authonly", "alice", "qwerty"),
      run("/usr/bin/dscl", ".", "-authonly", "alice", "letmein"),
      run("/usr/bin/dscl", ".", "-authonly", "alice", "dragon"),
    ],
    [run("/usr/bin/dscl", ".", "-authonly", "alice", "s3cret-typed-once")],
  ),
  sc(
    "account_password_reset",
    "mac_root",
    [run("/usr/sbin/sysadminctl", "-resetPasswordFor", "bob", "-newPassword", "P@ss1234")],
    [run("/usr/sbin/sysadminctl", "-secureTokenStatus", "bob")],
  ),
  sc(
    "password_grep_home",
    "mac_app",
    [run("/usr/bin/grep", "-riI", "password", "/Users/alice")],
    [run("/usr/bin/grep", "-rn", "TODO", "src")],
    "mac_user",
  ),
  sc(
    "spotlight_secret_search",
    "mac_app",
    [run("/usr/bin/mdfind", "kMDItemTextContent == '*password*'cd")],
    [run("/usr/bin/mdfind", "-name", "Quarterly Report.pdf")],
    "mac_user",
  ),
];
