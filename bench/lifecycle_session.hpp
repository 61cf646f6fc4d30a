// The kernel side of bpfplug_lifecycle: a PluginManager on a private pin root and state directory
// (/sys/fs/bpf/bpfplug-bench-<pid>, /tmp/bpfplug-bench-<pid>), so a bpfplug the host runs is
// never touched; why a benchmark can't run on this host; and the cleanup that leaves nothing.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "bpfplug/host.hpp"
#include "bpfplug/plugin_manager.hpp"

namespace bpfplug::bench {

class LifecycleSession {
 public:
  LifecycleSession();
  // Unloads whatever is still loaded and removes the state directory and the pin root.
  ~LifecycleSession();
  LifecycleSession(const LifecycleSession&) = delete;
  LifecycleSession& operator=(const LifecycleSession&) = delete;

  PluginManager& manager() { return manager_; }
  const Paths& paths() const { return manager_.paths(); }

  // Empty if a benchmark that loads `plugins` can run here; otherwise why it can't (not root,
  // or a registered name already taken by someone else).
  std::string why_not(const std::vector<std::string>& plugins) const;
  // Unloads `plugin` if it is loaded; reports a failure on stderr instead of throwing.
  void unload_quietly(const std::string& plugin) noexcept;
  // The environment that points a bpfplug child process at this session's private paths.
  std::map<std::string, std::string> cli_environment() const;

 private:
  LinuxHost host_;
  PluginManager manager_;
};

// Unloads its plugins when it goes out of scope (also when a benchmark failed half-way).
class UnloadOnExit {
 public:
  UnloadOnExit(LifecycleSession& session, std::vector<std::string> plugins)
      : session_(session), plugins_(std::move(plugins)) {}
  ~UnloadOnExit() {
    for (const auto& p : plugins_) session_.unload_quietly(p);
  }
  UnloadOnExit(const UnloadOnExit&) = delete;
  UnloadOnExit& operator=(const UnloadOnExit&) = delete;

 private:
  LifecycleSession& session_;
  std::vector<std::string> plugins_;
};

}  // namespace bpfplug::bench
