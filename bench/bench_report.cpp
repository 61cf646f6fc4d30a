#include "bench_report.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "text_format.hpp"

namespace bpfplug::bench {
namespace {

using Metric = std::function<double(const FlowFigures&)>;

const Metric kGbps = [](const FlowFigures& f) { return f.gbit_per_s(); };
const Metric kCpuPerGb = [](const FlowFigures& f) { return f.cpu_s_per_gb(); };
const Metric kMachineCpuPerGb = [](const FlowFigures& f) { return f.machine_cpu_s_per_gb(); };
const Metric kRetrans = [](const FlowFigures& f) { return static_cast<double>(f.retransmits); };

std::string spread_text(const Spread& s, int decimals) {
  return fixed(s.median, decimals) + " [" + fixed(s.min, decimals) + ".." + fixed(s.max, decimals) + "]";
}

std::vector<double> values(const AlgoRuns& runs, const Metric& metric) {
  std::vector<double> v;
  for (const auto& f : runs.rounds) v.push_back(metric(f));
  return v;
}

const AlgoRuns* native_of(const AlgoRuns& bpf, const std::vector<AlgoRuns>& all) {
  for (const auto& r : all)
    if (r.path == bpf.path && r.cc == bpf.native) return &r;
  return nullptr;
}

// BPF/native of the same round, for every round: pairs share the machine's state of the moment.
std::vector<double> paired_ratios(const AlgoRuns& bpf, const AlgoRuns& native, const Metric& metric) {
  std::vector<double> ratios;
  for (std::size_t i = 0; i < std::min(bpf.rounds.size(), native.rounds.size()); ++i) {
    double base = metric(native.rounds[i]);
    if (base > 0) ratios.push_back(metric(bpf.rounds[i]) / base);
  }
  return ratios;
}

nlohmann::json spread_json(const Spread& s) { return {{"median", s.median}, {"min", s.min}, {"max", s.max}}; }

nlohmann::json flow_json(const FlowFigures& f) {
  return {{"bytes", f.bytes},           {"seconds", f.seconds},
          {"gbit_per_s", f.gbit_per_s()}, {"process_cpu_s", f.process_cpu_s},
          {"ksoftirqd_cpu_s", f.ksoftirqd_cpu_s}, {"cpu_s_per_gb", f.cpu_s_per_gb()},
          {"machine_cpu_s", f.machine_cpu_s}, {"machine_cpu_s_per_gb", f.machine_cpu_s_per_gb()},
          {"steal_s", f.steal_s}, {"retransmits", f.retransmits}, {"cwnd", f.cwnd}, {"rcvbuf_bytes", f.rcvbuf_bytes}};
}

}  // namespace

Spread spread_of(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return {median, v.front(), v.back()};
}

void print_throughput_table(std::ostream& out, const std::vector<AlgoRuns>& runs) {
  out << pad("path", 10) << pad("algorithm", 11) << pad("Gbit/s median [min..max]", 27)
      << pad("CPU s/GB median [min..max]", 28) << pad("machine", 9) << pad("retrans", 9) << pad("BPF/native Gbit/s", 24)
      << "BPF/native CPU s/GB\n";
  for (const auto& r : runs) {
    out << pad(r.path, 10) << pad(r.cc, 11) << pad(spread_text(spread_of(values(r, kGbps)), 2), 27)
        << pad(spread_text(spread_of(values(r, kCpuPerGb)), 3), 28)
        << pad(fixed(spread_of(values(r, kMachineCpuPerGb)).median, 3), 9)
        << pad(fixed(spread_of(values(r, kRetrans)).median, 0), 9);
    const AlgoRuns* native = r.native.empty() ? nullptr : native_of(r, runs);
    if (native) {
      out << pad(spread_text(spread_of(paired_ratios(r, *native, kGbps)), 3), 24)
          << spread_text(spread_of(paired_ratios(r, *native, kCpuPerGb)), 3);
    } else {
      out << pad("-", 24) << "-";
    }
    out << '\n';
  }
}

void print_steal(std::ostream& out, const std::vector<AlgoRuns>& runs, int cpus) {
  std::vector<double> shares;
  for (const auto& r : runs)
    for (const auto& f : r.rounds) shares.push_back(f.steal_share(cpus) * 100);
  out << "hypervisor steal during the flows: " << spread_text(spread_of(shares), 1) << " % of the " << cpus
      << " CPUs (median [min..max] over all flows)\n";
}

void print_callback_table(std::ostream& out, const std::vector<StatsRun>& stats) {
  out << pad("path", 10) << pad("algorithm", 11) << pad("program", 18) << pad("calls", 12) << pad("calls/MB", 10)
      << "ns/call\n";
  for (const auto& s : stats) {
    double mb = s.flow.bytes / 1e6;
    std::uint64_t calls = 0, ns = 0;
    for (const auto& c : s.callbacks) {
      calls += c.calls;
      ns += c.run_time_ns;
      out << pad(s.path, 10) << pad(s.cc, 11) << pad(c.prog, 18) << pad(std::to_string(c.calls), 12)
          << pad(fixed(mb > 0 ? c.calls / mb : 0, 1), 10) << (c.calls ? fixed(double(c.run_time_ns) / c.calls, 1) : "-")
          << '\n';
    }
    double share = s.flow.cpu_s() > 0 ? ns / 1e9 / s.flow.cpu_s() * 100 : 0;
    out << pad(s.path, 10) << pad(s.cc, 11) << pad("(all)", 18) << pad(std::to_string(calls), 12)
        << pad(fixed(mb > 0 ? calls / mb : 0, 1), 10) << (calls ? fixed(double(ns) / calls, 1) : "-") << "   = "
        << fixed(ns / 1e6, 1) << " ms, " << fixed(share, 2) << " % of the flow's CPU (" << fixed(s.flow.gbit_per_s(), 2)
        << " Gbit/s with stats on)\n";
  }
}

nlohmann::json runs_json(const std::vector<AlgoRuns>& runs) {
  auto out = nlohmann::json::array();
  for (const auto& r : runs) {
    nlohmann::json j = {{"path", r.path},
                        {"cc", r.cc},
                        {"gbit_per_s", spread_json(spread_of(values(r, kGbps)))},
                        {"cpu_s_per_gb", spread_json(spread_of(values(r, kCpuPerGb)))},
                        {"rounds", nlohmann::json::array()}};
    for (const auto& f : r.rounds) j["rounds"].push_back(flow_json(f));
    if (const AlgoRuns* native = r.native.empty() ? nullptr : native_of(r, runs)) {
      j["native"] = r.native;
      j["ratio_gbit_per_s"] = spread_json(spread_of(paired_ratios(r, *native, kGbps)));
      j["ratio_cpu_s_per_gb"] = spread_json(spread_of(paired_ratios(r, *native, kCpuPerGb)));
    }
    out.push_back(j);
  }
  return out;
}

nlohmann::json stats_json(const std::vector<StatsRun>& stats) {
  auto out = nlohmann::json::array();
  for (const auto& s : stats) {
    nlohmann::json j = {{"path", s.path}, {"cc", s.cc}, {"flow", flow_json(s.flow)}, {"callbacks", nlohmann::json::array()}};
    for (const auto& c : s.callbacks)
      j["callbacks"].push_back({{"prog", c.prog}, {"calls", c.calls}, {"run_time_ns", c.run_time_ns}});
    out.push_back(j);
  }
  return out;
}

}  // namespace bpfplug::bench
