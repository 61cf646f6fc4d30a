// What the CLI verbs do: load, unload, list, status. Checks preconditions through the Host seam
// before touching anything, keeps the state file and the sysctls consistent with the pins.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bpfplug/catalogue.hpp"
#include "bpfplug/host.hpp"
#include "bpfplug/paths.hpp"
#include "bpfplug/plugin_loader.hpp"
#include "bpfplug/state.hpp"

namespace bpfplug {

struct LoadOptions {
  bool make_default = false;  // --default
  bool allow = false;         // --allow: add to net.ipv4.tcp_allowed_congestion_control
  std::vector<std::string> assignments;  // --set key=value
};

struct LoadResult {
  std::string plugin;
  std::string ops_name;
  AttachMode attach = AttachMode::link;
  KernelIds ids;
  std::optional<std::string> replaced_default;  // set when --default changed the sysctl
};

struct UnloadResult {
  std::string plugin;
  std::string ops_name;
  std::optional<std::string> restored_default;
  std::int64_t sockets_left = 0;  // connections that keep the old ops until they close (--force)
};

struct PluginStatus {
  std::string plugin;
  PluginRecord record;
  KernelIds ids;
  bool registered = false;  // the name is in tcp_available_congestion_control
  bool is_default = false;
  bool allowed = false;     // in tcp_allowed_congestion_control
  std::int64_t sockets = 0;
  std::map<std::string, std::int64_t> tunables;  // read back from the kernel
  std::map<std::string, std::int64_t> counters;
};

struct KernelCongestion {
  std::vector<std::string> available;
  std::vector<std::string> allowed;
  std::string current_default;
  std::optional<std::string> previous_default;
};

class PluginManager {
 public:
  PluginManager(Host& host, Catalogue catalogue, Paths paths);

  LoadResult load(const std::string& plugin, const LoadOptions& options);
  UnloadResult unload(const std::string& plugin, bool force);
  std::vector<UnloadResult> unload_all(bool force);

  std::vector<std::string> loaded() const;  // plugin names with pins
  PluginStatus status(const std::string& plugin) const;  // throws if not loaded
  KernelCongestion kernel_congestion() const;
  HostState recorded_state() const { return store_.load(); }
  const Catalogue& catalogue() const { return catalogue_; }
  const Paths& paths() const { return paths_; }

 private:
  void require_privileges(const std::string& what, const std::string& command) const;
  void require_kernel_support(const std::string& plugin) const;

  Host& host_;
  Catalogue catalogue_;
  Paths paths_;
  StateStore store_;
};

}  // namespace bpfplug
