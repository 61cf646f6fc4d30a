#!/usr/bin/env bash
# Install the dependencies (scripts/setup.sh), then configure and build into build/.
# The CLI ends up at build/bpfplug.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
cmake --build build -j"$(nproc)"
