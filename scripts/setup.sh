#!/usr/bin/env bash
# Installs what the tests need beyond Node.js/npm, python3, gcc and make, so the
# README's commands work on a fresh Debian machine. Idempotent; root only.
#   scripts/setup.sh           what the tests and the demonstration need
#   scripts/setup.sh --bench   also auditd, the baseline of bench/overhead.ts
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"

need_apt=()
command -v clang >/dev/null 2>&1 || need_apt+=(clang)
# The macOS sensor runs on Linux against the mock EndpointSecurity (dylib/macos/mock_es): blocks.
[ -f /usr/include/Block.h ] || need_apt+=(libblocksruntime-dev)
# ... under ASan/UBSan, built with clang: clang's sanitizer runtime.
if ! command -v clang >/dev/null 2>&1 ||
  [ ! -f "$(clang -print-file-name=libclang_rt.asan-x86_64.a)" ]; then
  need_apt+=(libclang-rt-dev)
fi
command -v dpkg-deb >/dev/null 2>&1 || need_apt+=(dpkg)
# The end-to-end scenarios run real tools: a download with curl, a benign git/tar workload, and
# the demonstration's private mount namespace (unshare, mount).
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v git >/dev/null 2>&1 || need_apt+=(git)
command -v tar >/dev/null 2>&1 || need_apt+=(tar)
command -v unshare >/dev/null 2>&1 || need_apt+=(util-linux)
command -v mount >/dev/null 2>&1 || need_apt+=(mount)
if [ "${1:-}" = "--bench" ]; then
  command -v auditctl >/dev/null 2>&1 || need_apt+=(auditd)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing ${need_apt[*]}: run this as root or install them with apt-get" >&2
    exit 1
  fi
  echo "setup: installing ${need_apt[*]} from Debian" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -x node_modules/.bin/deno ]; then
  npm ci --no-audit --no-fund
fi
node_modules/.bin/deno install --quiet
