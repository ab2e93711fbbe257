#!/bin/sh
# Installs bm on a Linux system (or lays it out under --destdir for packaging).
#
#   install.sh --binary PATH [--lib PATH] [--destdir DIR] [--no-start]
#
# --binary  the bm executable (a `deno task compile` build; see the README)
# --lib     the native sensor (default: dylib/build/libbm_sensor.so, `make -C dylib`);
#           bm_guardian, built beside it, ships beside it too (the sensor runs it
#           from its own directory)
# --destdir stage into DIR instead of / (used by build_deb.sh); no systemctl calls
# --no-start  install and enable the service but do not start it
#
# Layout: /usr/bin/bm, /usr/lib/bm/libbm_sensor.so, /usr/lib/bm/bm_guardian, /usr/share/bm/policies,
# /lib/systemd/system/bm.service, /etc/bm/bm.toml (kept if it already exists).
# Every file is root-owned and not group/world-writable: bm refuses to load a
# config, rule or library file a non-root user could have written.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
binary=""
lib="$repo/dylib/build/libbm_sensor.so"
destdir=""
start=1

die() {
  printf '%s\n' "install.sh: $*" >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --binary) [ $# -ge 2 ] || die "--binary needs a path"; binary=$2; shift 2 ;;
    --lib) [ $# -ge 2 ] || die "--lib needs a path"; lib=$2; shift 2 ;;
    --destdir) [ $# -ge 2 ] || die "--destdir needs a directory"; destdir=$2; shift 2 ;;
    --no-start) start=0; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) die "unknown argument \"$1\"" ;;
  esac
done

[ -n "$binary" ] || die "--binary PATH is required (build it with \"deno task compile\")"
[ -f "$binary" ] && [ -x "$binary" ] || die "\"$binary\" is not an executable file"
[ -f "$lib" ] || die "\"$lib\" does not exist: build it with \"make -C dylib\""
guardian="$(dirname "$lib")/bm_guardian"
[ -f "$guardian" ] || die "\"$guardian\" does not exist: build it with \"make -C dylib\""
[ -d "$repo/policies" ] || die "\"$repo/policies\" does not exist"
if [ -z "$destdir" ] && [ "$(id -u)" -ne 0 ]; then
  die "installing to / needs root"
fi

# Staged files are made root-owned by dpkg-deb --root-owner-group; a real
# install sets the owner here.
own() {
  if [ "$(id -u)" -eq 0 ]; then chown root:root "$@"; fi
}

umask 022
install -d -m 0755 "$destdir/usr/bin" "$destdir/usr/lib/bm" "$destdir/usr/share/bm" \
  "$destdir/lib/systemd/system"
install -d -m 0755 "$destdir/etc/bm"
install -m 0755 "$binary" "$destdir/usr/bin/bm"
install -m 0644 "$lib" "$destdir/usr/lib/bm/libbm_sensor.so"
install -m 0755 "$guardian" "$destdir/usr/lib/bm/bm_guardian"
install -m 0644 "$here/bm.service" "$destdir/lib/systemd/system/bm.service"
if [ ! -e "$destdir/etc/bm/bm.toml" ]; then
  install -m 0644 "$here/bm.toml" "$destdir/etc/bm/bm.toml"
fi
rm -rf "$destdir/usr/share/bm/policies"
cp -R "$repo/policies" "$destdir/usr/share/bm/policies"
find "$destdir/usr/share/bm/policies" -type d -exec chmod 0755 {} +
find "$destdir/usr/share/bm/policies" -type f -exec chmod 0644 {} +
# `bm demo` replays this recorded trace when it cannot run live (not root, not Linux).
install -d -m 0755 "$destdir/usr/share/bm/demo"
install -m 0644 "$repo/policies/demo/demo_trace.jsonl" "$destdir/usr/share/bm/demo/demo_trace.jsonl"
own "$destdir/usr/bin/bm" "$destdir/usr/lib/bm/libbm_sensor.so" "$destdir/usr/lib/bm/bm_guardian" \
  "$destdir/lib/systemd/system/bm.service" "$destdir/etc/bm" "$destdir/etc/bm/bm.toml"
if [ "$(id -u)" -eq 0 ]; then chown -R root:root "$destdir/usr/share/bm"; fi

if [ -n "$destdir" ]; then
  exit 0
fi

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload
  systemctl enable bm.service
  if [ "$start" -eq 1 ]; then
    systemctl restart bm.service
  fi
  echo "bm installed; service enabled (systemctl status bm)"
else
  echo "bm installed; systemd is not running here: start the agent with \"bm daemon\""
fi
