#!/bin/bash
# npm ci of a small project: esbuild (its postinstall runs "node install.js"),
# two plain dependencies, and the project's own postinstall ("node -e ...").
# The project dir with its package-lock.json is prepared beforehand ($1).
set -eu
cd "$1"
rm -rf node_modules
npm ci --no-audit --no-fund
node -e 'console.log(require("ms")("2 days"))'
