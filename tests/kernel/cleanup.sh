#!/usr/bin/env bash
# ctest FIXTURES_CLEANUP for the kernel suite: removes whatever a crashed kernel test left.
# Kernel tests pin under /sys/fs/bpf/bpfplug-test-* and name namespaces bpfplug-t-* (programs
# the data-path tests started there are killed with them); a
# `bpfplug bench` they ran and that was killed left /sys/fs/bpf/bpfplug-bench-PID and namespaces
# bpfplug-bench-PID-* and, for bench --comp, a cgroup bpfplug-bench-PID (removed only when that
# PID is gone); nothing of the host's own bpfplug
# (/sys/fs/bpf/bpfplug) is touched.
set -u
cli=$1
for root in /sys/fs/bpf/bpfplug-test-*; do
  [ -d "$root" ] || continue
  state=/tmp/$(basename "$root")
  BPFPLUG_PIN_ROOT=$root BPFPLUG_STATE_DIR=$state "$cli" unload --all --force >/dev/null 2>&1
  rm -rf "$root" "$state" "$state-config" 2>/dev/null
done
for root in /sys/fs/bpf/bpfplug-bench-*; do
  [ -d "$root" ] || continue
  pid=${root##*-}
  [ -d "/proc/$pid" ] && continue
  state=/tmp/$(basename "$root")
  BPFPLUG_PIN_ROOT=$root BPFPLUG_STATE_DIR=$state "$cli" unload --all --force >/dev/null 2>&1
  rm -rf "$root" "$state" 2>/dev/null
done
# bench --comp's cgroup (its programs are gone with their namespaces, below, or their PID).
for cg in /sys/fs/cgroup/bpfplug-bench-* /sys/fs/cgroup/unified/bpfplug-bench-*; do
  [ -d "$cg" ] || continue
  [ -d "/proc/${cg##*-}" ] && continue
  pids=$(cat "$cg/cgroup.procs" 2>/dev/null)
  [ -n "$pids" ] && kill -9 $pids 2>/dev/null && sleep 0.2
  rmdir "$cg" 2>/dev/null
done
for ns in $(ip netns list 2>/dev/null | awk '/^bpfplug-t-/{print $1}'); do
  pids=$(ip netns pids "$ns" 2>/dev/null)  # servers a data-path test started there
  [ -n "$pids" ] && kill -9 $pids 2>/dev/null
  ip netns del "$ns"
done
rm -rf /tmp/bpfplug-t-*-data 2>/dev/null  # the data-path tests' files
for ns in $(ip netns list 2>/dev/null | awk '/^bpfplug-bench-/{print $1}'); do
  pid=${ns#bpfplug-bench-}
  pid=${pid%%-*}
  [ -d "/proc/$pid" ] || ip netns del "$ns"
done
exit 0
