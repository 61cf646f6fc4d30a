// Calibration of the compression codec for comp-cost's model (struct_ops/bpfplug_comp_cost.h):
// R, Vc and Vd measured on this machine, the way tcp_comp compresses a connection (zstd level
// 1, one endless stream, ZSTD_compressStream + ZSTD_flushStream per chunk of at most 65535
// bytes; ../docs/policies.md). The default corpus is built in and deterministic, so a
// calibration is repeatable; a file of one's own data can replace it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bpfplug_comp_cost.h"

namespace bpfplug {

struct Calibration {
  double ratio = 0;            // R: compressed / original
  double vc_bytes_per_s = 0;   // compression speed, original bytes per second
  double vd_bytes_per_s = 0;   // decompression speed
  int level = 1;
  std::uint64_t corpus_bytes = 0;
  std::string corpus;          // "built-in" or the file's path
  std::uint64_t measured_at = 0;  // CLOCK_REALTIME seconds

  // N at which R + N/Vc' + N/Vd = 1, with Vc' = Vc * headroom / 100 (bytes/s); 0 if R >= 1.
  double break_even_bytes_per_s(unsigned headroom_pct = 100) const;
  bpfplug_comp_calibration to_map_value() const;
  static Calibration from_map_value(const bpfplug_comp_calibration& v);
};

// The built-in corpus: `bytes` of JSON lines such as an HTTP service logs or returns (request
// records with paths, user agents, status codes, sizes, timestamps), from a fixed seed.
std::string builtin_corpus(std::size_t bytes = 8u << 20);

// Compresses and decompresses `corpus` as tcp_comp would, repeating it for at least
// `min_seconds` each way, and returns what it measured. Throws Error if zstd fails.
Calibration calibrate_zstd(std::string_view corpus, int level = 1, double min_seconds = 0.3);

}  // namespace bpfplug
