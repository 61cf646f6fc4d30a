#include "cc_bench_report.hpp"

#include "../text_format.hpp"

namespace bpfplug::bench {
namespace {

std::string mbit(double bps) { return fixed(bps / 1e6, bps < 10e6 ? 2 : 1); }

// Milliseconds with three significant digits or so: 0.052, 2.45, 80.1.
std::string ms(double v) { return fixed(v, v < 1 ? 3 : v < 10 ? 2 : 1); }

std::string opt(const std::optional<double>& v, int decimals) { return v ? fixed(*v, decimals) : "-"; }

nlohmann::json opt_json(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

nlohmann::json fidelity_json(const Fidelity& f) {
  return {{"applicable", f.applicable}, {"requested_rtt_ms", f.requested_ms}, {"excess_p50_ms", f.excess_p50_ms},
          {"excess_p95_ms", f.excess_p95_ms}, {"excess_p99_ms", f.excess_p99_ms}, {"excess_max_ms", f.excess_max_ms}, {"tolerance_ms", f.tolerance_ms},
          {"probes", f.probes}, {"lost", f.lost}, {"faithful", f.faithful}, {"why", f.why}};
}

nlohmann::json samples_json(const std::vector<testbed::TcpSample>& samples) {
  // Columns rather than objects: a 10 s flow sampled every 10 ms is a thousand rows.
  nlohmann::json cols = {{"t", nlohmann::json::array()},         {"cwnd", nlohmann::json::array()},
                         {"srtt_us", nlohmann::json::array()},   {"min_rtt_us", nlohmann::json::array()},
                         {"delivery_rate_bps", nlohmann::json::array()}, {"bytes_acked", nlohmann::json::array()},
                         {"total_retrans", nlohmann::json::array()},     {"delivered_ce", nlohmann::json::array()},
                         {"ssthresh", nlohmann::json::array()},          {"ca_state", nlohmann::json::array()}};
  for (const auto& s : samples) {
    cols["t"].push_back(s.t);
    cols["cwnd"].push_back(s.cwnd);
    cols["srtt_us"].push_back(s.rtt_us);
    cols["min_rtt_us"].push_back(s.min_rtt_us);
    cols["delivery_rate_bps"].push_back(s.delivery_rate_bps);
    cols["bytes_acked"].push_back(s.bytes_acked);
    cols["total_retrans"].push_back(s.total_retrans);
    cols["delivered_ce"].push_back(s.delivered_ce);
    cols["ssthresh"].push_back(s.ssthresh);
    cols["ca_state"].push_back(s.ca_state);
  }
  return cols;
}

nlohmann::json trial_json(const TrialMetrics& m, const TrafficResult& traffic) {
  nlohmann::json flows = nlohmann::json::array();
  for (std::size_t i = 0; i < traffic.bulk.size(); ++i) {
    const auto& f = traffic.bulk[i];
    flows.push_back({{"start_s", f.start_s}, {"end_s", f.end_s}, {"bytes_in_window", f.bytes_in_window},
                     {"cc", f.cc}, {"ecn", f.ecn}, {"sender_cpu_s", f.sender_cpu_s}, {"error", f.error},
                     {"samples", samples_json(f.samples)}});
  }
  nlohmann::json short_flows = nlohmann::json::array();
  for (const auto& s : traffic.short_flows)
    short_flows.push_back({{"start_s", s.start_s}, {"completion_s", s.completion_s}, {"completed", s.completed}});
  return {{"algorithm", m.algorithm}, {"run", m.run},
          {"goodput_bps", m.goodput_bps}, {"share", m.share}, {"flow_goodput_bps", m.flow_goodput_bps},
          {"rtt_ms", {{"p50", m.rtt_p50_ms}, {"p95", m.rtt_p95_ms}, {"p99", m.rtt_p99_ms}}},
          {"queueing_delay_ms", {{"p50", m.qdelay_p50_ms}, {"p95", m.qdelay_p95_ms}}},
          {"bottleneck_queueing_delay_mean_ms", m.bottleneck_qdelay_ms},
          {"retransmits", m.retransmits}, {"retransmit_share", m.retransmit_share}, {"ce_marked", m.ce_marked},
          {"jain", opt_json(m.jain)}, {"convergence_s", opt_json(m.convergence_s)},
          {"sender_cpu_s_per_gb", m.sender_cpu_s_per_gb}, {"machine_cpu_s_per_gb", m.machine_cpu_s_per_gb},
          {"bpf_ns_per_call", opt_json(m.bpf_ns_per_call)}, {"bpf_calls", m.bpf_calls},
          {"rwnd_limited_share", m.rwnd_limited_share}, {"steal_share", m.steal_share},
          {"short_flows", {{"started", m.short_flows}, {"completed", m.short_completed},
                           {"fct_p50_ms", m.short_fct_p50_ms}, {"fct_p95_ms", m.short_fct_p95_ms}, {"flows", short_flows}}},
          {"all_flows_ran", m.all_flows_ran}, {"flow_errors", m.flow_errors},
          {"fidelity", fidelity_json(m.fidelity)}, {"flows", flows}};
}

}  // namespace

std::string trial_line(const TrialMetrics& m) {
  std::string s = pad(m.algorithm, 12) + mbit(m.goodput_bps) + " Mbit/s (" + fixed(m.share * 100, 0) + " %), RTT p95 " +
                  ms(m.rtt_p95_ms) + " ms, retrans " + std::to_string(m.retransmits);
  if (m.jain) s += ", Jain " + fixed(*m.jain, 3);
  if (!m.all_flows_ran) s += "  [flows failed]";
  if (m.fidelity.applicable && !m.fidelity.faithful) s += "  [delay not faithful]";
  return s;
}

void print_report(std::ostream& out, const BenchReport& r) {
  const auto& c = r.config;
  out << "bpfplug bench: " << describe(c) << "\n"
      << r.host << "\n"
      << "propagation delay: " << r.delay_method;
  if (r.calibration && r.calibration->applicable)
    out << "\n  checked under load before the trials: probes' RTT above the requested " << fixed(r.config.rtt.count() / 1000.0, 1)
        << " ms by +" << fixed(r.calibration->excess_p50_ms, 2) << " ms (p50), +" << fixed(r.calibration->excess_p95_ms, 2)
        << " (p95), +" << fixed(r.calibration->excess_p99_ms, 2) << " (p99), +" << fixed(r.calibration->excess_max_ms, 2)
        << " (max); allowed at p95: " << fixed(r.calibration->tolerance_ms, 2) << " ms";
  out << "\n\n";
  const bool several = c.flows > 1;
  const bool ranges = c.runs > 1;
  out << pad("algorithm", 12) << pad(ranges ? "goodput Mbit/s [min..max]" : "goodput Mbit/s", ranges ? 26 : 15)
      << pad("share", 6) << pad(ranges ? "RTT p50/p95/p99 ms [p95 min..max]" : "RTT p50/p95/p99 ms", ranges ? 36 : 20)
      << pad("qdelay p95", 11) << pad("btl queue", 10) << pad("retrans", 14);
  if (several) out << pad("Jain", 6) << pad("conv s", 8);
  if (c.short_flows_per_s > 0) out << pad("short FCT p95", 14);
  out << pad("snd CPU s/GB", 13) << "BPF ns/call\n";
  for (const auto& s : r.summaries) {
    std::string goodput = mbit(s.goodput_bps);
    if (ranges) goodput += " [" + mbit(s.goodput_min_bps) + ".." + mbit(s.goodput_max_bps) + "]";
    std::string rtt = ms(s.rtt_p50_ms) + "/" + ms(s.rtt_p95_ms) + "/" + ms(s.rtt_p99_ms);
    if (ranges) rtt += " [" + ms(s.rtt_p95_min_ms) + ".." + ms(s.rtt_p95_max_ms) + "]";
    out << pad(s.algorithm, 12) << pad(goodput, ranges ? 26 : 15) << pad(fixed(s.share * 100, 0) + "%", 6)
        << pad(rtt, ranges ? 36 : 20) << pad(ms(s.qdelay_p95_ms), 11) << pad(ms(s.bottleneck_qdelay_ms), 10)
        << pad(fixed(s.retransmits, 0) + " (" + fixed(s.retransmit_share * 100, 2) + "%)", 14);
    if (several) {
      std::string conv = s.convergence_s ? fixed(*s.convergence_s, 1) : "never";
      if (ranges) conv += " " + std::to_string(s.converged_runs) + "/" + std::to_string(s.runs);
      out << pad(opt(s.jain, 3), 6) << pad(conv, 8);
    }
    if (c.short_flows_per_s > 0) out << pad(s.short_fct_p95_ms ? fixed(*s.short_fct_p95_ms, 1) + " ms" : "-", 14);
    out << pad(fixed(s.sender_cpu_s_per_gb, 2), 13) << opt(s.bpf_ns_per_call, 0) << "\n";
  }
  out << "\nmedians over " << c.runs << (c.runs == 1 ? " run" : " runs")
      << "; RTT: the senders' smoothed RTT sampled every " << c.sample_every.count() / 1000.0
      << " ms; qdelay: that minus the flow's lowest RTT; btl queue: mean wait in the bottleneck queue (ms);\n"
         "retrans: segments (share of those delivered); snd CPU: the sending threads' CPU time per GB delivered;\n"
         "BPF: the plugin's callbacks' run time per call\n";
  if (several)
    out << "Jain: fairness of the flows' rates while all ran; conv: seconds after the last flow started until "
           "Jain >= 0.95 held for 1 s (" << fixed(kConvergenceBinSeconds, 1) << " s bins)\n";
  for (const auto& n : r.notes) out << "note: " << n << "\n";
}

nlohmann::json report_json(const BenchReport& r) {
  const auto& c = r.config;
  nlohmann::json config = {{"algorithms", c.algorithms}, {"rate_bps", c.rate_bps}, {"rtt_us", c.rtt.count()},
                           {"buffer_bytes", c.buffer_bytes},
                           {"ecn_k_bytes", c.ecn_k_bytes ? nlohmann::json(*c.ecn_k_bytes) : nlohmann::json(nullptr)},
                           {"loss", c.loss}, {"flows", c.flows}, {"stagger_s", c.stagger_s.value_or(0)},
                           {"short_flows_per_s", c.short_flows_per_s}, {"short_flow_bytes", c.short_flow_bytes},
                           {"duration_s", c.duration_s}, {"runs", c.runs}, {"sample_every_us", c.sample_every.count()}};
  nlohmann::json trials = nlohmann::json::array();
  for (std::size_t i = 0; i < r.trials.size(); ++i) trials.push_back(trial_json(r.trials[i], r.traffic.at(i)));
  nlohmann::json summary = nlohmann::json::array();
  for (const auto& s : r.summaries)
    summary.push_back({{"algorithm", s.algorithm}, {"runs", s.runs},
                       {"goodput_bps", {{"median", s.goodput_bps}, {"min", s.goodput_min_bps}, {"max", s.goodput_max_bps}}},
                       {"share", s.share},
                       {"rtt_ms", {{"p50", s.rtt_p50_ms}, {"p95", s.rtt_p95_ms}, {"p99", s.rtt_p99_ms},
                                   {"p95_min", s.rtt_p95_min_ms}, {"p95_max", s.rtt_p95_max_ms}}},
                       {"queueing_delay_p95_ms", s.qdelay_p95_ms}, {"bottleneck_queueing_delay_mean_ms", s.bottleneck_qdelay_ms},
                       {"retransmits", s.retransmits}, {"retransmit_share", s.retransmit_share},
                       {"jain", opt_json(s.jain)}, {"convergence_s", opt_json(s.convergence_s)},
                       {"converged_runs", s.converged_runs},
                       {"sender_cpu_s_per_gb", s.sender_cpu_s_per_gb}, {"machine_cpu_s_per_gb", s.machine_cpu_s_per_gb},
                       {"bpf_ns_per_call", opt_json(s.bpf_ns_per_call)}, {"short_fct_p95_ms", opt_json(s.short_fct_p95_ms)}});
  return {{"config", config}, {"description", describe(c)}, {"host", r.host}, {"delay_method", r.delay_method},
          {"calibration", r.calibration ? fidelity_json(*r.calibration) : nlohmann::json(nullptr)},
          {"summary", summary}, {"trials", trials}, {"notes", r.notes}};
}

}  // namespace bpfplug::bench
