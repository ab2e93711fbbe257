#!/bin/sh
# Builds the bm .deb with dpkg-deb.
#
#   build_deb.sh --binary PATH [--lib PATH] [--version V] [--arch ARCH] [--output DIR]
#
# --binary  the bm executable to ship as /usr/bin/bm. Releases pass the
#           `deno task compile` build (dist/bm); deno compile needs dl.deno.land,
#           so the package test passes a stand-in executable instead.
# --lib     the native sensor (default dylib/build/libbm_sensor.so)
# --version defaults to VERSION in src/version.ts
# --arch    Debian architecture (default amd64)
# --output  directory for the .deb (default dist/); prints the .deb path
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
binary=""
lib="$repo/dylib/build/libbm_sensor.so"
version=""
arch="amd64"
output="$repo/dist"

die() {
  printf '%s\n' "build_deb.sh: $*" >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --binary) [ $# -ge 2 ] || die "--binary needs a path"; binary=$2; shift 2 ;;
    --lib) [ $# -ge 2 ] || die "--lib needs a path"; lib=$2; shift 2 ;;
    --version) [ $# -ge 2 ] || die "--version needs a value"; version=$2; shift 2 ;;
    --arch) [ $# -ge 2 ] || die "--arch needs a value"; arch=$2; shift 2 ;;
    --output) [ $# -ge 2 ] || die "--output needs a directory"; output=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) die "unknown argument \"$1\"" ;;
  esac
done

command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb is missing: install the \"dpkg\" package"
[ -n "$binary" ] || die "--binary PATH is required (build it with \"deno task compile\")"
if [ -z "$version" ]; then
  version=$(sed -n 's/^export const VERSION = "\(.*\)";$/\1/p' "$repo/src/version.ts")
fi
case "$version" in
  ""|*[!A-Za-z0-9.+~-]*) die "bad version \"$version\"" ;;
esac
case "$arch" in
  ""|*[!a-z0-9-]*) die "bad architecture \"$arch\"" ;;
esac

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT INT TERM
root="$stage/bm_${version}_${arch}"
mkdir -p "$root"
sh "$here/install.sh" --binary "$binary" --lib "$lib" --destdir "$root"

install -d -m 0755 "$root/DEBIAN"
for f in postinst prerm postrm; do
  install -m 0755 "$here/debian/$f" "$root/DEBIAN/$f"
done
install -m 0644 "$here/debian/conffiles" "$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
  "$here/debian/control.in" > "$root/DEBIAN/control"
chmod 0644 "$root/DEBIAN/control"

mkdir -p "$output"
deb="$output/bm_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
printf '%s\n' "$deb"
