#!/usr/bin/env bash
# The runs behind docs/benchmarks.md: `bpfplug bench` on three paths (10 Mbit/s 40 ms,
# 100 Mbit/s 10 ms, 1 Gbit/s without added delay), bpfplug's algorithms beside the kernel's, each
# path once without ECN marking (loss-based algorithms, bbr) and once with marking (bpf_dctcp
# beside cubic with classic ECN); a refused 1 Gbit/s 1 ms path; and three staggered flows with
# short flows at 100 Mbit/s 20 ms. Writes NAME.txt (the table), NAME.json and NAME.png per run
# into OUTDIR (default build/benchmarks); names after OUTDIR run only those (e.g.
# `scripts/benchmarks.sh docs/benchmarks p100-loss`). Needs root and a build
# (scripts/build.sh); about 20 minutes. Run it on an otherwise idle machine: the figures are
# only as quiet as the host.
set -uo pipefail
cd "$(dirname "$0")/.."
cli=$PWD/build/bpfplug
out=${1:-build/benchmarks}
shift || true
only=" $* "
[ -x "$cli" ] || { echo "error: $cli is missing; run scripts/build.sh first" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "error: run it as root (bench builds namespaces and loads plugins)" >&2; exit 3; }
mkdir -p "$out"

run() {
  local name=$1
  shift
  [ "$only" = "  " ] || [[ "$only" == *" $name "* ]] || return 0
  echo "== $name: bpfplug bench $*" >&2
  {
    echo "\$ bpfplug bench $*"
    flock /tmp/bpfplug-kernel.lock "$cli" bench "$@" --json "$out/$name.json" --plot "$out/$name.png" 2>"$out/$name.err"
    echo "exit code $?"
  } >"$out/$name.txt"
  cat "$out/$name.txt"
}

run p10-loss  bpf_cubic cubic bpf_reno reno bbr --rate 10mbit --rtt 40ms --runs 3 --duration 10
run p10-ecn   bpf_dctcp cubic --rate 10mbit --rtt 40ms --ecn-k 0.17bdp --runs 3 --duration 10
run p100-loss bpf_cubic cubic bpf_reno reno bbr --rate 100mbit --rtt 10ms --runs 3 --duration 10
run p100-ecn  bpf_dctcp cubic --rate 100mbit --rtt 10ms --ecn-k 0.17bdp --runs 3 --duration 10
run p1g-1ms   reno --rate 1gbit --rtt 1ms --duration 5
run p1g-loss  bpf_cubic cubic bpf_reno reno bbr --rate 1gbit --rtt 0 --buffer 100pkt --runs 3 --duration 10
run p1g-ecn   bpf_dctcp cubic --rate 1gbit --rtt 0 --buffer 100pkt --ecn-k 20pkt --runs 3 --duration 10
run p100-flows bpf_cubic cubic bbr --rate 100mbit --rtt 20ms --flows 3 --short-flows 5 --runs 2 --duration 20
