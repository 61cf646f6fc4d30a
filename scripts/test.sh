#!/usr/bin/env bash
# Set up, build, and run the whole test suite: unit tests, then kernel tests that really load
# the plugins (as root), then a 60 s fuzzing run of the compression codec (scripts/fuzz.sh),
# then the kernel matrix (the same binaries in Linux 5.10, 6.1 and 6.12
# guests, docs/compatibility.md regenerated; scripts/matrix.sh). Extra arguments go to ctest and
# skip the matrix, e.g. scripts/test.sh -L unit.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
(cd build && ctest --output-on-failure --timeout 300 "$@")
if [ $# -eq 0 ]; then
  scripts/fuzz.sh 60
  scripts/matrix.sh
fi
