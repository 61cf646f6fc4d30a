// What `bpfplug bench --comp` is asked to do: the paths (bottleneck rates, or the bare veth),
// the payloads, the policies compared and how much each transfer moves, parsed from the
// command line's words and checked before anything touches the kernel.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bpfplug::bench {

// No compression (the programs run without the data path), comp-ports (everything on the
// port), comp-cost (the model decides): what the benchmark compares, in this order.
inline const std::vector<std::string> kCompPolicies = {"none", "comp-ports", "comp-cost"};

struct CompPath {
  std::optional<std::uint64_t> rate_bps;  // none: the unshaped veth pair
  std::string label() const;              // "10 Mbit/s", "unshaped"
};

struct CompBenchConfig {
  std::vector<CompPath> paths;
  std::vector<std::string> payloads;  // "text", "random", or "file" (payload_file)
  std::string payload_file;
  std::vector<std::string> policies;  // a subset of kCompPolicies, in its order
  std::optional<std::uint64_t> size_bytes;  // per transfer; none: seconds x the path's rate
  double seconds = 4;                       // what an uncompressed transfer should take
  std::chrono::microseconds rtt{0};
  std::uint64_t buffer_bytes = 0;  // TBF queue; 0: max(1 BDP, 100 packets)
  int runs = 1;
  std::string json_file;

  // The bytes a transfer moves over `path`: size_bytes, or seconds at the path's rate (the
  // unshaped veth counted as kUnshapedAssumedBps).
  std::uint64_t transfer_bytes(const CompPath& path) const;
};

// What the unshaped veth is taken to carry when sizing its transfers (a 2-CPU VM's veth does
// several Gbit/s; compression on one CPU far less, so the compressed runs take longer).
inline constexpr std::uint64_t kUnshapedAssumedBps = 10'000'000'000ULL;

struct CompBenchWords {
  std::vector<std::string> rates = {"10mbit", "100mbit", "1gbit", "unshaped"};
  std::vector<std::string> payloads = {"text", "random"};
  std::string payload_file;
  std::vector<std::string> policies = kCompPolicies;
  std::string size;  // empty: from --duration
  double seconds = 4;
  std::string rtt = "0";
  std::string buffer;  // empty: the default above
  int runs = 1;
  std::string json_file;
};

// Parses and checks everything; throws Error(usage) naming the word and what to give instead.
CompBenchConfig resolve_comp(const CompBenchWords& words);

}  // namespace bpfplug::bench
