// What `bpfplug load|unload|status` do for a compression policy (a plugin of kind "policy"):
// attach it to a cgroup v2 (the root by default), detach it, report it. One compression policy
// at a time: two would both answer the same handshake. Where the kernel has openEuler's
// tcp_comp, a policy it can express (comp-ports) drives tcp_comp's sysctls instead of
// attaching (kernel_comp.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bpfplug/catalogue.hpp"
#include "bpfplug/comp_cost.hpp"
#include "bpfplug/host.hpp"
#include "bpfplug/kernel_comp.hpp"
#include "bpfplug/paths.hpp"
#include "bpfplug/policy_loader.hpp"

namespace bpfplug {

struct PolicyLoadOptions {
  std::vector<std::string> assignments;  // --set key=value (tunables and port sets)
  std::string cgroup;                    // --cgroup: a cgroup v2 path; empty: the root
  CompMechanism mechanism = CompMechanism::automatic;  // --mechanism
};

struct PolicyStatus {
  std::string plugin;
  std::string version;
  CompMechanism mechanism = CompMechanism::user;  // user: a sock_ops program; kernel: tcp_comp
  // kernel: the sysctls no longer hold what bpfplug set (someone changed them since load).
  std::optional<TcpCompKnobs> kernel_set_by_bpfplug;
  std::filesystem::path cgroup;  // empty if the cgroup is gone
  PolicyIds ids;
  std::map<std::string, std::int64_t> tunables;
  std::map<std::string, std::string> portsets;  // as written on the command line
  std::map<std::string, std::int64_t> counters;
  // comp-cost: its model's inputs as they are in the kernel now.
  std::optional<bpfplug_comp_calibration> calibration;
  std::optional<bpfplug_comp_host> host;
};

// The cgroup v2 mount point from /proc/mounts, or empty if cgroup v2 is not mounted.
std::filesystem::path cgroup2_mount();

class PolicyManager {
 public:
  PolicyManager(Host& host, const Catalogue& catalogue, Paths paths);

  PolicyStatus load(const std::string& plugin, const PolicyLoadOptions& options);
  PolicyStatus unload(const std::string& plugin);
  PolicyStatus status(const std::string& plugin) const;  // throws if not loaded
  std::vector<std::string> loaded() const;               // policy names with pins or driving tcp_comp
  std::vector<std::string> pinned() const;  // policy names with pins: those the user-space data path serves

 private:
  void require_no_policy_loaded(const std::string& plugin) const;  // one policy at a time
  PolicyStatus load_into_tcp_comp(const CatalogueEntry& entry, const PolicySettings& settings);
  PolicyStatus tcp_comp_status(const KernelCompRecord& record) const;
  // Refuses a user-space-path policy while tcp_comp compresses in the kernel: the same
  // connections would be compressed twice.
  void require_tcp_comp_idle(const std::string& plugin) const;
  std::filesystem::path resolve_cgroup(const std::string& option) const;
  void remove_empty_policy_dirs() const;
  std::filesystem::path dir(const std::string& plugin) const { return policies_dir(paths_.pin_root) / plugin; }

  Host& host_;
  const Catalogue& catalogue_;
  Paths paths_;
};

}  // namespace bpfplug
