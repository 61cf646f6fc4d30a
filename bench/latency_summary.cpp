#include "latency_summary.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <utility>

namespace bpfplug::bench {
namespace {

struct Stats {
  std::size_t n = 0;
  double median = 0, mean = 0, min = 0, max = 0;
};

Stats stats_of(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.n = v.size();
  s.median = s.n % 2 ? v[s.n / 2] : (v[s.n / 2 - 1] + v[s.n / 2]) / 2;
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(s.n);
  s.min = v.front();
  s.max = v.back();
  return s;
}

// The pairs whose ratio says where the time goes: the bigger operation first.
std::vector<std::pair<std::string, std::string>> ratio_pairs(const std::vector<std::string>& order) {
  std::vector<std::pair<std::string, std::string>> pairs = {{measure::kernel_switch, measure::rcu_grace_period},
                                                             {measure::swap, measure::kernel_switch},
                                                             {measure::cli_swap, measure::swap},
                                                             {measure::cli_swap, measure::cli_version}};
  const std::string unload_prefix = measure::unload("");
  const std::string cli_load_prefix = measure::cli_load("");
  for (const auto& name : order) {
    if (name.starts_with(unload_prefix))
      pairs.push_back({name, measure::rcu_grace_period});
    if (name.starts_with(cli_load_prefix)) {
      std::string plugin = name.substr(cli_load_prefix.size());
      pairs.push_back({measure::cli_load(plugin), measure::load(plugin)});
      pairs.push_back({measure::cli_unload(plugin), measure::unload(plugin)});
    }
  }
  return pairs;
}

}  // namespace

void LatencySamples::add(const std::string& what, double seconds) {
  auto [it, inserted] = samples_.try_emplace(what);
  if (inserted) order_.push_back(what);
  it->second.push_back(seconds);
}

void LatencySamples::print(std::ostream& out) const {
  if (order_.empty()) return;
  char line[160];
  std::snprintf(line, sizeof line, "%-38s %4s %10s %10s %10s %10s\n", "latency (ms), one sample per iteration", "n",
                "median", "mean", "min", "max");
  out << "\n" << line;
  for (const auto& name : order_) {
    Stats s = stats_of(samples_.at(name));
    std::snprintf(line, sizeof line, "%-38s %4zu %10.3f %10.3f %10.3f %10.3f\n", name.c_str(), s.n, s.median * 1e3,
                  s.mean * 1e3, s.min * 1e3, s.max * 1e3);
    out << line;
  }
  bool header = false;
  for (const auto& [big, small] : ratio_pairs(order_)) {
    if (!samples_.count(big) || !samples_.count(small)) continue;
    double denominator = stats_of(samples_.at(small)).median;
    if (denominator <= 0) continue;
    if (!header) out << "\nratios of medians\n";
    header = true;
    std::snprintf(line, sizeof line, "  %-38s / %-38s = %6.1fx\n", big.c_str(), small.c_str(),
                  stats_of(samples_.at(big)).median / denominator);
    out << line;
  }
}

}  // namespace bpfplug::bench
