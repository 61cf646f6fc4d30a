// What the CLI verbs do: load, unload, list, status. Checks preconditions through the Host seam
// before touching anything, keeps the state file and the sysctls consistent with the pins.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
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
  std::string variant;        // --variant; empty: the plugin's default variant
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

// What `bpfplug swap NAME` puts in place of the running implementation. At most one of
// variant / object; neither means the plugin's current variant again (e.g. new tunables).
struct SwapOptions {
  std::string variant;                  // --to VARIANT
  std::filesystem::path object;         // --object FILE: a user-built object with bpfplug metadata
  std::vector<std::string> assignments; // --set key=value
};

struct SwapResult {
  std::string plugin;
  std::string ops_name;
  std::string from_version, from_variant;
  std::string to_version, to_variant;
  KernelIds old_ids, new_ids;
  bool atomic = true;           // one BPF_LINK_UPDATE (false: map mode, unregister + register)
  double kernel_switch_us = 0;  // time of the kernel switch itself
};

struct UnloadResult {
  std::string plugin;
  std::string ops_name;
  std::optional<std::string> restored_default;
  std::int64_t sockets_left = 0;  // connections that keep the old ops until they close (--force)
};

// One pinned implementation of a plugin and the connections that run it.
struct GenerationStatus {
  int number = 0;
  std::string version;
  std::string variant;
  bool current = false;
  std::int64_t sockets = 0;
  std::map<std::string, std::int64_t> counters;
};

struct PluginStatus {
  std::string plugin;
  PluginRecord record;
  KernelIds ids;
  std::vector<GenerationStatus> generations;  // oldest first; the current one last
  bool registered = false;  // the name is in tcp_available_congestion_control
  bool is_default = false;
  bool allowed = false;     // in tcp_allowed_congestion_control
  std::int64_t sockets = 0;                      // all generations together
  std::map<std::string, std::int64_t> tunables;  // read back from the kernel
  std::map<std::string, std::int64_t> counters;
};

// Something half-done or inconsistent that repair() fixes.
struct Problem {
  std::string plugin;  // empty when it concerns the host, not one plugin
  std::string what;    // what is wrong
  std::string fix;     // what repair() will do about it
};

struct RestoreResult {
  std::vector<UnloadResult> unloaded;
  std::optional<CongestionSettings> restored;  // nullopt: bpfplug had changed nothing
  std::vector<std::string> not_restorable;     // allowed names no longer registered
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
  SwapResult swap(const std::string& plugin, const SwapOptions& options);
  UnloadResult unload(const std::string& plugin, bool force);
  std::vector<UnloadResult> unload_all(bool force);
  // What load --default / --allow do, for a plugin already loaded: makes it the system default
  // (recording the default it replaces, for unload to restore) and/or allowed. What already
  // holds is left as is. Returns the replaced default if the default changed.
  // (loader/src/plugin_selection.cpp)
  std::optional<std::string> select(const std::string& plugin, bool make_default, bool allow);
  // Unloads every plugin and puts the default and allowed congestion controls back to what
  // they were before bpfplug's first change.
  RestoreResult restore(bool force);

  // Half-done changes (a bpfplug killed mid-command) and disagreements between pins, the
  // state file and the kernel. Read-only.
  std::vector<Problem> diagnose() const;
  // Fixes what diagnose() reports and unpins retired generations no connection runs any
  // more. Every state-changing command does this first. Returns what it did.
  std::vector<std::string> repair();

  std::vector<std::string> loaded() const;  // plugin names with pins
  PluginStatus status(const std::string& plugin) const;  // throws if not loaded
  KernelCongestion kernel_congestion() const;
  HostState recorded_state() const { return store_.load(); }
  const Catalogue& catalogue() const { return catalogue_; }
  const Paths& paths() const { return paths_; }

 private:
  void require_privileges(const std::string& what, const std::string& command) const;
  // BTF, struct_ops, and every kernel feature the plugin's metadata requires.
  void require_kernel_support(const CatalogueEntry& entry) const;
  struct RepairStep {
    Problem problem;
    std::function<void(HostState&)> fix;
  };
  std::vector<RepairStep> plan_repair(const HostState& state) const;
  std::vector<std::string> repair_locked(bool report = true);
  UnloadResult unload_locked(const std::string& plugin, bool force);
  // The status of every loaded plugin; throws a conflict naming `what` if one is in use and
  // not `force`.
  std::vector<PluginStatus> statuses_unless_in_use(const std::string& what, bool force) const;
  void capture_original(HostState& state) const;

  Host& host_;
  Catalogue catalogue_;
  Paths paths_;
  StateStore store_;
};

}  // namespace bpfplug
