#include "bpfplug/testbed/flow_metrics.hpp"

#include <algorithm>
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

}  // namespace bpfplug::testbed
