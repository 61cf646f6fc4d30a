// Number-to-text helpers shared by the benchmarks' tables.
#pragma once

#include <cstdio>
#include <string>

namespace bpfplug::bench {

// `v` with exactly `decimals` digits after the point.
inline std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// `s` left-aligned in a column of `width` (at least one space after it).
inline std::string pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

}  // namespace bpfplug::bench
