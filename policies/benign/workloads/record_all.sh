#!/bin/bash
# Records every benign workload with "bm record -- COMMAND" (audit mode, the
# command's process subtree only) into OUT_DIR (default: policies/benign).
# Run as root on the machine the README names; needs the native library
# (make -C dylib), npm, gcc, make, git, python3-venv, logrotate, cron, ssh-keygen.
#   policies/benign/workloads/record_all.sh [OUT_DIR] [WORKLOAD ...]
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
out="$(cd "${1:-$here/..}" && pwd)"
shift || true
# developer workloads run in a project directory under a home, as they do in real life
scratch="$(mktemp -d /root/bmrec.XXXXXX)"
rec() { # NAME COMMAND...
  local name="$1"; shift
  echo "== $name" >&2
  "$repo/bin/bm" record --output "$out/$name.jsonl" -- "$@"
}
WANT="$*"
want() { [ -z "$WANT" ] || [[ " $WANT " == *" $1 "* ]]; }
if want apt_packages; then rec apt_packages "$here/apt_packages.sh"; fi
if want npm_ci; then
  mkdir -p "$scratch/npm" && cp "$here/npm_project/package.json" "$here/npm_project/package-lock.json" "$scratch/npm/"
  rec npm_ci "$here/npm_ci.sh" "$scratch/npm"
fi
if want npm_ci_tmp; then
  # the same install as a CI job does it: in a checkout under /tmp
  ci="$(mktemp -d /tmp/bmrec-ci.XXXXXX)"
  cp "$here/npm_project/package.json" "$here/npm_project/package-lock.json" "$ci/"
  rec npm_ci_tmp "$here/npm_ci.sh" "$ci"
  rm -rf "$ci"
fi
if want make_build; then
  cp -r "$repo/dylib" "$scratch/dylib"
  rec make_build "$here/make_build.sh" "$scratch/dylib"
fi
if want git_ops; then rec git_ops "$here/git_ops.sh" "$repo" "$scratch/clone"; fi
if want python_venv; then mkdir -p "$scratch/py" && rec python_venv "$here/python_venv.sh" "$scratch/py"; fi
if want admin_session; then rec admin_session "$here/admin_session_run.sh"; fi
if want logrotate; then rec logrotate "$here/logrotate.sh" "$scratch/logrotate"; fi
if want tar_backup; then mkdir -p "$scratch/tar" && rec tar_backup "$here/tar_backup.sh" "$scratch/tar"; fi
if want ssh_keygen; then mkdir -p "$scratch/home" && rec ssh_keygen "$here/ssh_keygen.sh" "$scratch/home"; fi
if want dev_tests; then
  git clone -q --no-local "$repo" "$scratch/dev" && cp -r "$repo/node_modules" "$scratch/dev/"
  rec dev_tests "$here/dev_tests.sh" "$scratch/dev"
fi
rm -rf "$scratch"
