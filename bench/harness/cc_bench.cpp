#include "cc_bench.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <thread>

#include "../bench_plugins.hpp"
#include "../host_info.hpp"
#include "../lean_flow.hpp"
#include "../text_format.hpp"
#include "bpfplug/catalogue.hpp"
#include "bpfplug/error.hpp"
#include "bpfplug/sysctl.hpp"
#include "bpfplug/testbed/bottleneck_path.hpp"
#include "cc_bench_plot.hpp"
#include "cc_bench_report.hpp"
#include "path_probe.hpp"
#include "traffic_mix.hpp"

namespace bpfplug::bench {

std::atomic<bool> bench_interrupted{false};

void throw_if_interrupted(const std::string& loaded) {
  if (bench_interrupted)
    throw Error(Exit::failure, "interrupted; the testbed and the " + loaded + " the benchmark loaded are removed");
}

namespace {

using testbed::BottleneckPath;

constexpr double kCalibrationSeconds = 2;
// A check can fail from a passing stall of the machine (on a VM, the hypervisor may take a CPU
// for milliseconds); a configuration is refused only if every attempt fails.
constexpr int kCalibrationAttempts = 3;

// An algorithm of the run: a kernel algorithm already registered (built in, or a plugin someone
// loaded), or a bpfplug plugin this benchmark loads.
struct Algorithm {
  std::string cc;
  std::string plugin;  // non-empty when this benchmark loaded it
  std::vector<StructOpsProg> progs;
};


// Which plugin registers `cc`, if any (its default variant).
const CatalogueEntry* plugin_for(const Catalogue& catalogue, const std::string& cc) {
  for (const auto& e : catalogue.entries())
    if (e.meta.variant == kDefaultVariant && e.ops_name == cc) return &e;
  return nullptr;
}

// Resolves every name before anything is loaded: all known, or one clear error.
std::vector<Algorithm> plan_algorithms(const BenchConfig& config, const Catalogue& catalogue,
                                       const CongestionControlSysctl& cc, std::vector<std::string>& notes) {
  std::vector<Algorithm> algos;
  std::vector<std::string> known = cc.available();
  for (const auto& e : catalogue.entries())
    if (e.meta.variant == kDefaultVariant) known.push_back(e.ops_name);
  for (const auto& name : config.algorithms) {
    if (cc.is_available(name)) {
      algos.push_back({name, "", {}});
      if (plugin_for(catalogue, name)) {
        notes.push_back(name + " was already registered (not by this benchmark): it ran as loaded, "
                        "without BPF run-time figures");
        for (const auto& hint : stale_root_hints()) notes.push_back(hint);
      }
      continue;
    }
    if (const auto* entry = plugin_for(catalogue, name)) {
      algos.push_back({name, entry->meta.name, {}});
      continue;
    }
    std::string hint;
    if (const auto* entry = catalogue.find(name))
      hint = "'" + name + "' is bpfplug's plugin that registers " + entry->ops_name + "; name the algorithm: " + entry->ops_name;
    else if (auto guess = closest_name(name, known); !guess.empty())
      hint = "did you mean '" + guess + "'?";
    else {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      hint = "the kernel has " + list + " (bpfplug plugins are loaded for the run)";
    }
    throw Error(Exit::usage, "unknown congestion control '" + name + "': neither the kernel nor a bpfplug plugin has it", hint);
  }
  return algos;
}

// Socket buffers large enough for a window of twice (BDP + buffer): the benchmark measures the
// congestion control, not the receive window.
void size_socket_buffers(const BottleneckPath& path, const BenchConfig& c) {
  std::uint64_t need = 2 * (c.bdp_bytes() + c.buffer_bytes);
  std::uint64_t max = std::max<std::uint64_t>(need * 2, 6 * 1024 * 1024);
  for (const auto* ns : {&path.sender(), &path.receiver()})
    for (const char* key : {"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"})
      ns->set_sysctl(key, "4096 131072 " + std::to_string(max));
}

TrialCounters read_counters_now(const BottleneckPath& path, const CpuMeter& meter, const Algorithm& algo) {
  TrialCounters c;
  auto m = path.marker_stats();
  c.marker_packets = m.packets;
  c.marker_marked = m.marked;
  c.marker_dropped = m.dropped;
  c.backlog_sum_bytes = m.backlog_sum_bytes;
  auto cpu = meter.now();
  c.machine_cpu_s = cpu.machine_busy_s;
  c.steal_s = cpu.machine_steal_s;
  if (!algo.progs.empty()) {
    std::uint64_t calls = 0, ns = 0;
    for (const auto& p : algo.progs) {
      auto counters = read_counters(p);
      calls += counters.run_cnt;
      ns += counters.run_time_ns;
    }
    c.bpf_calls = calls;
    c.bpf_run_time_ns = ns;
  }
  if (const auto* line = path.delay_line()) {
    auto s = line->stats();
    c.delay_line_drops = s.a_to_b.dropped + s.b_to_a.dropped;
  }
  return c;
}

TrialCounters difference(const TrialCounters& a, const TrialCounters& b) {
  TrialCounters d;
  d.marker_packets = b.marker_packets - a.marker_packets;
  d.marker_marked = b.marker_marked - a.marker_marked;
  d.marker_dropped = b.marker_dropped - a.marker_dropped;
  d.backlog_sum_bytes = b.backlog_sum_bytes - a.backlog_sum_bytes;
  d.machine_cpu_s = b.machine_cpu_s - a.machine_cpu_s;
  d.steal_s = b.steal_s - a.steal_s;
  if (a.bpf_calls && b.bpf_calls) {
    d.bpf_calls = *b.bpf_calls - *a.bpf_calls;
    d.bpf_run_time_ns = *b.bpf_run_time_ns - *a.bpf_run_time_ns;
  }
  d.delay_line_drops = b.delay_line_drops - a.delay_line_drops;
  return d;
}

// The pause between trials that lets the bottleneck queue drain: what is left of one trial must
// not meet the next.
double settle_seconds(const BenchConfig& c) {
  double drain_s = static_cast<double>(c.buffer_bytes) * 8 / static_cast<double>(c.rate_bps);
  return 0.3 + 2 * drain_s + 2 * static_cast<double>(c.rtt.count()) / 1e6;
}

void settle(const BenchConfig& c) { std::this_thread::sleep_for(std::chrono::duration<double>(settle_seconds(c))); }

struct TrialOutcome {
  TrialMetrics metrics;
  TrafficResult traffic;
};

TrialOutcome run_trial(const BottleneckPath& path, const BenchConfig& c, const Algorithm& algo, int run,
                       double duration_s, const CpuMeter& meter) {
  settle(c);
  throw_if_interrupted("plugins");
  TrafficPlan plan;
  plan.cc = algo.cc;
  plan.flows = c.flows;
  plan.stagger_s = c.stagger_s.value_or(0);
  plan.duration_s = duration_s;
  plan.short_flows_per_s = c.short_flows_per_s;
  plan.short_flow_bytes = c.short_flow_bytes;
  plan.seed = static_cast<std::uint64_t>(run) + 1;  // every algorithm of a run sees the same arrivals
  plan.sample_every = c.sample_every;
  BenchConfig trial_config = c;
  trial_config.duration_s = duration_s;

  auto before = read_counters_now(path, meter, algo);
  PathProbe probe(path.sender(), path.bottleneck(), BottleneckPath::bottleneck_near_addr, std::chrono::milliseconds(10));
  TrialOutcome o;
  o.traffic = run_traffic(path, plan, bench_interrupted);
  auto probed = probe.finish();
  auto after = read_counters_now(path, meter, algo);
  throw_if_interrupted("plugins");
  o.metrics = compute_trial(algo.cc, run, trial_config, o.traffic, difference(before, after), probed,
                            static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)));
  return o;
}

