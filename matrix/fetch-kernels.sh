#!/usr/bin/env bash
# Fetch, verify and cache the Debian guest kernels of the compatibility matrix.
#
#   matrix/fetch-kernels.sh [--offline | --refresh] [GUEST...]     GUEST: 5.10 6.1 6.12 (default: all)
#
# Each guest kernel comes from a Debian suite through `apt-get download` under a private apt
# tree in the cache: its own sources list, lists, package cache and (empty) dpkg status, and
# none of the machine's apt.conf.d, preferences or sources. The machine's /etc/apt and
# /var/lib/apt are only read (the mirror URI and keyring of the first stanza of debian.sources).
# Verification stays on: apt checks InRelease against the keyring, apt-get download checks the
# .deb against the SHA256 in the signed Packages index, and this script checks that hash again.
#
# Default: a guest already in the cache is kept when the private lists (no network) still
# select the same package. --refresh updates the lists first and fetches what changed.
# --offline uses the cache only and fails if a guest is missing.
#
# Cache (BPFPLUG_KERNEL_CACHE, default /var/cache/bpfplug/kernels), per guest:
#   GUEST/vmlinuz -> boot/vmlinuz-RELEASE    GUEST/lib/modules/RELEASE/    GUEST/boot/config-RELEASE
#   GUEST/release (uname -r)   GUEST/package (name version)   GUEST/sha256 (of the .deb)
#   apt/GUEST/   the private apt tree
set -euo pipefail

CACHE=${BPFPLUG_KERNEL_CACHE:-/var/cache/bpfplug/kernels}
MACHINE_SOURCES=${BPFPLUG_DEBIAN_SOURCES:-/etc/apt/sources.list.d/debian.sources}
ALL_GUESTS=(5.10 6.1 6.12)
# Modules the matrix loads inside the guest; a flavour without them is skipped.
REQUIRED_MODULES=(tcp_dctcp sch_netem)
# Cloud first (a third of the size); the generic flavour only if cloud lacks a module.
FLAVOURS=(cloud-amd64 amd64)

die() { echo "error: $*" >&2; exit 1; }
warn() { echo "warning: $*" >&2; }

# Suites per guest: the release and, where the kernel team ships newer builds of the same
# series there, its security suite (bullseye LTS and bookworm kernels live in *-security).
# bookworm-security also carries 6.12 builds; the 6.12 guest takes bookworm-backports only.
guest_suites() {
  case $1 in
    5.10) echo "bullseye bullseye-security" ;;
    6.1) echo "bookworm bookworm-security" ;;
    6.12) echo "bookworm-backports" ;;
    *) die "unknown guest '$1' (guests: ${ALL_GUESTS[*]})" ;;
  esac
}

usage() { sed -n '4p' "$0" | sed 's/^#  *//'; }

MODE=default
GUESTS=()
for arg in "$@"; do
  case $arg in
    --offline) MODE=offline ;;
    --refresh) MODE=refresh ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option '$arg' ($(usage))" ;;
    *) guest_suites "$arg" >/dev/null; GUESTS+=("$arg") ;;
  esac
done
[ ${#GUESTS[@]} -gt 0 ] || GUESTS=("${ALL_GUESTS[@]}")

# --- the machine's mirror, read from its own deb822 sources ---------------------------------

# Print field $2 of the first stanza of $1 whose Suites match the regex $3 (comments skipped).
stanza_field() {
  awk -v want="$2" -v suites="$3" '
    /^#/ { next }
    NF == 0 { if (match_ && val != "") exit; match_ = 0; val = ""; next }
    tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i ~ suites) match_ = 1 }
    tolower($1) == tolower(want) ":" { val = (NF > 1 ? $2 : "(inline)") }
    END { if (match_ && val != "") print val }' "$1"
}

