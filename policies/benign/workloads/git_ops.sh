#!/bin/bash
# git clone (no hardlinks, so objects are copied and indexed), a commit, log, gc.
set -eu
src="$1"; dst="$2"
git clone --no-local -q "$src" "$dst"
cd "$dst"
git config user.email dev@example.com
git config user.name Dev
printf '\nA line added by the benign recording.\n' >> README.md
git checkout -q -b benign-edit
git add README.md
git commit -q -m "README: a benign edit"
git log --oneline -3
git status --short
git gc -q
git count-objects -v
