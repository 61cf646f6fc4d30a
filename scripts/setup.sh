#!/usr/bin/env bash
# Install everything bpfplug needs to build and test, from Debian packages only.
#
# Idempotent: a second run checks what is there and returns in about a second.
# libbpf-dev >= 1.4 and bpftool >= 7.5 come from bookworm-backports (bookworm's own
# libbpf 1.1 lacks struct_ops links); the backports suite is added by copying the
# first stanza of the machine's own debian.sources, so no host name lives here.
set -euo pipefail

die() { echo "error: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "setup installs Debian packages: run it as root (sudo $0)"

# Packages from bookworm main.
MAIN_PKGS=(
  build-essential cmake pkg-config git
  clang-19 libclang-rt-19-dev                  # BPF objects; libFuzzer for scripts/fuzz.sh
  libelf-dev zlib1g-dev libzstd-dev zstd
  libgtest-dev libgmock-dev libbenchmark-dev
  libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  iproute2 ethtool procps
  gnuplot-nox                                    # bpfplug bench --plot
  socat curl python3 redis-tools                 # real programs the data-path tests run over bpfplug run
  qemu-system-x86 busybox-static cpio debian-archive-keyring kmod xz-utils   # the kernel matrix (matrix/README.md)
)
# Packages that must come from bookworm-backports.
BACKPORTS_PKGS=(libbpf-dev bpftool)

SOURCES=/etc/apt/sources.list.d/debian.sources
BACKPORTS_SOURCES=/etc/apt/sources.list.d/bpfplug-backports.sources

version_ge() { dpkg --compare-versions "$1" ge "$2"; }
installed_version() { dpkg-query -W -f='${Status} ${Version}\n' "$1" 2>/dev/null |
                        awk '$3=="installed"{print $4}'; }

all_present() {
  local p
  for p in "${MAIN_PKGS[@]}"; do [ -n "$(installed_version "$p")" ] || return 1; done
  local libbpf bpftool
  libbpf=$(installed_version libbpf-dev); bpftool=$(installed_version bpftool)
  [ -n "$libbpf" ] && version_ge "$libbpf" 1:1.4 || return 1
  [ -n "$bpftool" ] && version_ge "$bpftool" 7.5 || return 1
}

add_backports() {
  [ -f "$BACKPORTS_SOURCES" ] && return 0
  grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ && return 0
  [ -f "$SOURCES" ] || die "no $SOURCES to derive the bookworm-backports suite from; add bookworm-backports to apt's sources by hand"
  # First stanza (up to the first blank line), with its Suites line replaced.
  awk 'NF==0{exit} /^Suites:/{print "Suites: bookworm-backports"; next} {print}' \
      "$SOURCES" >"$BACKPORTS_SOURCES"
}

if all_present; then
  echo "setup: all dependencies present"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
add_backports
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${MAIN_PKGS[@]}" >/dev/null
apt-get install -y -qq --no-install-recommends -t bookworm-backports "${BACKPORTS_PKGS[@]}" >/dev/null
all_present || die "dependencies still missing after install (libbpf-dev >= 1.4, bpftool >= 7.5 needed)"
echo "setup: dependencies installed (libbpf-dev $(installed_version libbpf-dev), bpftool $(installed_version bpftool))"
