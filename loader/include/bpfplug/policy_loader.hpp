// The kernel side of a compression policy (a sock_ops plugin, policies/): load it, fill its
// port sets, attach it to a cgroup with a BPF link and pin everything, so that it outlives
// bpfplug; open it again from a fresh process; detach it.
//
// Pin layout (docs/policies.md):
//   PIN_ROOT/_policies/NAME/link                 the cgroup sock_ops link (the attachment)
//   PIN_ROOT/_policies/NAME/rodata|data|bss      tunables and counters
//   PIN_ROOT/_policies/NAME/MAP                  each of its maps (port sets, comp-cost's inputs...)
//   PIN_ROOT/_comp/ready, PIN_ROOT/_comp/verdict the readiness/verdict contract, shared by every
//                                                policy and the data path (struct_ops/bpfplug_comp.h)
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bpfplug/catalogue.hpp"
#include "bpfplug/port_set.hpp"

namespace bpfplug {

struct PolicySettings {
  std::map<std::string, std::int64_t> tunables;
  std::map<std::string, PortSet> portsets;
  // Array maps' first entries, written after load and before attach (comp-cost's calibration
  // and CPU headroom): map name -> the value's bytes.
  std::map<std::string, std::vector<std::uint8_t>> first_entries;
};

struct PolicyIds {
  std::uint32_t prog_id = 0;
  std::uint32_t link_id = 0;
  std::uint64_t cgroup_id = 0;
};

// Where policies and the contract maps are pinned, under bpfplug's pin root.
std::filesystem::path policies_dir(const std::filesystem::path& pin_root);
std::filesystem::path comp_contract_dir(const std::filesystem::path& pin_root);

// Loads `entry`, attaches it to `cgroup` (a cgroup v2 directory) and pins it at `pin_dir`
// (which must not exist), the contract maps under `contract_dir` (reused if pinned). All or
// nothing: on failure nothing stays attached or pinned (but contract maps pinned before).
// PinnedPolicy::open() reads back what was attached.
void attach_and_pin_policy(const CatalogueEntry& entry, const PolicySettings& settings,
                           const std::filesystem::path& cgroup, const std::filesystem::path& pin_dir,
                           const std::filesystem::path& contract_dir);

// A policy pinned by attach_and_pin_policy(), opened from any process.
class PinnedPolicy {
 public:
  static std::optional<PinnedPolicy> open(const std::filesystem::path& pin_dir);

  const std::filesystem::path& dir() const { return dir_; }
  const PolicyIds& ids() const { return ids_; }
  std::map<std::string, std::int64_t> variables(const std::string& section) const;
  PortSet portset(const std::string& name) const;
  // Removes every pin: the link goes with the last reference, detaching the program.
  void detach_and_unpin();

 private:
  std::filesystem::path dir_;
  PolicyIds ids_;
};

}  // namespace bpfplug
