#!/usr/bin/env bash
# The main job: set up, build, and register bpf_dctcp in the kernel. It stays registered after
# this script exits; select it with `sysctl -w net.ipv4.tcp_congestion_control=bpf_dctcp` or
# per socket with setsockopt(TCP_CONGESTION, "bpf_dctcp"). Running it again changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
if ! build/bpfplug status dctcp >/dev/null 2>&1; then
  build/bpfplug load dctcp
fi
echo
build/bpfplug list
echo
build/bpfplug status dctcp
