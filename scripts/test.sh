#!/usr/bin/env bash
# Set up, build, and run the whole test suite: unit tests, then kernel tests that really load
# the plugins (as root). Extra arguments go to ctest, e.g. scripts/test.sh -L unit.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
cd build
ctest --output-on-failure --timeout 300 "$@"
