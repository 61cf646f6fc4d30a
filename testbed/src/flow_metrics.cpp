#include "bpfplug/testbed/flow_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace bpfplug::testbed {

std::vector<double> queueing_delay_ms(const FlowResult& flow, double warmup_seconds) {
  std::uint32_t base = UINT32_MAX;
  for (const auto& s : flow.samples)
    if (s.min_rtt_us) base = std::min(base, s.min_rtt_us);
  std::vector<double> out;
  for (const auto& s : flow.samples)
    if (s.t >= warmup_seconds && s.rtt_us) out.push_back((s.rtt_us - std::min(s.rtt_us, base)) / 1000.0);
  return out;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  p = std::clamp(p, 0.0, 1.0);
  return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
}

double jain_index(const std::vector<double>& rates) {
  double sum = 0, sum_squares = 0;
  for (double x : rates) {
    sum += x;
    sum_squares += x * x;
  }
  if (rates.empty() || sum_squares == 0) return 0;
  return sum * sum / (static_cast<double>(rates.size()) * sum_squares);
}

std::vector<double> binned_rate_bps(const std::vector<TcpSample>& samples, double start_offset_seconds,
                                    double bin_seconds, std::size_t bins) {
  // Cumulative bytes acknowledged by the last sample at or before time `t` on the common clock.
  std::size_t next = 0;
  std::uint64_t acked = 0;
  auto acked_by = [&](double t) {
    while (next < samples.size() && samples[next].t + start_offset_seconds <= t) acked = samples[next++].bytes_acked;
    return acked;
  };
  std::vector<double> rates(bins, 0.0);
  std::uint64_t at_start = acked_by(0);
  for (std::size_t k = 0; k < bins; ++k) {
    std::uint64_t at_end = acked_by(static_cast<double>(k + 1) * bin_seconds);
    rates[k] = static_cast<double>(at_end - at_start) * 8.0 / bin_seconds;
    at_start = at_end;
  }
  return rates;
}

std::optional<double> convergence_time_seconds(const std::vector<std::vector<double>>& rates, double bin_seconds,
                                               double last_start_seconds, double threshold, double hold_seconds) {
  if (rates.empty() || bin_seconds <= 0) return std::nullopt;
  std::size_t bins = rates.front().size();
  for (const auto& flow : rates) bins = std::min(bins, flow.size());
  auto hold = static_cast<std::size_t>(std::max(1.0, std::ceil(hold_seconds / bin_seconds - 1e-9)));
  auto first = static_cast<std::size_t>(std::ceil(last_start_seconds / bin_seconds - 1e-9));
  std::size_t run = 0;  // consecutive fair bins ending at k
  for (std::size_t k = first; k < bins; ++k) {
    std::vector<double> shares;
    for (const auto& flow : rates) shares.push_back(flow[k]);
    run = jain_index(shares) >= threshold ? run + 1 : 0;
    if (run == hold) return static_cast<double>(k + 1 - hold) * bin_seconds - last_start_seconds;
  }
  return std::nullopt;
}

}  // namespace bpfplug::testbed