MIRROR="" KEYRING="" SECURITY_MIRROR=""
read_machine_sources() {
  [ -f "$MACHINE_SOURCES" ] ||
    die "no $MACHINE_SOURCES to take the Debian mirror from (set BPFPLUG_DEBIAN_SOURCES to a deb822 .sources file)"
  MIRROR=$(stanza_field "$MACHINE_SOURCES" URIs '.')
  KEYRING=$(stanza_field "$MACHINE_SOURCES" Signed-By '.')
  SECURITY_MIRROR=$(stanza_field "$MACHINE_SOURCES" URIs '-security$')
  [ -n "$MIRROR" ] || die "no URIs in the first stanza of $MACHINE_SOURCES"
  case $KEYRING in
    /*) [ -r "$KEYRING" ] || die "keyring $KEYRING (Signed-By in $MACHINE_SOURCES) is not readable" ;;
    "") die "the first stanza of $MACHINE_SOURCES has no Signed-By keyring path; refusing to fetch unverified" ;;
    *) die "Signed-By in $MACHINE_SOURCES is not a file path (inline keys are not supported here)" ;;
  esac
}

# --- the private apt tree -------------------------------------------------------------------

# Rewriting an unchanged sources.list would make apt rebuild its binary cache: compare first.
write_if_changed() {
  [ -f "$1" ] && [ "$(cat "$1")" = "$(printf '%s\n' "$2")" ] && return 0
  printf '%s\n' "$2" >"$1.new"
  mv "$1.new" "$1"
}

# apt reads APT_CONFIG before /etc/apt/apt.conf.d, so this file can turn the machine's
# apt.conf.d off (its update hooks, pins and index targets); -o options come too late for that.
write_apt_tree() {
  local guest=$1 a=$CACHE/apt/$1 suite src=""
  mkdir -p "$a/etc/apt.conf.d" "$a/lists/partial" "$a/cache/archives/partial" "$a/state" "$a/log" "$a/debs"
  [ -f "$a/status" ] || : >"$a/status"    # an empty dpkg status: what the host has installed does not count
  for suite in $(guest_suites "$guest"); do
    case $suite in
      *-security)
        if [ -z "$SECURITY_MIRROR" ]; then
          warn "no *-security stanza in $MACHINE_SOURCES: guest $guest skips $suite and may miss its newest kernel"
          continue
        fi
        src+="deb [signed-by=$KEYRING] $SECURITY_MIRROR $suite main"$'\n' ;;
      *) src+="deb [signed-by=$KEYRING] $MIRROR $suite main"$'\n' ;;
    esac
  done
  write_if_changed "$a/sources.list" "$src"
  write_if_changed "$a/apt.conf" "$(cat <<EOF
Dir::Etc::Parts "$a/etc/apt.conf.d/";
Dir::Etc::Main "/dev/null";
Dir::Etc::SourceList "$a/sources.list";
Dir::Etc::SourceParts "/dev/null";
Dir::Etc::Preferences "/dev/null";
Dir::Etc::PreferencesParts "/dev/null";
Dir::State "$a/state/";
Dir::State::Lists "$a/lists/";
Dir::State::status "$a/status";
Dir::Cache "$a/cache/";
Dir::Cache::srcpkgcache "";
Dir::Log "$a/log/";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
Acquire::Languages "none";
Acquire::GzipIndexes "true";
EOF
)"
  # Downloads run as apt's sandbox user when it can write there.
  if id _apt >/dev/null 2>&1; then chown _apt "$a/debs"; fi
}

papt() { local guest=$1; shift; APT_CONFIG=$CACHE/apt/$guest/apt.conf "$@"; }

apt_update() {
  local guest=$1 log=$CACHE/apt/$1/log/update.log
  if ! papt "$guest" apt-get update -q --error-on=any >"$log" 2>&1; then
    sed 's/^/  /' "$log" >&2
    die "apt-get update for guest $guest failed ($(guest_suites "$guest") from $MIRROR): no network, a suite missing from the mirror, or a signature that does not verify against $KEYRING (log: $log)"
  fi
}

have_lists() { compgen -G "$CACHE/apt/$1/lists/*_InRelease" >/dev/null; }

# Newest "NAME VERSION" for the guest's series in FLAVOUR: the signed image (what the
# linux-image-FLAVOUR metapackage installs), else -unsigned. Their modules are byte-identical
# (both signed by the build's own key) and the vmlinuz differs only by its Secure Boot
# signature, which qemu -kernel ignores. (bullseye-security listed a 5.10.262 -unsigned .deb
# that its pool did not have; the signed one was there.)
select_package() {
  local guest=$1 flavour=$2 abi_re names suffix name v best=""
  # ABI parts seen: 5.10.0-46, 6.1.0-56, 6.12.95+deb12, 6.12.90+deb12.1
  abi_re="${guest//./\\.}\\.[0-9]+(-[0-9]+|\\+deb[0-9]+(\\.[0-9]+)?)"
  names=$(papt "$guest" apt-cache pkgnames "linux-image-$guest.") || return 1
  for suffix in "$flavour" "$flavour-unsigned"; do
    # shellcheck disable=SC2046  # package names have no spaces or glob characters
    set -- $(grep -E "^linux-image-$abi_re-$suffix\$" <<<"$names")
    [ $# -gt 0 ] || continue
    # One apt-cache call (it reads only the binary cache): a "NAME CANDIDATE" line per package.
    while read -r name v; do
      if [ -z "$best" ] || dpkg --compare-versions "$v" gt "${best#* }"; then best="$name $v"; fi
    done < <(papt "$guest" apt-cache policy "$@" |
               awk '/^[^ ].*:$/ { n = substr($1, 1, length($1) - 1) }
                    $1 == "Candidate:" && $2 != "(none)" { print n, $2 }')
    [ -z "$best" ] || { echo "$best"; return 0; }
  done
  return 1
}

# --- fetch, verify, extract -----------------------------------------------------------------

cache_complete() {
  local d=$CACHE/$1 rel
  [ -s "$d/release" ] && [ -s "$d/package" ] && [ -s "$d/sha256" ] || return 1
  rel=$(cat "$d/release")
  [ -e "$d/vmlinuz" ] && [ -f "$d/lib/modules/$rel/modules.dep" ]
}

# The module's path in modules.dep (kernel/net/ipv4/tcp_dctcp.ko, maybe .ko.xz), or nothing.
module_path() { grep -oE "^[^:]*/$2\\.ko(\\.[a-z]+)?:" "$1/modules.dep" | tr -d : | head -n1; }

# Download NAME=VERSION, check its hash against the signed index, extract it into $2.
fetch_one() {
  local guest=$1 dest=$2 name=$3 version=$4 a=$CACHE/apt/$1 deb want got rel
  rm -f "$a"/debs/*.deb
  if ! (cd "$a/debs" && papt "$guest" apt-get download -q "$name=$version") >"$a/log/download.log" 2>&1; then
    sed 's/^/  /' "$a/log/download.log" >&2
    die "apt-get download $name=$version for guest $guest failed (log: $a/log/download.log)"
  fi
  deb=$(compgen -G "$a/debs/*.deb" | head -n1) || die "apt-get download left no .deb for $name in $a/debs"
  want=$(papt "$guest" apt-cache show "$name=$version" | awk '/^SHA256:/{print $2; exit}')
  got=$(sha256sum "$deb" | cut -d' ' -f1)
  if [ -z "$want" ] || [ "$want" != "$got" ]; then
    die "$(basename "$deb"): sha256 $got does not match the signed index (${want:-no SHA256 there})"
  fi
  dpkg-deb -x "$deb" "$dest"
  rel=$(basename "$(compgen -G "$dest/lib/modules/*" | head -n1)")
  if [ -z "$rel" ] || [ ! -f "$dest/boot/vmlinuz-$rel" ]; then
    die "$name has no boot/vmlinuz-RELEASE with a matching lib/modules/RELEASE/"
  fi
  # The package ships no modules.dep (its postinst runs depmod); make it for the guest's modprobe.
  depmod -b "$dest" "$rel" || die "depmod for $name's modules failed"
  ln -s "boot/vmlinuz-$rel" "$dest/vmlinuz"
  echo "$name $version" >"$dest/package"
  echo "$got  $(basename "$deb")" >"$dest/sha256"
  echo "$rel" >"$dest/release"    # last: a tree without it is not in the cache
  rm -f "$deb"
}

# The REQUIRED_MODULES missing from the extracted kernel in $1 (none: empty output).
missing_modules() {
  local d m
  d=$1/lib/modules/$(cat "$1/release")
  for m in "${REQUIRED_MODULES[@]}"; do
    [ -n "$(module_path "$d" "$m")" ] || echo "$m"
  done
}

# Fetch the guest into a fresh directory and swap it in; the flavour fallback lives here.
fetch_guest() {
  local guest=$1 flavour sel tmp lacking tried=""
  for flavour in "${FLAVOURS[@]}"; do
    if ! sel=$(select_package "$guest" "$flavour"); then
      tried+=" (no linux-image-$guest.*-$flavour)"
      continue
    fi
    tmp=$(mktemp -d "$CACHE/.new-$guest.XXXXXX")
    chmod 755 "$tmp"    # mktemp makes it 0700; the runner need not be root to read it
    fetch_one "$guest" "$tmp" "${sel% *}" "${sel#* }"
    lacking=$(missing_modules "$tmp")
    if [ -z "$lacking" ]; then
      [ "$flavour" = "${FLAVOURS[0]}" ] ||
        warn "guest $guest: the ${FLAVOURS[0]} flavour lacks a module the matrix needs; using ${sel% *}"
      rm -rf "$CACHE/.old-$guest"
      if [ -e "$CACHE/$guest" ]; then mv "$CACHE/$guest" "$CACHE/.old-$guest"; fi
      mv "$tmp" "$CACHE/$guest"
      rm -rf "$CACHE/.old-$guest"
      return 0
    fi
    rm -rf "$tmp"
    tried+=" ${sel% *} (lacks $(echo "$lacking" | paste -sd' '))"
  done
  die "guest $guest: no kernel in $(guest_suites "$guest") has all of ${REQUIRED_MODULES[*]}:$tried"
}

report() {
  local d=$CACHE/$1
  printf '%-5s %-26s %-56s %s\n' "$1" "$(cat "$d/release")" "$(cat "$d/package")" "$2"
}

# Default mode: keep the cached guest when the lists already here still pick the same package.
cached_is_current() {
  local guest=$1 flavour sel
  cache_complete "$guest" || return 1
  have_lists "$guest" || return 0    # nothing to compare with offline: trust the cache
  for flavour in "${FLAVOURS[@]}"; do
    sel=$(select_package "$guest" "$flavour") || continue
    [ "$sel" = "$(cat "$CACHE/$guest/package")" ] && return 0
  done
  return 1
}

main() {
  local guest
  if [ "$MODE" = offline ]; then
    for guest in "${GUESTS[@]}"; do
      cache_complete "$guest" ||
        die "no cached kernel for guest $guest in $CACHE/$guest (run $0 without --offline, with network)"
      report "$guest" cached
    done
    return 0
  fi
  [ "$(id -u)" -eq 0 ] || die "writing $CACHE and running apt as its sandbox user needs root (sudo $0)"
  command -v dpkg-deb >/dev/null || die "dpkg-deb not found (package dpkg)"
  command -v depmod >/dev/null || die "depmod not found (package kmod)"
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"
  flock -n 9 || { echo "waiting for another fetch-kernels.sh on $CACHE/.lock" >&2; flock 9; }
  trap 'rm -rf "$CACHE"/.new-* "$CACHE"/apt/*/debs/*.deb' EXIT
  read_machine_sources
  for guest in "${GUESTS[@]}"; do
    write_apt_tree "$guest"
    if [ "$MODE" = default ] && cached_is_current "$guest"; then
      report "$guest" cached
      continue
    fi
    apt_update "$guest"
    if [ "$MODE" = refresh ] && cached_is_current "$guest"; then
      report "$guest" cached
      continue
    fi
    fetch_guest "$guest"
    report "$guest" fetched
  done
}

main
