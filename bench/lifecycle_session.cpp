#include "lifecycle_session.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "bench_paths.hpp"
#include "bpfplug/sysctl.hpp"

namespace fs = std::filesystem;

namespace bpfplug::bench {
namespace {

std::string cleanup_hint(const Paths& paths) {
  return "BPFPLUG_PIN_ROOT=" + paths.pin_root.string() + " BPFPLUG_STATE_DIR=" + paths.state_dir.string() +
         " bpfplug unload --all --force";
}

}  // namespace

LifecycleSession::LifecycleSession() : host_(), manager_(host_, Catalogue::builtin(), private_paths()) {
  std::error_code ec;
  fs::create_directories(paths().state_dir, ec);  // the CLI benchmarks' stderr goes there
}

LifecycleSession::~LifecycleSession() {
  if (host_.privileged() && !manager_.loaded().empty()) {
    try {
      manager_.unload_all(/*force=*/true);
    } catch (const std::exception& e) {
      std::cerr << "warning: can't unload what the benchmark loaded: " << e.what() << "\n"
                << "hint: " << cleanup_hint(paths()) << "\n";
    }
  }
  std::error_code ec;
  fs::remove_all(paths().state_dir, ec);
  fs::remove(paths().pin_root, ec);  // only if empty: pins left by a failed unload stay visible
  if (fs::exists(paths().pin_root, ec))
    std::cerr << "warning: " << paths().pin_root.string() << " is not empty\nhint: " << cleanup_hint(paths()) << "\n";
}

std::string LifecycleSession::why_not(const std::vector<std::string>& plugins) const {
  if (!host_.privileged())
    return "needs root: it loads BPF into the kernel (sudo flock /tmp/bpfplug-kernel.lock bpfplug_lifecycle)";
  CongestionControlSysctl cc(host_.sysctl());
  for (const auto& plugin : plugins) {
    std::string ops = manager_.catalogue().get(plugin).ops_name;
    if (cc.is_available(ops))
      return ops + " is already registered on this host (tcp_available_congestion_control), not by this "
                   "benchmark: skipped, to leave it alone";
  }
  return {};
}

void LifecycleSession::unload_quietly(const std::string& plugin) noexcept {
  try {
    auto loaded = manager_.loaded();
    if (std::find(loaded.begin(), loaded.end(), plugin) != loaded.end()) manager_.unload(plugin, /*force=*/true);
  } catch (const std::exception& e) {
    std::cerr << "warning: can't unload " << plugin << ": " << e.what() << "\nhint: " << cleanup_hint(paths())
              << "\n";
  }
}

std::map<std::string, std::string> LifecycleSession::cli_environment() const {
  return {{"BPFPLUG_PIN_ROOT", paths().pin_root.string()},
          {"BPFPLUG_STATE_DIR", paths().state_dir.string()},
          {"BPFPLUG_CONFIG_DIR", paths().config_dir.string()}};
}

}  // namespace bpfplug::bench
