// What `bpfplug bench` is asked to do: the algorithms, the emulated path and the traffic, parsed
// from the command line's words ("100mbit", "20ms", "1bdp", "1%") and checked before anything
// touches the kernel. A configuration the testbed cannot emulate is refused here with the reason.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bpfplug::bench {

// The wire size of one full-size packet at the bottleneck (1500-byte MTU + Ethernet header):
// the unit of "pkt" in sizes, and what the shaper and the marker count.
inline constexpr std::uint64_t kPacketBytes = 1514;

struct BenchConfig {
  std::vector<std::string> algorithms;  // congestion-control names, as TCP_CONGESTION takes them
  std::uint64_t rate_bps = 100'000'000;
  std::chrono::microseconds rtt{20'000};  // emulated round-trip propagation delay; 0: none
  std::uint64_t buffer_bytes = 0;          // bottleneck drop-tail buffer; 0 until resolved
  std::optional<std::uint64_t> ecn_k_bytes;
  double loss = 0;         // random drop probability at the bottleneck
  int flows = 1;           // bulk flows per trial
  std::optional<double> stagger_s;  // seconds between bulk flow starts; default: see resolve()
  double short_flows_per_s = 0;     // Poisson arrivals of short flows (0: none)
  std::uint64_t short_flow_bytes = 64 * 1024;
  double duration_s = 10;
  int runs = 1;            // trials per algorithm, interleaved
  std::chrono::microseconds sample_every{10'000};
  bool bpf_stats = true;   // BPF run time per call for the plugins (BPF_ENABLE_STATS)
  std::string json_file;
  std::string plot_file;

  std::uint64_t bdp_bytes() const;  // rate x rtt, in bytes
};

// Rates as tc writes them: bit, kbit, mbit, gbit (x1000), or bps, kbps, mbps, gbps for bytes
// per second; a bare number is bit/s. Throws Error(usage) naming the word.
std::uint64_t parse_rate(const std::string& word);
// Times: us, ms, s; a bare number is milliseconds.
std::chrono::microseconds parse_time(const std::string& word);
// Sizes: b, kb/k, mb/m (x1024, as tc), pkt (kPacketBytes) or bdp (a multiple of rate x rtt,
// `bdp_bytes`); a bare number is bytes.
std::uint64_t parse_size(const std::string& word, std::uint64_t bdp_bytes);
// A probability: "0.01" or "1%".
double parse_probability(const std::string& word);

// The words as given on the command line, before they are turned into a BenchConfig.
struct BenchWords {
  std::vector<std::string> algorithms;
  std::string rate = "100mbit";
  std::string rtt = "20ms";
  std::string buffer = "1bdp";
  std::string ecn_k;
  std::string loss = "0";
  int flows = 1;
  std::string stagger;
  double short_flows_per_s = 0;
  std::string short_flow_size = "64kb";
  double duration_s = 10;
  int runs = 1;
  std::string sample_every = "10ms";
  bool no_bpf_stats = false;
  std::string json_file;
  std::string plot_file;
};

// Parses and checks everything; throws Error(usage) for a malformed word and for a path or
// traffic the testbed cannot emulate faithfully, saying why and what to ask for instead.
BenchConfig resolve(const BenchWords& words);

// One line describing the path and the traffic, for the report's header.
std::string describe(const BenchConfig& config);

}  // namespace bpfplug::bench
