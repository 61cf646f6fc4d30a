// The kernel side of a plugin: load it, register it, pin it; find it again from a fresh
// process; unregister it. This is where bpfplug decides between a struct_ops link (6.4+) and
// plain map registration.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "bpfplug/catalogue.hpp"
#include "bpfplug/state.hpp"

namespace bpfplug {

struct KernelIds {
  std::uint32_t ops_map_id = 0;
  std::uint32_t link_id = 0;  // 0 in map mode
};

// Loads `entry` with `tunables`, registers its struct_ops map and pins everything under
// `pin_dir` (which must not exist). All or nothing: on failure nothing stays registered or
// pinned. The registration outlives this process.
KernelIds load_and_pin(const CatalogueEntry& entry, const std::map<std::string, std::int64_t>& tunables,
                       AttachMode mode, const std::filesystem::path& pin_dir);

// A plugin pinned by load_and_pin(), opened from any process.
class PinnedPlugin {
 public:
  static std::optional<PinnedPlugin> open(const std::filesystem::path& pin_dir);

  AttachMode mode() const { return mode_; }
  const KernelIds& ids() const { return ids_; }
  // Integer variables of a pinned global-data map ("rodata", "bss", "data") by name.
  std::map<std::string, std::int64_t> variables(const std::string& section) const;
  // Unregisters the ops and removes every pin and the directory.
  void unregister_and_unpin();

 private:
  std::filesystem::path dir_;
  AttachMode mode_ = AttachMode::link;
  KernelIds ids_;
};

}  // namespace bpfplug
