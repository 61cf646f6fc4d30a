// bpfplug_cc_overhead: bpf_cubic vs the kernel's cubic and bpf_reno vs reno, side by side in one
// run. Bulk throughput and CPU time per GB over loopback and over the testbed's TBF bottleneck,
// the algorithms interleaved round by round; then the BPF programs' own time per call.
// Reports figures, asserts nothing. See docs/cc-overhead.md.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "bench_plugins.hpp"
#include "bench_report.hpp"
#include "host_info.hpp"
#include "bpfplug/error.hpp"
#include "bpfplug/libbpf_log.hpp"
#include "bpfplug/sysctl.hpp"
#include "bpfplug/testbed/bottleneck_path.hpp"

namespace bpfplug::bench {
namespace {

using std::chrono::milliseconds;
using testbed::TcpConnection;

struct Options {
  int rounds = 5;
  double seconds = 2;
  double testbed_mbit = 500;
  bool no_testbed = false;
  bool no_pin = false;
  std::string json_file;
};

// Where a flow runs: both ends in this namespace over loopback, or across the testbed.
struct NetPath {
  std::string name;
  const testbed::Netns* client_ns = nullptr;
  const testbed::Netns* server_ns = nullptr;
  std::string server_addr;
};

// A BPF plugin and the kernel algorithm it reimplements.
struct Pair {
  std::string native;
  std::string bpf;
  std::vector<StructOpsProg> progs;
};

std::atomic<bool> interrupted{false};

void check_interrupted() {
  if (interrupted) throw Error(Exit::failure, "interrupted; unloading what the benchmark loaded");
}

void print_machine(std::ostream& out, const Options& o) {
  HostInfo h = host_info();
  out << "date " << h.date << ", kernel " << h.kernel << ", " << h.cpu << ", " << h.cpus << " CPUs, loadavg "
      << h.loadavg << "\n"
      << o.rounds << " rounds x " << o.seconds << " s per algorithm and path; testbed bottleneck "
      << o.testbed_mbit << " Mbit/s TBF; sender/receiver threads "
      << (o.no_pin || sysconf(_SC_NPROCESSORS_ONLN) < 2 ? "unpinned" : "on CPU 0/CPU 1") << "\n\n";
}

// Loads the BPF side of each pair, skipping a pair whose name someone else already registered.
std::vector<Pair> load_pairs(BenchPlugins& plugins) {
  Sysctl sysctl;
  CongestionControlSysctl cc(sysctl);
  std::vector<Pair> pairs;
  for (std::string plugin : {"cubic", "reno"}) {
    std::string ops = plugins.ops_name(plugin);
    if (cc.is_available(ops)) {
      std::cerr << "warning: " << ops << " is already registered on this host (not by this benchmark); "
                << "skipping " << ops << " vs " << plugin << "\n";
      for (const auto& hint : stale_root_hints()) std::cerr << "hint: " << hint << "\n";
      continue;
    }
    if (!cc.is_available(plugin)) {
      std::cerr << "warning: the kernel has no native " << plugin << "; skipping " << ops << " vs " << plugin << "\n";
      continue;
    }
    pairs.push_back({plugin, ops, plugins.load(plugin)});
  }
  return pairs;
}

// Sender on CPU 0, receiver on CPU 1 unless --no-pin: on two CPUs, letting the scheduler place
// them makes throughput jump between two modes from one flow to the next.
FlowOptions flow_options(const Options& o, double seconds) {
  FlowOptions f;
  f.duration = milliseconds(static_cast<long>(seconds * 1000));
  if (!o.no_pin && sysconf(_SC_NPROCESSORS_ONLN) >= 2) {
    f.sender_cpu = 0;
    f.receiver_cpu = 1;
  }
  return f;
}

FlowFigures run_once(const NetPath& path, const std::string& cc, const CpuMeter& meter, const FlowOptions& options) {
  check_interrupted();
  TcpConnection conn({path.client_ns, cc}, {path.server_ns, cc}, path.server_addr);
  if (conn.client_cc() != cc || conn.server_cc() != cc)
    throw Error(Exit::failure, "the connection runs " + conn.client_cc() + "/" + conn.server_cc() + ", not " + cc);
  return run_lean_flow(conn, meter, options);
}

// Every round runs every algorithm once, in reverse order every other round (A B B A ...), so
// drifts of the machine's state fall on all of them alike.
std::vector<AlgoRuns> run_rounds(const std::vector<NetPath>& paths, const std::vector<Pair>& pairs,
                                 const Options& o, const CpuMeter& meter) {
  std::vector<AlgoRuns> runs;
  for (const auto& path : paths)
    for (const auto& p : pairs) {
      runs.push_back({path.name, p.native, "", {}});
      runs.push_back({path.name, p.bpf, p.native, {}});
    }
  for (const auto& path : paths)  // warm-up, discarded
    for (const auto& r : runs)
      if (r.path == path.name) run_once(path, r.cc, meter, flow_options(o, 0.5));
  auto flow = flow_options(o, o.seconds);
  for (int round = 0; round < o.rounds; ++round) {
    std::cerr << "round " << round + 1 << "/" << o.rounds << "\n";
    for (const auto& path : paths) {
      std::vector<AlgoRuns*> order;
      for (auto& r : runs)
        if (r.path == path.name) order.push_back(&r);
      if (round % 2) std::reverse(order.begin(), order.end());
      for (AlgoRuns* r : order) r->rounds.push_back(run_once(path, r->cc, meter, flow));
    }
  }
  return runs;
}

// One more flow per BPF algorithm and path, with the kernel's run-time statistics on.
std::vector<StatsRun> run_with_stats(const std::vector<NetPath>& paths, const std::vector<Pair>& pairs,
                                     const Options& o, const CpuMeter& meter) {
  BpfStatsOn stats_on;
  std::vector<StatsRun> out;
  for (const auto& path : paths)
    for (const auto& p : pairs) {
      std::vector<ProgCounters> before;
      for (const auto& prog : p.progs) before.push_back(read_counters(prog));
      StatsRun run{path.name, p.bpf, run_once(path, p.bpf, meter, flow_options(o, o.seconds)), {}};
      for (std::size_t i = 0; i < p.progs.size(); ++i) {
        ProgCounters after = read_counters(p.progs[i]);
        run.callbacks.push_back({p.progs[i].name, after.run_cnt - before[i].run_cnt, after.run_time_ns - before[i].run_time_ns});
      }
      out.push_back(std::move(run));
    }
  return out;
}

int run_benchmark(const Options& o) {
  print_machine(std::cout, o);
  if (bpf_stats_sysctl_on())
    std::cerr << "warning: kernel.bpf_stats_enabled is already 1: the BPF algorithms' throughput and CPU "
                 "figures include the statistics' own cost\n";
  CpuMeter meter;
  BenchPlugins plugins;
  auto pairs = load_pairs(plugins);
  if (pairs.empty()) throw Error(Exit::conflict, "nothing to compare: every pair was skipped");

  std::vector<NetPath> paths{{"loopback", nullptr, nullptr, "127.0.0.1"}};
  std::unique_ptr<testbed::BottleneckPath> bottleneck;
  if (!o.no_testbed) {
    testbed::PathConfig config;
    config.rate_bps = static_cast<std::uint64_t>(o.testbed_mbit * 1e6);
    bottleneck = std::make_unique<testbed::BottleneckPath>("bpfplug-bench-" + std::to_string(getpid()), config);
    paths.push_back({"testbed", &bottleneck->sender(), &bottleneck->receiver(), testbed::BottleneckPath::receiver_addr});
  }

  auto runs = run_rounds(paths, pairs, o, meter);
  auto stats = run_with_stats(paths, pairs, o, meter);

  std::cout << "CPU s/GB: this process (user+sys) + ksoftirqd; machine: median CPU s/GB of all CPUs (/proc/stat,\n"
               "includes anything else running); ratios: median [min..max] of the per-round BPF/native ratios;\n"
               "retrans: median of the sender's retransmitted segments per flow\n";
  print_throughput_table(std::cout, runs);
  print_steal(std::cout, runs, static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)));
  std::cout << "\nBPF programs' own run time (bpf_prog_info run_time_ns / run_cnt), one " << o.seconds
            << " s flow each with statistics on\n";
  print_callback_table(std::cout, stats);

