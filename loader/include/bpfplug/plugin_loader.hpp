// The kernel side of a plugin: load it, register it, pin it; find it again from a fresh
// process; switch it to a new implementation; unregister it. This is where bpfplug decides
// between a struct_ops link (6.4+) and plain map registration.
//
// Pin layout of a loaded plugin (docs/architecture.md):
//   PIN_ROOT/NAME/link              the registration (a struct_ops link; absent in map mode)
//   PIN_ROOT/NAME/gN/ops            struct_ops map of implementation generation N
//   PIN_ROOT/NAME/gN/rodata|data|bss  its global data (tunables, counters, socket gauge)
// Generation 1 is created by load; each swap adds the next one. Earlier generations stay
// pinned while connections still run them, so their counters stay readable.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bpfplug/catalogue.hpp"
#include "bpfplug/state.hpp"

struct bpf_object;

namespace bpfplug {

// What bpfplug writes into an object's .rodata before the kernel sees it.
struct ObjectSettings {
  std::map<std::string, std::int64_t> tunables;  // the plugin's declared tunables, all of them
  bool cc_kfuncs = false;  // the kernel lets BPF congestion control call tcp_* kfuncs (5.13+);
                           // sets bpfplug_cc_kfuncs (struct_ops/bpfplug_compat.h) where present
};

// Writes `settings` into an opened (not yet loaded) object's .rodata. Throws a usage Error
// for a tunable the object has no variable for.
void apply_settings(bpf_object* obj, const std::string& plugin, const ObjectSettings& settings);

// The integer variables of a pinned global-data map (rodata, data, bss), named through its BTF.
std::map<std::string, std::int64_t> read_pinned_variables(const std::filesystem::path& path);

struct KernelIds {
  std::uint32_t ops_map_id = 0;
  std::uint32_t link_id = 0;  // 0 in map mode
};

// Loads `entry` with `settings`, registers its struct_ops map and pins everything under
// `pin_dir` (which must not exist) as generation 1. All or nothing: on failure nothing stays
// registered or pinned. The registration outlives this process.
KernelIds load_and_pin(const CatalogueEntry& entry, const ObjectSettings& settings,
                       AttachMode mode, const std::filesystem::path& pin_dir);

struct Generation {
  int number = 0;
  std::filesystem::path dir;
  std::uint32_t ops_map_id = 0;
  bool current = false;  // the implementation new connections get
  bool staged = false;   // pinned by a swap that has not published it (_partial_gN)
};

class PinnedPlugin;

struct SwapOutcome {
  KernelIds ids;          // of the new generation
  double switch_us = 0;   // the kernel switch alone (BPF_LINK_UPDATE, or delete + update)
};

// Loads `entry` as generation `generation` of `current` and makes it the registered
// implementation under the same name. Link mode: one BPF_LINK_UPDATE with BPF_F_REPLACE
// against the map the link held when `current` was opened, so a concurrent switch is refused,
// not overwritten. Map mode: unregister the old map, register the new one (a gap, see
// docs/lifecycle.md). On failure before the switch nothing changes.
SwapOutcome swap_in(const CatalogueEntry& entry, const ObjectSettings& settings,
                    const PinnedPlugin& current, int generation);

// A plugin pinned by load_and_pin(), opened from any process.
class PinnedPlugin {
 public:
  static std::optional<PinnedPlugin> open(const std::filesystem::path& pin_dir);

  const std::filesystem::path& dir() const { return dir_; }
  AttachMode mode() const { return mode_; }
  const KernelIds& ids() const { return ids_; }  // the link and the current generation's map
  const std::vector<Generation>& generations() const { return generations_; }  // staged included
  const Generation* current() const;
  const Generation* find(int number) const;
  int next_generation() const;

  // Integer variables of a pinned global-data map ("rodata", "bss", "data") by name, of the
  // current generation or of generation `number`.
  std::map<std::string, std::int64_t> variables(const std::string& section) const;
  std::map<std::string, std::int64_t> variables(const std::string& section, int number) const;

  // Publishes a staged generation (renames _partial_gN to gN).
  void publish(int number);
  // Unpins a generation that is not registered (retired, or staged and never switched to).
  void remove_generation(int number);
  // Unregisters the ops and removes every pin and the directory.
  void unregister_and_unpin();

 private:
  std::filesystem::path dir_;
  AttachMode mode_ = AttachMode::link;
  KernelIds ids_;
  std::vector<Generation> generations_;
};

// Loads `entry` and registers it through its map as generation `generation` of the map-mode
// plugin pinned at `pin_dir`, for repair after a map-mode swap died between unregistering the
// old map and registering the new one.
KernelIds register_generation(const CatalogueEntry& entry, const ObjectSettings& settings,
                              const std::filesystem::path& pin_dir, int generation);

// Removes a pin directory that load_and_pin() was filling when it was interrupted, unregistering
// what it holds. Used by repair.
void discard_partial_load(const std::filesystem::path& staging_dir);

// The staging directory load_and_pin() uses for `pin_dir`.
std::filesystem::path partial_load_dir(const std::filesystem::path& pin_dir);

}  // namespace bpfplug