std::string delay_method(const BenchConfig& c, const BottleneckPath& path) {
  std::string method = path.delay_method();
  if (method == "none") return "none added (the namespaces' own RTT)";
  if (method == "netem") return "netem, " + fixed(c.rtt.count() / 1000.0, 3) + " ms on the way back to the sender";
  return "user-space delay line over TUN devices, " + fixed(c.rtt.count() / 2000.0, 3) +
         " ms each way (this kernel has no netem)";
}

// Checks the emulated delay under this rate before minutes go into trials: refused (with the
// figures) if every attempt is off; attempts that failed before one passed become a note.
void check_delay(const BottleneckPath& path, const BenchConfig& config, const CpuMeter& meter, BenchReport& report,
                 std::ostream& progress) {
  BenchConfig one = config;
  one.flows = 1;
  one.short_flows_per_s = 0;
  std::string failures;
  double max_steal = 0;
  for (int attempt = 1; attempt <= kCalibrationAttempts; ++attempt) {
    progress << "checking the emulated RTT under load (" << kCalibrationSeconds << " s of reno";
    if (attempt > 1) progress << ", attempt " << attempt << " of " << kCalibrationAttempts;
    progress << ")\n";
    auto check = run_trial(path, one, Algorithm{"reno", "", {}}, 0, kCalibrationSeconds, meter);
    report.calibration = check.metrics.fidelity;
    if (report.calibration->faithful) break;
    failures += "\n  attempt " + std::to_string(attempt) + ": " + report.calibration->why + " (steal " +
                fixed(check.metrics.steal_share * 100, 1) + " % of the CPUs)";
    max_steal = std::max(max_steal, check.metrics.steal_share);
    if (attempt == kCalibrationAttempts) {
      // A hypervisor that takes the CPUs away stalls the delay line whatever the configuration.
      std::string hint = max_steal >= 0.02
                             ? "the hypervisor took up to " + fixed(max_steal * 100, 1) +
                                   " % of this VM's CPUs during the checks (steal): the machine, not the path, may be "
                                   "the problem; run again when it is quieter, or lower --rate"
                             : "lower --rate or raise --rtt (docs/benchmarks.md lists what the delay line carries), "
                               "or use --rtt 0";
      throw Error(Exit::unsupported,
                  "this machine cannot emulate an RTT of " + fixed(config.rtt.count() / 1000.0, 2) + " ms at " +
                      fixed(config.rate_bps / 1e6, 0) + " Mbit/s faithfully:" + failures,
                  hint);
    }
    progress << "  not faithful: " << report.calibration->why << "; trying again\n";
  }
  if (!failures.empty()) report.notes.push_back("the delay check failed before it passed:" + failures);
}

