// What the benchmark measured and how it is shown: per algorithm the median and range over the
// rounds, BPF/native ratios from the paired runs of each round, and the BPF programs' own time.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "lean_flow.hpp"

namespace bpfplug::bench {

struct Spread {
  double median = 0;
  double min = 0;
  double max = 0;
};
Spread spread_of(std::vector<double> values);

// Every round of one algorithm on one path; rounds[i] of two algorithms ran in the same round.
struct AlgoRuns {
  std::string path;    // "loopback" or "testbed"
  std::string cc;      // the name given to TCP_CONGESTION
  std::string native;  // for a BPF algorithm: the kernel's algorithm it is compared with
  std::vector<FlowFigures> rounds;
};

struct CallbackFigures {
  std::string prog;  // bpf_prog_info.name
  std::uint64_t calls = 0;
  std::uint64_t run_time_ns = 0;
};

// One extra flow of a BPF algorithm with run-time statistics on.
struct StatsRun {
  std::string path;
  std::string cc;
  FlowFigures flow;
  std::vector<CallbackFigures> callbacks;
};

void print_throughput_table(std::ostream& out, const std::vector<AlgoRuns>& runs);
// How much CPU time the hypervisor took from this machine while the flows ran (/proc/stat steal).
void print_steal(std::ostream& out, const std::vector<AlgoRuns>& runs, int cpus);
void print_callback_table(std::ostream& out, const std::vector<StatsRun>& stats);

nlohmann::json runs_json(const std::vector<AlgoRuns>& runs);
nlohmann::json stats_json(const std::vector<StatsRun>& stats);

}  // namespace bpfplug::bench
