#!/usr/bin/env bash
# How faithfully the testbed adds a propagation delay under load, at 10 Mbit/s, 100 Mbit/s,
# 300 Mbit/s and 1 Gbit/s, for RTTs of 1 to 40 ms: for each, `bpfplug bench reno` first checks
# the emulated RTT with UDP probes while 2 s of reno fill the path, and prints the excess over
# the requested RTT (p50, p95, p99, max) and what reno then got through in a 1 s trial, or
# refuses the configuration with those figures. Needs root and a build (scripts/build.sh).
# Takes about three minutes. Used for docs/benchmarks.md#delay-accuracy.
set -uo pipefail
cd "$(dirname "$0")/.."
cli=build/bpfplug
[ -x "$cli" ] || { echo "error: $cli is missing; run scripts/build.sh first" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "error: run it as root (it builds namespaces)" >&2; exit 3; }

for rate in 10mbit 100mbit 300mbit 1gbit; do
  for rtt in 1ms 4ms 10ms 40ms; do
    printf '%-8s %-5s ' "$rate" "$rtt"
    out=$(flock /tmp/bpfplug-kernel.lock "$cli" bench reno --rate "$rate" --rtt "$rtt" --duration 1 2>&1)
    if line=$(grep -m1 'checked under load' <<<"$out"); then
      # and what reno then got through the path in its 1 s trial (goodput, share of the rate)
      read -r _ goodput share _ < <(grep -m1 '^reno ' <<<"$out")
      echo "ok: ${line#*requested } | reno ${goodput} Mbit/s (${share})"
    else
      grep -m1 -A3 '^error:' <<<"$out" | tr -s ' \n' ' '
      echo
    fi
  done
done