// Every algorithm once per run, the order rotated every run so that no algorithm always
// follows the same one; one progress line per trial.
void run_trials(const BottleneckPath& path, const BenchConfig& config, const std::vector<Algorithm>& algos,
                const CpuMeter& meter, BenchReport& report, std::ostream& progress) {
  const int total = config.runs * static_cast<int>(algos.size());
  int done = 0;
  for (int run = 1; run <= config.runs; ++run)
    for (std::size_t i = 0; i < algos.size(); ++i) {
      const Algorithm& a = algos[(i + run - 1) % algos.size()];
      // Time left: the trials still to run, each its duration plus the pause that lets the queue drain.
      double left_s = (total - done) * (config.duration_s + settle_seconds(config));
      progress << "[" << ++done << "/" << total << "] run " << run << "/" << config.runs << ": " << a.cc << " for "
               << config.duration_s << " s (about " << fixed(left_s / 60, 1) << " min left) ..." << std::flush;
      auto o = run_trial(path, config, a, run, config.duration_s, meter);
      progress << " " << trial_line(o.metrics) << "\n";
      report.trials.push_back(std::move(o.metrics));
      report.traffic.push_back(std::move(o.traffic));
    }
  for (const auto& a : algos) report.summaries.push_back(summarize(a.cc, report.trials));
}

// Notes the reader must see beside the figures: trials whose delay was off, a receive window
// that held a flow back.
void note_trial_problems(BenchReport& report) {
  int unfaithful = 0;
  std::string which;
  for (const auto& t : report.trials)
    if (t.fidelity.applicable && !t.fidelity.faithful) {
      ++unfaithful;
      which += "\n  " + t.algorithm + " run " + std::to_string(t.run) + ": " + t.fidelity.why + " (steal " +
               fixed(t.steal_share * 100, 1) + " %)";
    }
  if (unfaithful)
    report.notes.push_back(std::to_string(unfaithful) + " trial(s) saw the emulated RTT off by more than allowed; "
                           "treat their delay figures with care (JSON: trials[].fidelity):" + which);
  for (const auto& t : report.trials)
    if (t.rwnd_limited_share > 0.05) {
      report.notes.push_back(t.algorithm + " run " + std::to_string(t.run) + " was limited by the receive window " +
                             fixed(t.rwnd_limited_share * 100, 0) + " % of its busy time");
      break;
    }
}

