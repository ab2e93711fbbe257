#!/bin/bash
# A developer running part of this project's test suite in a clone ($1):
# deno lint and type check, the engine and CLI unit tests, the C sensor's tests.
set -eu
cd "$1"
node_modules/.bin/deno lint src/engine
node_modules/.bin/deno test --allow-all src/engine src/cli/record_test.ts src/config
make -s -C dylib all
