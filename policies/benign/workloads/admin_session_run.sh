#!/bin/bash
# Runs admin_session.sh in an interactive bash on a pseudo-terminal (script(1)).
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
script -qec "bash --norc -i" /dev/null < "$here/admin_session.sh"
