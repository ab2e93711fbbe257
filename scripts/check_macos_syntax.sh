#!/usr/bin/env bash
# Compiles the macOS sensor with `clang -fsyntax-only` on a machine without the
# macOS SDK: EndpointSecurity, Mach, libbsm and libproc come from test-only declarations
# (dylib/macos/test_es_decls, written from Apple's documented API). Catches
# wrong ES calls (argument count or types), misspelt fields and C errors; it
# does not link or run anything. The shared core (dylib/common/*.c) is checked
# too, with -D__APPLE__ and a test-only <pthread.h> that has only what macOS's
# libc has (test_es_decls/libc), so Linux-only calls in the core fail here.
#   scripts/check_macos_syntax.sh            dylib/macos/*.m, dylib/macos/*.c, dylib/common/*.c
#   scripts/check_macos_syntax.sh FILE...    those files (the syntax test uses this)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v clang >/dev/null 2>&1; then
  echo "Missing clang: run scripts/setup.sh" >&2
  exit 1
fi
if [ $# -eq 0 ]; then
  set -- "$here"/dylib/macos/*.m "$here"/dylib/macos/*.c "$here"/dylib/common/*.c
fi
flags=(-fsyntax-only -fblocks -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter
  -I "$here/dylib/macos/test_es_decls/libc" -I "$here/dylib/macos/test_es_decls"
  -I "$here/dylib/macos" -I "$here/dylib/include" -I "$here/dylib/common")
status=0
for f in "$@"; do
  extra=()
  case "$f" in
    *.m) lang=objective-c ;;
    *) lang=c ;;
  esac
  # the core is built for macOS as plain C: take its __APPLE__ branches
  case "$f" in
    */common/*.c) extra=(-D__APPLE__) ;;
  esac
  if clang "${flags[@]}" "${extra[@]}" -x "$lang" "$f"; then
    echo "ok $f"
  else
    echo "FAILED $f" >&2
    status=1
  fi
done
exit $status
