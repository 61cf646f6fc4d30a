// The traffic of one benchmark trial: bulk flows that start a fixed time apart and all stop at
// the end of the trial, and optionally short flows arriving at random (Poisson) — every flow
// with the congestion control under test at both ends. The sender's TCP_INFO is sampled for
// each bulk flow on a clock the trial's flows share.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "bpfplug/testbed/bottleneck_path.hpp"
#include "bpfplug/testbed/bulk_flow.hpp"

namespace bpfplug::bench {

struct TrafficPlan {
  std::string cc;
  int flows = 1;
  double stagger_s = 0;
  double duration_s = 10;
  double short_flows_per_s = 0;
  std::uint64_t short_flow_bytes = 64 * 1024;
  std::uint64_t seed = 1;  // short-flow arrivals: the same seed gives the same arrival times
  std::chrono::microseconds sample_every{10'000};
};

struct BulkFlowTrace {
  double start_s = 0;  // on the trial's clock: when it was started (connect)
  double end_s = 0;    // when its sender stopped
  std::uint64_t bytes_in_window = 0;  // received before the trial's end
  std::string cc;                     // what the sending socket ran
  bool ecn = false;                   // ECN negotiated
  double sender_cpu_s = 0;            // the sending thread's CPU time (CLOCK_THREAD_CPUTIME_ID)
  std::vector<testbed::TcpSample> samples;  // t on the trial's clock
  std::string error;                  // why the flow failed; empty if it ran

  double active_s() const { return end_s > start_s ? end_s - start_s : 0; }
};

struct ShortFlowTrace {
  double start_s = 0;
  double completion_s = 0;  // connect to last byte received
  bool completed = false;
};

struct TrafficResult {
  std::vector<BulkFlowTrace> bulk;
  std::vector<ShortFlowTrace> short_flows;
};

// Runs the plan over `path` (sender -> receiver); returns when every flow has ended. Stops early
// (flows end as at the trial's end) once `interrupted` is set.
TrafficResult run_traffic(const testbed::BottleneckPath& path, const TrafficPlan& plan,
                          const std::atomic<bool>& interrupted);

// The short-flow arrival times in [0, duration): exponential gaps of mean 1/rate from `seed`.
std::vector<double> poisson_arrivals(double rate_per_s, double duration_s, std::uint64_t seed);

}  // namespace bpfplug::bench