void write_outputs(const BenchReport& report, std::ostream& out, std::ostream& progress, bool json_out) {
  const auto& config = report.config;
  if (json_out) out << report_json(report).dump(2) << "\n";
  else print_report(out, report);
  if (!config.json_file.empty()) {
    std::ofstream file(config.json_file);
    file << report_json(report).dump(1) << "\n";
    if (!file) throw Error(Exit::failure, "can't write " + config.json_file);
    progress << "wrote " << config.json_file << "\n";
  }
  if (!config.plot_file.empty()) {
    plot_report(report, config.plot_file);
    progress << "wrote " << config.plot_file << "\n";
  }
}

// After the report is out: a trial whose flows did not all run makes the command fail.
void fail_if_flows_failed(const BenchReport& report) {
  int failed = 0;
  std::string why;
  for (const auto& t : report.trials)
    if (!t.all_flows_ran && failed++ == 0)
      why = t.algorithm + " run " + std::to_string(t.run) + ": " + (t.flow_errors.empty() ? "" : t.flow_errors.front());
  if (failed)
    throw Error(Exit::failure, std::to_string(failed) + " trial(s) had flows that did not run (" + why + ")",
                "the figures above include them; see the JSON's trials[].flow_errors");
}

}  // namespace

int run_cc_bench(const BenchConfig& config, std::ostream& out, std::ostream& progress, bool json_out) {
  if (geteuid() != 0)
    throw Error(Exit::permission, "bench builds network namespaces and loads BPF programs: Permission denied",
                "run it as root (sudo bpfplug bench ...)");
  if (!config.plot_file.empty()) require_gnuplot();

  BenchReport report;
  report.config = config;
  report.host = host_line();
  Sysctl sysctl;
  CongestionControlSysctl cc(sysctl);
  auto algos = plan_algorithms(config, Catalogue::builtin(), cc, report.notes);
  BenchPlugins plugins;
  for (const auto& a : algos)
    if (!config.ecn_k_bytes && a.cc.find("dctcp") != std::string::npos)
      report.notes.push_back(a.cc + " ran without ECN marking (no --ecn-k): it reacts to loss only, like Reno");

  std::optional<BpfStatsOn> stats;
  if (config.bpf_stats && std::any_of(algos.begin(), algos.end(), [](const auto& a) { return !a.plugin.empty(); })) {
    if (bpf_stats_sysctl_on())
      report.notes.push_back("kernel.bpf_stats_enabled was already on");
    stats.emplace();
    report.notes.push_back("BPF run-time statistics were on for the whole run: the plugins carry their cost "
                           "(two clock reads per callback; --no-bpf-stats turns them off)");
  }
  for (auto& a : algos)
    if (!a.plugin.empty()) {
      progress << "loading plugin " << a.plugin << " (" << a.cc << ") for the benchmark\n";
      a.progs = plugins.load(a.plugin);
    }

  testbed::PathConfig path_config;
  path_config.rate_bps = config.rate_bps;
  path_config.buffer_bytes = static_cast<std::uint32_t>(config.buffer_bytes);
  path_config.ecn_k_bytes = config.ecn_k_bytes ? std::optional<std::uint32_t>(static_cast<std::uint32_t>(*config.ecn_k_bytes))
                                               : std::nullopt;
  path_config.loss = config.loss;
  path_config.one_way_delay = config.rtt / 2;
  progress << "building the testbed: " << describe(config) << "\n";
  BottleneckPath path("bpfplug-bench-" + std::to_string(getpid()), path_config);
  size_socket_buffers(path, config);
  report.delay_method = delay_method(config, path);
  CpuMeter meter;

  if (config.rtt.count() > 0) check_delay(path, config, meter, report, progress);
  run_trials(path, config, algos, meter, report, progress);
  note_trial_problems(report);
  write_outputs(report, out, progress, json_out);
  fail_if_flows_failed(report);
  return 0;
}

}  // namespace bpfplug::bench
