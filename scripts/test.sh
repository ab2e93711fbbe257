#!/usr/bin/env bash
# The whole test suite: native library (C unit tests under ASan/UBSan), then
# every Deno test. Prints a closing "N passed, N failed" line.
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
bash scripts/setup.sh || exit 1
deno=node_modules/.bin/deno

c_passed=0
c_failed=0
if [ -f dylib/Makefile ]; then
  if make -s -C dylib all test; then c_passed=1; else c_failed=1; fi
fi

log="$(mktemp)"
NO_COLOR=1 "$deno" test --allow-all --quiet "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
summary="$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$log" | tail -1)"
rm -f "$log"
passed="$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$summary")"
failed="$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$summary")"
passed=$(( ${passed:-0} + c_passed ))
failed=$(( ${failed:-0} + c_failed ))
echo "$passed passed, $failed failed"
if [ "$rc" -ne 0 ] || [ "$c_failed" -ne 0 ]; then exit 1; fi
