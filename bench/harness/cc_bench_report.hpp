// How `bpfplug bench` shows its results: a table per algorithm on the terminal, the same and
// every trial (with their TCP_INFO time series) as JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "bench_config.hpp"
#include "trial_metrics.hpp"

namespace bpfplug::bench {

struct BenchReport {
  BenchConfig config;
  std::string host;  // kernel, CPU, date: where the figures come from
  std::string delay_method;  // "none", "delay line (TUN, user space)"
  std::optional<Fidelity> calibration;  // the check before the trials
  std::vector<TrialMetrics> trials;
  std::vector<TrafficResult> traffic;  // traffic[i]: the flows of trials[i], for the time series
  std::vector<AlgoSummary> summaries;  // in the order the algorithms were named
  std::vector<std::string> notes;       // warnings the reader must see beside the figures
};

// One line per trial as it finishes: the progress report.
std::string trial_line(const TrialMetrics& m);
void print_report(std::ostream& out, const BenchReport& report);
nlohmann::json report_json(const BenchReport& report);

}  // namespace bpfplug::bench
