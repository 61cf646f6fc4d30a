// bpfplug_lifecycle: how long bpfplug's lifecycle operations take on the running kernel. Load and
// unload of each plugin through the library; swap between two dctcp variants, both the whole
// PluginManager::swap() and the kernel switch inside it (the one BPF_LINK_UPDATE); and the same
// operations as the bpfplug commands a user types, timed from posix_spawn to wait4. Needs root;
// run it under the shared kernel lock. Reports figures, asserts nothing. See
// docs/lifecycle-latency.md.
#include <benchmark/benchmark.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <iostream>

#include "bpfplug/error.hpp"
#include "bpfplug/libbpf_log.hpp"
#include "latency_summary.hpp"
#include "lifecycle_session.hpp"
#include "timed_process.hpp"

namespace bpfplug::bench {
namespace {

using Clock = std::chrono::steady_clock;

const std::vector<std::string> kPlugins = {"reno", "dctcp", "cubic"};
const std::string kSwapPlugin = "dctcp";
const std::string kCliPlugin = "reno";
constexpr int kLoadIterations = 20;
constexpr int kSwapIterations = 40;
constexpr int kCliIterations = 20;

std::atomic<bool> interrupted{false};

struct Context {
  LifecycleSession& session;
  LatencySamples& samples;
};

double since(Clock::time_point begin) { return std::chrono::duration<double>(Clock::now() - begin).count(); }

// Runs `loop` unless this host can't, and turns a failure into a skip with the reason; whatever
// `plugins` it leaves loaded is unloaded.
template <typename Loop>
void guarded(benchmark::State& state, LifecycleSession& session, const std::vector<std::string>& plugins, Loop loop) {
  if (std::string why = session.why_not(plugins); !why.empty()) {
    state.SkipWithError(why.c_str());
    return;
  }
  UnloadOnExit cleanup(session, plugins);
  try {
    loop();
  } catch (const Error& e) {
    std::string message = e.hint().empty() ? e.what() : std::string(e.what()) + " (hint: " + e.hint() + ")";
    state.SkipWithError(message.c_str());
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

bool stop_requested(benchmark::State& state) {
  if (interrupted) state.SkipWithError("interrupted: unloading what the benchmark loaded");
  return interrupted;
}

// One timed bpfplug command; false (and the benchmark skipped) if it failed.
bool run_cli(benchmark::State& state, Context& c, const std::vector<std::string>& args, const std::string& what,
             double& child_cpu_s) {
  std::vector<std::string> argv = {BPFPLUG_CLI};
  argv.insert(argv.end(), args.begin(), args.end());
  TimedRun run = run_timed(argv, c.session.cli_environment(), c.session.paths().state_dir / "cli.stderr");
  if (run.exit_code != 0) {
    std::string message = what + " exited with " + std::to_string(run.exit_code) + ": " + run.stderr_text;
    state.SkipWithError(message.c_str());
    return false;
  }
  state.SetIterationTime(run.wall_s);
  c.samples.add(what, run.wall_s);
  child_cpu_s += run.child_cpu_s;
  return true;
}

void set_child_cpu(benchmark::State& state, double child_cpu_s) {
  state.counters["child_cpu_ms"] = benchmark::Counter(child_cpu_s * 1e3, benchmark::Counter::kAvgIterations);
}

std::string next_variant(int& i) { return i++ % 2 == 0 ? "alpha0" : "default"; }

// One RCU grace period on this machine, as a yardstick: membarrier(MEMBARRIER_CMD_GLOBAL) is a
// synchronize_rcu() and nothing else (kernel/sched/membarrier.c) when more than one CPU is
// online. Changes nothing, needs no privileges.
void bm_rcu_grace_period(benchmark::State& state, Context c) {
  if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
    state.SkipWithError("one CPU online: membarrier(MEMBARRIER_CMD_GLOBAL) returns without a grace period");
    return;
  }
  for (auto _ : state) {
    if (stop_requested(state)) break;
    auto begin = Clock::now();
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0) {
      std::string message = std::string("membarrier(MEMBARRIER_CMD_GLOBAL) failed: ") + std::strerror(errno);
      state.SkipWithError(message.c_str());
      break;
    }
    double s = since(begin);
    state.SetIterationTime(s);
    c.samples.add(measure::rcu_grace_period, s);
  }
}

void bm_load(benchmark::State& state, Context c, const std::string& plugin) {
  guarded(state, c.session, {plugin}, [&] {
    PluginManager& m = c.session.manager();
    for (auto _ : state) {
      if (stop_requested(state)) break;
      auto begin = Clock::now();
      m.load(plugin, LoadOptions{});
      double s = since(begin);
      state.SetIterationTime(s);
      c.samples.add(measure::load(plugin), s);
      state.PauseTiming();
      m.unload(plugin, /*force=*/false);
      state.ResumeTiming();
    }
  });
}

void bm_unload(benchmark::State& state, Context c, const std::string& plugin) {
  guarded(state, c.session, {plugin}, [&] {
    PluginManager& m = c.session.manager();
    for (auto _ : state) {
      if (stop_requested(state)) break;
      state.PauseTiming();
      m.load(plugin, LoadOptions{});
      state.ResumeTiming();
      auto begin = Clock::now();
      m.unload(plugin, /*force=*/false);
      double s = since(begin);
      state.SetIterationTime(s);
      c.samples.add(measure::unload(plugin), s);
    }
  });
}

// Time: the whole swap() (check, lock, load and verify the new variant, pin, switch, record,
// retire the old generation). Counter switch_ms: the kernel switch alone, as swap() measured it.
void bm_swap(benchmark::State& state, Context c) {
  guarded(state, c.session, {kSwapPlugin}, [&] {
    PluginManager& m = c.session.manager();
    m.load(kSwapPlugin, LoadOptions{});  // before the loop: not timed
    double whole_s = 0, switch_s = 0;
    bool atomic = true;
    int i = 0;
    for (auto _ : state) {
      if (stop_requested(state)) break;
      SwapOptions options;
      options.variant = next_variant(i);
      auto begin = Clock::now();
      SwapResult r = m.swap(kSwapPlugin, options);
      double s = since(begin);
      state.SetIterationTime(s);
      c.samples.add(measure::kernel_switch, r.kernel_switch_us / 1e6);
      c.samples.add(measure::swap, s);
      whole_s += s;
      switch_s += r.kernel_switch_us / 1e6;
      atomic = atomic && r.atomic;
    }
    state.counters["switch_ms"] = benchmark::Counter(switch_s * 1e3, benchmark::Counter::kAvgIterations);
    if (whole_s > 0) state.counters["switch_pct"] = 100 * switch_s / whole_s;
    state.SetLabel(atomic ? "switch = one BPF_LINK_UPDATE" : "map mode: switch = unregister + register");
  });
}

// The process alone: exec, dynamic linking, reading the built-in catalogue, exit. No kernel work.
void bm_cli_version(benchmark::State& state, Context c) {
  double cpu = 0;
  try {
    for (auto _ : state)
      if (stop_requested(state) || !run_cli(state, c, {"--version"}, measure::cli_version, cpu)) break;
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
  set_child_cpu(state, cpu);
}

void bm_cli_load(benchmark::State& state, Context c, const std::string& plugin) {
  guarded(state, c.session, {plugin}, [&] {
    double cpu = 0;
    for (auto _ : state) {
      if (stop_requested(state) || !run_cli(state, c, {"load", plugin}, measure::cli_load(plugin), cpu)) break;
      state.PauseTiming();
      c.session.manager().unload(plugin, /*force=*/false);
      state.ResumeTiming();
    }
    set_child_cpu(state, cpu);
  });
}

void bm_cli_unload(benchmark::State& state, Context c, const std::string& plugin) {
  guarded(state, c.session, {plugin}, [&] {
    double cpu = 0;
    for (auto _ : state) {
      if (stop_requested(state)) break;
      state.PauseTiming();
      c.session.manager().load(plugin, LoadOptions{});
      state.ResumeTiming();
      if (!run_cli(state, c, {"unload", plugin}, measure::cli_unload(plugin), cpu)) break;
    }
    set_child_cpu(state, cpu);
  });
}

void bm_cli_swap(benchmark::State& state, Context c) {
  guarded(state, c.session, {kSwapPlugin}, [&] {
    c.session.manager().load(kSwapPlugin, LoadOptions{});
    double cpu = 0;
    int i = 0;
    for (auto _ : state) {
      std::vector<std::string> args = {"swap", kSwapPlugin, "--to", next_variant(i)};
      if (stop_requested(state) || !run_cli(state, c, args, measure::cli_swap, cpu)) break;
    }
    set_child_cpu(state, cpu);
  });
}

void register_benchmarks(Context& c) {
  auto add = [](const std::string& name, int iterations, auto fn) {
    benchmark::RegisterBenchmark(name.c_str(), fn)
        ->Iterations(iterations)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  };
  add("rcu_grace_period", kSwapIterations, [c](benchmark::State& s) { bm_rcu_grace_period(s, c); });
  for (const auto& p : kPlugins) {
    add("load/" + p, kLoadIterations, [c, p](benchmark::State& s) { bm_load(s, c, p); });
    add("unload/" + p, kLoadIterations, [c, p](benchmark::State& s) { bm_unload(s, c, p); });
  }
  add("swap/" + kSwapPlugin, kSwapIterations, [c](benchmark::State& s) { bm_swap(s, c); });
  add("cli_version", kCliIterations, [c](benchmark::State& s) { bm_cli_version(s, c); });
  add("cli_load/" + kCliPlugin, kCliIterations, [c](benchmark::State& s) { bm_cli_load(s, c, kCliPlugin); });
  add("cli_unload/" + kCliPlugin, kCliIterations, [c](benchmark::State& s) { bm_cli_unload(s, c, kCliPlugin); });
  add("cli_swap/" + kSwapPlugin, kCliIterations, [c](benchmark::State& s) { bm_cli_swap(s, c); });
}

}  // namespace
}  // namespace bpfplug::bench

int main(int argc, char** argv) {
  using namespace bpfplug;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  route_libbpf_logs();  // libbpf's messages at debug level, not on stderr
  std::signal(SIGINT, [](int) { bench::interrupted = true; });
  std::signal(SIGTERM, [](int) { bench::interrupted = true; });
  utsname u{};
  uname(&u);
  benchmark::AddCustomContext("kernel", u.release);
  try {
    bench::LifecycleSession session;  // its destructor unloads what is left and removes its paths
    bench::LatencySamples samples;
    bench::Context context{session, samples};
    benchmark::AddCustomContext("pin_root", session.paths().pin_root.string());
    benchmark::AddCustomContext("bpfplug", BPFPLUG_CLI);
    bench::register_benchmarks(context);
    benchmark::RunSpecifiedBenchmarks();
    samples.print(std::cout);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
  benchmark::Shutdown();
  return 0;
}
