#include "trial_metrics.hpp"

#include <algorithm>
#include <cmath>

#include "bpfplug/testbed/flow_metrics.hpp"

namespace bpfplug::bench {
namespace {

using testbed::TcpSample;

constexpr double kMss = 1448;  // payload of a full-size segment with timestamps (1500 - 20 - 20 - 12)

// The cumulative bytes acknowledged at time t: the last sample at or before it.
std::uint64_t acked_at(const std::vector<TcpSample>& samples, double t) {
  std::uint64_t acked = 0;
  for (const auto& s : samples) {
    if (s.t > t) break;
    acked = s.bytes_acked;
  }
  return acked;
}

template <class F>
std::optional<double> median_of_present(const std::vector<TrialMetrics>& trials, F get) {
  std::vector<double> v;
  for (const auto& t : trials)
    if (auto x = get(t)) v.push_back(*x);
  if (v.empty()) return std::nullopt;
  return median(v);
}

}  // namespace

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

Fidelity judge_fidelity(const ProbeResult& probe, double requested_rtt_ms) {
  Fidelity f;
  f.applicable = requested_rtt_ms > 0;
  f.requested_ms = requested_rtt_ms;
  f.probes = probe.sent;
  f.lost = probe.lost;
  std::vector<double> excess;
  for (double rtt : probe.rtt_ms) excess.push_back(rtt - requested_rtt_ms);
  f.excess_p50_ms = testbed::percentile(excess, 0.5);
  f.excess_p95_ms = testbed::percentile(excess, 0.95);
  f.excess_p99_ms = testbed::percentile(excess, 0.99);
  f.excess_max_ms = excess.empty() ? 0 : *std::max_element(excess.begin(), excess.end());
  f.tolerance_ms = std::max(0.1 * requested_rtt_ms, 0.25);
  if (!f.applicable) return f;
  char why[300];
  if (probe.rtt_ms.empty()) {
    f.faithful = false;
    f.why = "no probe came back across the delay line";
  } else if (probe.lost * 100 > probe.sent) {
    f.faithful = false;
    std::snprintf(why, sizeof why, "%d of %d probes were lost on the delay line", probe.lost, probe.sent);
    f.why = why;
  } else if (f.excess_p95_ms > f.tolerance_ms) {
    f.faithful = false;
    std::snprintf(why, sizeof why,
                  "the RTT across the delay line was %.2f ms above the requested %.2f ms at the 95th percentile "
                  "(%.2f ms allowed; median +%.2f ms, 99th percentile +%.2f ms, max +%.2f ms)",
                  f.excess_p95_ms, requested_rtt_ms, f.tolerance_ms, f.excess_p50_ms, f.excess_p99_ms, f.excess_max_ms);
    f.why = why;
  } else if (f.excess_p50_ms < -0.01) {
    f.faithful = false;  // cannot happen with a correct delay line: it never delivers early
    std::snprintf(why, sizeof why, "the RTT across the delay line was %.2f ms below the requested one (p50)", -f.excess_p50_ms);
    f.why = why;
  }
  return f;
}

TrialMetrics compute_trial(const std::string& algorithm, int run, const BenchConfig& config,
                           const TrafficResult& traffic, const TrialCounters& counters, const ProbeResult& probe,
                           int cpus) {
  TrialMetrics m;
  m.algorithm = algorithm;
  m.run = run;
  std::uint64_t in_window = 0, acked = 0;
  std::vector<double> rtts, qdelays;
  double last_start = 0, first_end = config.duration_s;
  double sender_cpu = 0;
  for (const auto& flow : traffic.bulk) {
    if (!flow.error.empty() || flow.samples.empty()) {
      m.all_flows_ran = false;
      m.flow_errors.push_back(flow.error.empty() ? "no TCP_INFO sample" : flow.error);
      continue;
    }
    if (flow.cc != algorithm) {
      m.all_flows_ran = false;
      m.flow_errors.push_back("a flow ran " + flow.cc + ", not " + algorithm);
    }
    if (flow.bytes_in_window == 0) {
      m.all_flows_ran = false;
      m.flow_errors.push_back("a flow delivered nothing");
    }
    in_window += flow.bytes_in_window;
    acked += flow.samples.back().bytes_acked;
    sender_cpu += flow.sender_cpu_s;
    m.flow_goodput_bps.push_back(flow.active_s() > 0 ? flow.bytes_in_window * 8.0 / flow.active_s() : 0);
    m.retransmits += flow.samples.back().total_retrans;
    const TcpSample& last = flow.samples.back();
    if (last.busy_us > 0) m.rwnd_limited_share = std::max(m.rwnd_limited_share, double(last.rwnd_limited_us) / double(last.busy_us));
    for (const auto& s : flow.samples)
      if (s.rtt_us > 0) rtts.push_back(s.rtt_us / 1000.0);
    testbed::FlowResult as_result;
    as_result.samples = flow.samples;
    auto q = testbed::queueing_delay_ms(as_result, 0);
    qdelays.insert(qdelays.end(), q.begin(), q.end());
    last_start = std::max(last_start, flow.start_s);
    first_end = std::min(first_end, flow.end_s);
  }
  m.goodput_bps = in_window * 8.0 / config.duration_s;
  m.share = m.goodput_bps / static_cast<double>(config.rate_bps);
  m.rtt_p50_ms = testbed::percentile(rtts, 0.5);
  m.rtt_p95_ms = testbed::percentile(rtts, 0.95);
  m.rtt_p99_ms = testbed::percentile(rtts, 0.99);
  m.qdelay_p50_ms = testbed::percentile(qdelays, 0.5);
  m.qdelay_p95_ms = testbed::percentile(qdelays, 0.95);
  if (counters.marker_packets)
    m.bottleneck_qdelay_ms = counters.backlog_sum_bytes * 8.0 / static_cast<double>(config.rate_bps) /
                             static_cast<double>(counters.marker_packets) * 1000;
  m.retransmit_share = acked ? m.retransmits / (acked / kMss) : 0;
  m.ce_marked = counters.marker_marked;
  if (acked) {
    m.sender_cpu_s_per_gb = sender_cpu / (acked / 1e9);
    m.machine_cpu_s_per_gb = counters.machine_cpu_s / (acked / 1e9);
  }
  if (counters.bpf_calls) {
    m.bpf_calls = *counters.bpf_calls;
    if (m.bpf_calls && counters.bpf_run_time_ns) m.bpf_ns_per_call = double(*counters.bpf_run_time_ns) / double(m.bpf_calls);
  }

  // Fairness and convergence, only with several flows that all ran.
  if (traffic.bulk.size() >= 2 && m.all_flows_ran) {
    if (first_end > last_start) {
      std::vector<double> rates;
      for (const auto& flow : traffic.bulk)
        rates.push_back((acked_at(flow.samples, first_end) - acked_at(flow.samples, last_start)) * 8.0 /
                        (first_end - last_start));
      m.jain = testbed::jain_index(rates);
    }
    auto bins = static_cast<std::size_t>(config.duration_s / kConvergenceBinSeconds);
    std::vector<std::vector<double>> binned;
    for (const auto& flow : traffic.bulk)
      binned.push_back(testbed::binned_rate_bps(flow.samples, 0, kConvergenceBinSeconds, bins));
    m.convergence_s = testbed::convergence_time_seconds(binned, kConvergenceBinSeconds, last_start);
    m.converged = m.convergence_s.has_value();
  }

  std::vector<double> fct;
  for (const auto& s : traffic.short_flows) {
    if (s.completion_s <= 0) continue;  // never started (interrupted)
    ++m.short_flows;
    if (s.completed) {
      ++m.short_completed;
      fct.push_back(s.completion_s * 1000);
    }
  }
  m.short_fct_p50_ms = testbed::percentile(fct, 0.5);
  m.short_fct_p95_ms = testbed::percentile(fct, 0.95);
  m.steal_share = counters.steal_s / (config.duration_s * std::max(cpus, 1));
  m.fidelity = judge_fidelity(probe, static_cast<double>(config.rtt.count()) / 1000.0);
  if (counters.delay_line_drops && m.fidelity.applicable) {
    m.fidelity.faithful = false;
    m.fidelity.why = std::to_string(counters.delay_line_drops) + " packets were dropped by the delay line's queue";
  }
  return m;
}

AlgoSummary summarize(const std::string& algorithm, const std::vector<TrialMetrics>& all) {
  std::vector<TrialMetrics> trials;
  for (const auto& t : all)
    if (t.algorithm == algorithm) trials.push_back(t);
  AlgoSummary s;
  s.algorithm = algorithm;
  s.runs = static_cast<int>(trials.size());
  if (trials.empty()) return s;
  auto med = [&](auto get) {
    std::vector<double> v;
    for (const auto& t : trials) v.push_back(get(t));
    return median(v);
  };
  auto lo_hi = [&](auto get, double& lo, double& hi) {
    lo = hi = get(trials.front());
    for (const auto& t : trials) {
      lo = std::min(lo, get(t));
      hi = std::max(hi, get(t));
    }
  };
  s.goodput_bps = med([](const auto& t) { return t.goodput_bps; });
  lo_hi([](const auto& t) { return t.goodput_bps; }, s.goodput_min_bps, s.goodput_max_bps);
  s.share = med([](const auto& t) { return t.share; });
  s.rtt_p50_ms = med([](const auto& t) { return t.rtt_p50_ms; });
  s.rtt_p95_ms = med([](const auto& t) { return t.rtt_p95_ms; });
  s.rtt_p99_ms = med([](const auto& t) { return t.rtt_p99_ms; });
  lo_hi([](const auto& t) { return t.rtt_p95_ms; }, s.rtt_p95_min_ms, s.rtt_p95_max_ms);
  s.qdelay_p95_ms = med([](const auto& t) { return t.qdelay_p95_ms; });
  s.bottleneck_qdelay_ms = med([](const auto& t) { return t.bottleneck_qdelay_ms; });
  s.retransmits = med([](const auto& t) { return double(t.retransmits); });
  s.retransmit_share = med([](const auto& t) { return t.retransmit_share; });
  s.jain = median_of_present(trials, [](const auto& t) { return t.jain; });
  s.convergence_s = median_of_present(trials, [](const auto& t) { return t.convergence_s; });
  for (const auto& t : trials) s.converged_runs += t.converged;
  s.sender_cpu_s_per_gb = med([](const auto& t) { return t.sender_cpu_s_per_gb; });
  s.machine_cpu_s_per_gb = med([](const auto& t) { return t.machine_cpu_s_per_gb; });
  s.bpf_ns_per_call = median_of_present(trials, [](const auto& t) { return t.bpf_ns_per_call; });
  s.short_fct_p95_ms = median_of_present(trials, [](const auto& t) {
    return t.short_completed ? std::optional<double>(t.short_fct_p95_ms) : std::nullopt;
  });
  return s;
}

}  // namespace bpfplug::bench
