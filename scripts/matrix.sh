#!/usr/bin/env bash
# The kernel matrix: the binaries scripts/build.sh built, run unchanged in Debian's 5.10, 6.1
# and 6.12 kernels under qemu (TCG) and natively on this host's kernel. Regenerates
# docs/compatibility.md and fails when a feature does worse than matrix/expectations.json says.
# Needs root, network on the first run (kernels are cached: matrix/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
matrix/fetch-kernels.sh

tool=build/matrix/bpfplug-matrix
results=build/matrix-results
rm -rf "$results"
mkdir -p "$results"
common=(--cli build/bpfplug --test-binary build/tests/bpfplug_kernel_tests)
# In the guests the CPU is emulated: the tests that assert rates and delays of 100 Mbit/s flows
# (ECN testbed, CUBIC's curve and HyStart), the user-space delay line's timing (DelayLineTest;
# the guests' initramfs also lacks the tun module) and `bpfplug bench` end to end (BenchHarness:
# it refuses a path whose emulated RTT is off, and plots with gnuplot, which guests lack)
# measure the emulator there, so they run on the host only. NetemPath.* runs in the guests
# (they load sch_netem) and is skipped on the host (no netem).
# NativeDctcp.* (bpf_dctcp beside the kernel's dctcp, 5 Mbit/s) does run in the guests: its
# path is slow enough for TCG, and a round in which the emulated endpoints did not keep the
# bottleneck busy is run again rather than compared (tests/kernel/native_dctcp_test.cpp).
guest_filter='*:-EcnTestbed.*:CubicBehaviour*:DelayLineTest.*:BenchHarness.*'

# The host first and alone: its timing-based tests must not share the CPUs with emulators.
"$tool" host "${common[@]}" --filter '*' --out "$results/host.json"

# Two guests at a time (2 CPUs); each bounded, a hung guest is killed and reported.
run_guest() {
  "$tool" run --guest "$1" "${common[@]}" --filter "$guest_filter" --timeout 900 --out "$results/$1.json"
}
status=0
run_guest 5.10 & pid_510=$!
run_guest 6.1 & pid_61=$!
wait "$pid_510" || status=1
wait "$pid_61" || status=1
run_guest 6.12 || status=1

guests=("$results/5.10.json" "$results/6.1.json" "$results/6.12.json" "$results/host.json")
"$tool" table --out docs/compatibility.md "${guests[@]}"
"$tool" gate --expectations matrix/expectations.json "${guests[@]}" || status=1

# On failure, what each failed test printed (its last 80 lines), so that the CI log alone
# says what went wrong; the full console logs are in build/matrix-results/*.log.
if [ "$status" -ne 0 ]; then
  for log in "$results"/*.log; do
    tr -d '\r' <"$log" | awk -v file="$log" '
      /^\[ RUN      \]/ { n = 0 }
      { lines[n++ % 80] = $0 }
      /^\[  FAILED  \] .*\([0-9]+ ms\)$/ {
        print "---- " file ": " $4
        for (i = (n > 80 ? n - 80 : 0); i < n; i++) print lines[i % 80]
      }'
  done
fi
exit "$status"