  if (!o.json_file.empty()) {
    std::ofstream out(o.json_file);
    out << nlohmann::json{{"rounds", o.rounds}, {"seconds", o.seconds}, {"testbed_mbit", o.testbed_mbit},
                          {"runs", runs_json(runs)}, {"bpf_stats", stats_json(stats)}}.dump(2) << '\n';
    if (!out) throw Error(Exit::failure, "can't write " + o.json_file);
  }
  return 0;
}

}  // namespace
}  // namespace bpfplug::bench

int main(int argc, char** argv) {
  using namespace bpfplug;
  bench::Options o;
  CLI::App app{"bpfplug_cc_overhead: BPF congestion controls vs the kernel's own, side by side"};
  app.add_option("--rounds", o.rounds, "rounds; each runs every algorithm once per path")->check(CLI::Range(1, 100));
  app.add_option("--seconds", o.seconds, "duration of one bulk flow")->check(CLI::Range(0.2, 60.0));
  app.add_option("--testbed-rate", o.testbed_mbit, "testbed bottleneck rate in Mbit/s")->check(CLI::Range(1.0, 10000.0));
  app.add_flag("--no-testbed", o.no_testbed, "loopback only");
  app.add_flag("--no-pin", o.no_pin, "let the scheduler place sender and receiver (default: CPU 0 and CPU 1)");
  app.add_option("--json", o.json_file, "also write every figure to FILE as JSON");
  CLI11_PARSE(app, argc, argv);

  if (geteuid() != 0) {
    std::cerr << "error: bpfplug_cc_overhead loads BPF programs and creates network namespaces: Permission denied\n"
              << "hint: run it as root, under the kernel lock: sudo flock /tmp/bpfplug-kernel.lock " << argv[0] << "\n";
    return static_cast<int>(Exit::permission);
  }
  route_libbpf_logs();
  std::signal(SIGINT, [](int) { bench::interrupted = true; });
  std::signal(SIGTERM, [](int) { bench::interrupted = true; });
  try {
    return bench::run_benchmark(o);
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << '\n';
    if (!e.hint().empty()) std::cerr << "hint: " << e.hint() << '\n';
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return static_cast<int>(Exit::failure);
  }
}
