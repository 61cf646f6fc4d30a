#!/bin/bash
# Counts the garbage-ssthresh events of docs/algorithms.md (Known issue) over a few bpf_dctcp
# flows: runs EcnTestbed.ShiftG* (two flows each) REPEAT times beside
# scripts/trace/ssthresh_writers.bt and prints how many senders turned bad. Used to bisect which
# plugin code the event needs (edit cc_algos/dctcp.bpf.c, rebuild, run this). As root, from the
# source tree after scripts/build.sh:
#   scripts/trace/count_garbage_ssthresh.sh [REPEAT]      (default 3)
# Sockets whose address the kernel reuses are counted once, so the counts are lower bounds.
set -u
for tool in bpftrace; do
  command -v "$tool" > /dev/null || {
    echo "$(basename "$0"): needs $tool, which scripts/setup.sh does not install (these traces are optional);" \
         "install it with: apt-get install bpftrace" >&2
    exit 1
  }
done
repeat=${1:-3}
cd "$(dirname "$0")/../.."
log=$(mktemp /tmp/garbage-ssthresh.XXXXXX)
bpftrace -B line scripts/trace/ssthresh_writers.bt > "$log" 2> /dev/null &
tracer=$!
trap 'kill -INT "$tracer" 2>/dev/null' EXIT
sleep 4  # bpftrace attaches
flock /tmp/bpfplug-kernel.lock build/tests/bpfplug_kernel_tests --gtest_filter='EcnTestbed.ShiftG*' \
  --gtest_repeat="$repeat" > "$log.test" 2>&1
result=$(tail -n 1 "$log.test")
kill -INT "$tracer"; wait "$tracer" 2>/dev/null
echo "senders: $(grep -c '^SENDER' "$log"), turned garbage: $(grep -c '^GARBAGE' "$log"), CWR entries: $(grep -c '^CWR' "$log")"
echo "test: $result (output: $log.test; trace: $log)"
