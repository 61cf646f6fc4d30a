#!/bin/bash
# Hardware write-watchpoints on tcp_sock.snd_ssthresh, to find what writes the garbage ssthresh
# of docs/algorithms.md (Known issue). For each data-sending socket that
# scripts/trace/ssthresh_writers.bt reports, a `perf record` puts a 4-byte write breakpoint on
# that socket's snd_ssthresh (all CPUs; the value written is in register AX of each sample, the
# writer in its callchain); the same bpftrace run reports when a socket's ssthresh has become
# garbage. x86 has four debug registers, so at most three sockets are watched at a time.
#
# Run as root beside bpf_dctcp flows on the ECN testbed, then compare:
#   scripts/trace/watch_ssthresh.sh /tmp/wp &
#   build/tests/bpfplug_kernel_tests --gtest_filter='EcnTestbed.ShiftG*' --gtest_repeat=2
#   kill %1; sleep 3
#   grep GARBAGE /tmp/wp/log                     # when, and the probe before it
#   perf script -i /tmp/wp/<socket>.data -F cpu,time,ip,sym,iregs   # every trapped write
# perf needs ~0.3-0.5 s to start, so a socket that turns bad sooner is reported but not watched.
set -u
for tool in bpftrace perf; do
  command -v "$tool" > /dev/null || {
    echo "$(basename "$0"): needs $tool, which scripts/setup.sh does not install (these traces are optional);" \
         "install it with: apt-get install bpftrace linux-perf" >&2
    exit 1
  }
done
out=${1:?usage: watch_ssthresh.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
offset=$(bpftool btf dump file /sys/kernel/btf/vmlinux |
         awk "/STRUCT 'tcp_sock'/{f=1; next} f && /^\[/{exit} f && /'snd_ssthresh'/{sub(\"bits_offset=\", \"\", \$3); print \$3 / 8}")
[ -n "$offset" ] || { echo "watch_ssthresh: no tcp_sock.snd_ssthresh in the kernel's BTF" >&2; exit 1; }
echo "tcp_sock.snd_ssthresh at offset $offset" >> "$out/log"

exec 3< <(bpftrace -B line "$here/ssthresh_writers.bt" 2>> "$out/bpftrace.err")
tracer=$!
watched=()
trap 'kill -INT "$tracer" "${watched[@]}" 2>/dev/null; wait; exit 0' INT TERM
while read -r -u 3 kind sk rest; do
  echo "$(date +%T.%N) $kind $sk $rest" >> "$out/log"
  [ "$kind" = SENDER ] || continue
  running=0
  for pid in "${watched[@]}"; do kill -0 "$pid" 2>/dev/null && running=$((running + 1)); done
  if [ "$running" -ge 3 ]; then echo "not watched (debug registers busy): $sk" >> "$out/log"; continue; fi
  perf record -k mono --synth=no -a -g --intr-regs=ax,bx -e "mem:$(printf '0x%x' $((0x$sk + offset)))/4:w" \
    -o "$out/$sk.data" > /dev/null 2>> "$out/perf.err" &
  watched+=($!)
done
wait
