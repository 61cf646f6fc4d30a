#!/usr/bin/env bash
# Fuzz the tcp_comp stream codec with libFuzzer (clang-19, ASan + UBSan) for SECONDS
# (default 60: the bounded run CI does; docs/datapath.md gives a longer one).
#   scripts/fuzz.sh [SECONDS]
# The corpus grows in build-fuzz/corpus (seeded from zstd streams made here); a finding
# leaves build-fuzz/crash-* and makes this script fail.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
out=build-fuzz
mkdir -p "$out/corpus"
clang++-19 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I datapath/include datapath/src/stream_codec.cpp tests/fuzz/stream_codec_fuzz.cpp \
  $(pkg-config --libs libzstd) -o "$out/stream_codec_fuzz"
# Seeds: a few real streams behind each kind of mode byte.
for text in "hello hello hello hello" "$(seq 1 2000 | tr '\n' ',')" "$(head -c 3000 /dev/zero | tr '\0' 'a')"; do
  name=$(printf '%s' "$text" | sha1sum | cut -c1-12)
  { printf '\x05'; printf '%s' "$text" | zstd -1 -c --no-check; } >"$out/corpus/stream-$name"
  { printf '\x45'; printf '%s' "$text" | zstd -1 -c --no-check; } >"$out/corpus/stream7-$name"
  { printf '\x83'; printf '%s' "$text"; } >"$out/corpus/plain-$name"
done
cd "$out"
./stream_codec_fuzz -max_total_time="$seconds" -max_len=200000 -rss_limit_mb=2048 -print_final_stats=1 corpus 2>&1 |
  tail -n 15
