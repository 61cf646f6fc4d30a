// The figures of one trial (one algorithm, one run) and of an algorithm over its runs: what
// `bpfplug bench` reports. Computed from the traffic's TCP_INFO samples and counters only, so
// everything here is plain arithmetic, unit-tested with hand-worked inputs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench_config.hpp"
#include "path_probe.hpp"
#include "traffic_mix.hpp"

namespace bpfplug::bench {

// Counters read before and after a trial, as differences.
struct TrialCounters {
  std::uint64_t marker_packets = 0;
  std::uint64_t marker_marked = 0;      // CE set by the bottleneck
  std::uint64_t marker_dropped = 0;     // random loss (--loss)
  std::uint64_t backlog_sum_bytes = 0;  // bottleneck queue ahead of each packet, summed
  double machine_cpu_s = 0;             // all CPUs, /proc/stat
  double steal_s = 0;                   // all CPUs: time the hypervisor ran something else
  std::optional<std::uint64_t> bpf_calls;     // the plugin's struct_ops programs
  std::optional<std::uint64_t> bpf_run_time_ns;
  std::uint64_t delay_line_drops = 0;
};

// Is the emulated RTT what was asked for, by the probes? Within max(10 % of the RTT, 0.25 ms)
// at the 95th percentile, and fewer than 1 % of probes lost. (Not the 99th: on a 2-CPU VM, rare
// scheduling stalls of a few ms hit about 1 % of probes at any rate; they are reported.)
struct Fidelity {
  bool applicable = false;  // only with a delay line
  double requested_ms = 0;
  double excess_p50_ms = 0;
  double excess_p95_ms = 0;
  double excess_p99_ms = 0;
  double excess_max_ms = 0;
  double tolerance_ms = 0;
  int probes = 0;
  int lost = 0;
  bool faithful = true;
  std::string why;  // when not faithful
};
Fidelity judge_fidelity(const ProbeResult& probe, double requested_rtt_ms);

struct TrialMetrics {
  std::string algorithm;
  int run = 0;
  double goodput_bps = 0;   // all bulk flows' bytes received in the trial / its duration
  double share = 0;         // goodput / bottleneck rate
  std::vector<double> flow_goodput_bps;  // per bulk flow, over its own active time
  double rtt_p50_ms = 0, rtt_p95_ms = 0, rtt_p99_ms = 0;  // smoothed RTT samples, all flows
  double qdelay_p50_ms = 0, qdelay_p95_ms = 0;            // srtt minus the flow's min RTT
  double bottleneck_qdelay_ms = 0;  // mean wait in the bottleneck queue (the marker's view)
  std::uint32_t retransmits = 0;    // segments, all bulk flows
  double retransmit_share = 0;      // of the segments delivered
  std::uint64_t ce_marked = 0;      // by the bottleneck
  std::optional<double> jain;       // over the flows' rates while all ran (2+ flows)
  std::optional<double> convergence_s;  // after the last flow started (2+ flows)
  bool converged = false;
  double sender_cpu_s_per_gb = 0;   // sending threads
  double machine_cpu_s_per_gb = 0;  // the whole machine, emulation included
  std::optional<double> bpf_ns_per_call;
  std::uint64_t bpf_calls = 0;
  double rwnd_limited_share = 0;    // of the busy time, worst flow (receive window too small)
  double steal_share = 0;           // of all CPUs' time during the trial, taken by the hypervisor
  int short_flows = 0, short_completed = 0;
  double short_fct_p50_ms = 0, short_fct_p95_ms = 0;
  bool all_flows_ran = true;
  std::vector<std::string> flow_errors;
  Fidelity fidelity;
};

inline constexpr double kConvergenceBinSeconds = 0.5;

// `cpus`: how many CPUs the machine has (for the steal share).
TrialMetrics compute_trial(const std::string& algorithm, int run, const BenchConfig& config,
                           const TrafficResult& traffic, const TrialCounters& counters, const ProbeResult& probe,
                           int cpus = 1);

// An algorithm over its runs: medians, and the spread of the two headline figures.
struct AlgoSummary {
  std::string algorithm;
  int runs = 0;
  double goodput_bps = 0, goodput_min_bps = 0, goodput_max_bps = 0;
  double share = 0;
  double rtt_p50_ms = 0, rtt_p95_ms = 0, rtt_p99_ms = 0, rtt_p95_min_ms = 0, rtt_p95_max_ms = 0;
  double qdelay_p95_ms = 0, bottleneck_qdelay_ms = 0;
  double retransmits = 0, retransmit_share = 0;
  std::optional<double> jain, convergence_s;
  int converged_runs = 0;
  double sender_cpu_s_per_gb = 0, machine_cpu_s_per_gb = 0;
  std::optional<double> bpf_ns_per_call;
  std::optional<double> short_fct_p95_ms;
};
AlgoSummary summarize(const std::string& algorithm, const std::vector<TrialMetrics>& trials);

double median(std::vector<double> values);

}  // namespace bpfplug::bench
