// What `bpfplug bench --comp` measured and how it is shown: every transfer, the cells (path x
// payload x policy, medians over the runs), comp-cost against the best of the others, the codec
// against `zstd -b1`; as a table and as JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "comp_bench_config.hpp"

namespace bpfplug::bench {

struct CodecFigures {
  std::string payload;
  double ratio = 0, vc_mb_s = 0, vd_mb_s = 0;  // the data path's codec (tcp_comp's stream mode)
  std::optional<double> zstd_ratio, zstd_vc_mb_s, zstd_vd_mb_s;  // zstd -b1 on the same bytes
};

struct Transfer {
  std::string path, payload, policy;
  int run = 0;
  bool ok = false;
  std::string error;
  std::uint64_t bytes = 0;       // application bytes received, checked against those sent
  std::uint64_t wire_bytes = 0;  // TCP payload received (tcpi_bytes_received)
  double seconds = 0;            // the receiver's accept to its end of stream
  double program_cpu_s = 0;      // sender + receiver over the transfer, user + system, all threads
  double ksoftirqd_cpu_s = 0;    // network softirq work deferred to ksoftirqd
  double machine_cpu_s = 0;      // every CPU's busy time (/proc/stat)
  bool negotiated = false;       // the policy's stat_negotiated rose: compression was on

  double goodput_mbit_s() const { return seconds > 0 ? static_cast<double>(bytes) * 8 / seconds / 1e6 : 0; }
  double cpu_s_per_gb() const {
    return bytes ? (program_cpu_s + ksoftirqd_cpu_s) / (static_cast<double>(bytes) / 1e9) : 0;
  }
};

// One path x payload x policy: medians over its runs that completed.
struct Cell {
  std::string path, payload, policy;
  int runs = 0, failed = 0, negotiated = 0;
  std::uint64_t bytes = 0;
  double seconds = 0, goodput_mbit_s = 0, wire_ratio = 0, cpu_s_per_gb = 0, machine_cpu_s_per_gb = 0;
};

struct LearntPath {
  std::string path;  // the testbed path's label
  std::string address;
  double bytes_per_s = 0;
};

struct CompBenchReport {
  CompBenchConfig config;
  std::string host;
  std::string calibration;  // comp-cost's, as loaded (the last load)
  std::vector<CodecFigures> codec;
  std::vector<Transfer> transfers;
  std::vector<LearntPath> learnt;  // comp-cost's estimates after each warm-up
  std::vector<std::string> notes;

  std::vector<Cell> cells() const;
};

void print_comp_report(const CompBenchReport& report, std::ostream& out);
nlohmann::json to_json(const CompBenchReport& report);

}  // namespace bpfplug::bench
