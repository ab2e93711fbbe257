#!/bin/bash
# A python virtualenv (ensurepip installs pip's own wheel into it), pip list,
# and a script run with the venv's interpreter.
set -eu
cd "$1"
python3 -m venv venv
venv/bin/pip --version
venv/bin/pip list
cat > report.py <<'PY'
import json, os, sys, hashlib
files = sorted(os.listdir(sys.prefix))
digest = hashlib.sha256("".join(files).encode()).hexdigest()
with open("report.json", "w") as f:
    json.dump({"prefix": sys.prefix, "files": files, "sha256": digest}, f)
print("wrote report.json")
PY
venv/bin/python report.py
venv/bin/python -m compileall -q report.py
