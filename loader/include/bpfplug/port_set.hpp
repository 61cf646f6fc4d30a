// A set of TCP ports as a policy's BPFPLUG_PORTSET map holds it (struct_ops/bpfplug_meta.h):
// 1024 64-bit words, bit p % 64 of word p / 64 for port p. Written on the command line as
// tcp_comp's sysctl writes it: "8080,9000-9100".
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace bpfplug {

class PortSet {
 public:
  static constexpr std::size_t kWords = 1024;
  using Words = std::array<std::uint64_t, kWords>;

  // Parses "8080,9000-9100" (ports 1-65535, ranges low-high, no spaces; "" is the empty set).
  // Throws a usage Error naming the bad element.
  static PortSet parse(std::string_view text, std::string_view what);
  static PortSet from_words(const Words& words) { return PortSet(words); }

  PortSet() { words_.fill(0); }
  void add(std::uint16_t port) { words_[port / 64] |= std::uint64_t{1} << (port % 64); }
  bool contains(std::uint16_t port) const { return words_[port / 64] >> (port % 64) & 1; }
  bool empty() const;
  std::size_t size() const;
  const Words& words() const { return words_; }
  // Back to the command-line form, ranges merged: "8080,9000-9100"; "" when empty.
  std::string to_string() const;

 private:
  explicit PortSet(const Words& words) : words_(words) {}
  Words words_;
};

}  // namespace bpfplug
