// The kernel side of the benchmark: bpfplug's cc plugins loaded into a private pin root (so a
// bpfplug the host runs is untouched) and unloaded again on destruction, the struct_ops programs
// each load brought, and their run-time counters (bpf_prog_info.run_time_ns / run_cnt).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bpfplug/host.hpp"
#include "bpfplug/plugin_manager.hpp"
#include "bpfplug/unique_fd.hpp"

namespace bpfplug::bench {

// One struct_ops program of a loaded plugin, held open by fd.
struct StructOpsProg {
  std::uint32_t id = 0;
  std::string name;  // bpf_prog_info.name: the C function name, cut to 15 characters
  UniqueFd fd;
};

struct ProgCounters {
  std::uint64_t run_cnt = 0;
  std::uint64_t run_time_ns = 0;
};
ProgCounters read_counters(const StructOpsProg& prog);

// Loads plugins with PluginManager under /sys/fs/bpf/bpfplug-bench-<pid> and
// /tmp/bpfplug-bench-<pid>; the destructor unloads them (also when the benchmark failed).
class BenchPlugins {
 public:
  BenchPlugins();
  ~BenchPlugins();
  BenchPlugins(const BenchPlugins&) = delete;
  BenchPlugins& operator=(const BenchPlugins&) = delete;

  // The name `plugin` registers in the kernel (e.g. "bpf_cubic" for "cubic").
  std::string ops_name(const std::string& plugin) const;
  // Loads `plugin` and returns the struct_ops programs that appeared with it. Run under the
  // shared kernel lock: a program someone else loads at the same moment would be counted too.
  std::vector<StructOpsProg> load(const std::string& plugin);

 private:
  LinuxHost host_;
  PluginManager manager_;
  std::vector<std::string> loaded_;
};

// Pin roots of earlier benchmarks whose process is gone (killed before it could unload): the
// usual reason a plugin's name is already taken. One hint per root, with the command that
// removes it.
std::vector<std::string> stale_root_hints();

// Turns on the kernel's BPF run-time statistics for as long as it lives (BPF_ENABLE_STATS:
// the same static key as sysctl kernel.bpf_stats_enabled, but held by an fd, so it switches
// itself off when this process ends, however it ends; the sysctl is never written).
class BpfStatsOn {
 public:
  BpfStatsOn();

 private:
  UniqueFd fd_;
};

// kernel.bpf_stats_enabled as the sysctl shows it (someone else may have turned it on).
bool bpf_stats_sysctl_on();

}  // namespace bpfplug::bench
