// Every latency bpfplug_lifecycle measured, one sample per iteration, and the side-by-side table
// printed after Google Benchmark's own: median, mean, min and max of each, and the ratios that
// say where the time of a swap or a load goes.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace bpfplug::bench {

// What the samples measure; the summary's rows and ratios refer to these names.
namespace measure {
inline const std::string rcu_grace_period = "synchronize_rcu() (membarrier GLOBAL)";
inline const std::string kernel_switch = "kernel switch (BPF_LINK_UPDATE)";
inline const std::string swap = "PluginManager::swap() dctcp";
inline const std::string cli_swap = "bpfplug swap dctcp --to V";
inline const std::string cli_version = "bpfplug --version";
inline std::string load(const std::string& plugin) { return "PluginManager::load() " + plugin; }
inline std::string unload(const std::string& plugin) { return "PluginManager::unload() " + plugin; }
inline std::string cli_load(const std::string& plugin) { return "bpfplug load " + plugin; }
inline std::string cli_unload(const std::string& plugin) { return "bpfplug unload " + plugin; }
}  // namespace measure

class LatencySamples {
 public:
  void add(const std::string& what, double seconds);
  // The table (milliseconds) in the order the measures first appeared, then the ratios of
  // medians whose both sides were measured.
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> order_;
  std::map<std::string, std::vector<double>> samples_;
};

}  // namespace bpfplug::bench
