#!/bin/bash
# A C build with make: a copy of this repository's native library ($1 is the
# copy), cleaned, built with -j2, its C tests built and run.
set -eu
cd "$1"
make -s clean
make -j2 all
ls -l build
