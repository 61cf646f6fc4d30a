// Making the kernel match the boot config (`bpfplug apply`, run at boot by bpfplug.service).
// plan_reconcile() decides, from the config and what is loaded, what each plugin needs; it is
// pure, so the decisions are unit-tested. reconcile() reads the current state, plans and
// carries the plan out through PluginManager, one plugin at a time, past failures.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bpfplug/boot_config.hpp"
#include "bpfplug/catalogue.hpp"
#include "bpfplug/error.hpp"
#include "bpfplug/plugin_manager.hpp"

namespace bpfplug {

// A loaded plugin, as far as reconciling compares it.
struct LoadedPlugin {
  std::string variant = "default";
  std::map<std::string, std::int64_t> tunables;  // read back from the kernel
  bool is_default = false;
  bool allowed = false;
  std::optional<Error> unreadable;  // its state could not be read (pins damaged, no permission)
};

struct CurrentState {
  std::map<std::string, LoadedPlugin> loaded;  // by plugin name
};

// Reads what is loaded. Needs root (bpffs is root-only); a plugin whose state can't be read is
// recorded with `unreadable` set, not thrown.
CurrentState read_current_state(const PluginManager& manager);

enum class StepAction {
  load,       // not loaded: load it (with --default/--allow as configured)
  swap,       // loaded with another variant or other tunables: swap in the configured one
  select,     // loaded as configured, but not the default / not allowed as configured
  keep,       // loaded as configured: nothing to do
  unmanaged,  // loaded, not in the boot config: left alone
  invalid,    // can't be planned: unknown plugin or variant, bad tunable, unreadable state
};
std::string to_string(StepAction action);

struct ReconcileStep {
  std::string plugin;
  StepAction action = StepAction::keep;
  std::string variant;
  std::vector<std::string> assignments;  // every tunable, "key=value"
  bool make_default = false;  // load/swap/select: also make it the system default
  bool allow = false;         // load/swap/select: also allow it for unprivileged programs
  std::string reason;         // why, for people: "not loaded", "tunables differ: shift_g 4 -> 5"
  std::optional<Error> error;  // invalid: why it can't be planned
};

// One step per plugin of the config (by name), then one per loaded plugin not in it.
std::vector<ReconcileStep> plan_reconcile(const BootConfig& config, const Catalogue& catalogue,
                                          const CurrentState& current);

enum class StepOutcome { planned, done, unchanged, failed, unmanaged };
std::string to_string(StepOutcome outcome);

struct ReconcileResult {
  ReconcileStep step;
  StepOutcome outcome = StepOutcome::planned;
  std::optional<std::string> replaced_default;  // the default changed from this
  std::optional<Error> error;                    // failed
};

struct ReconcileReport {
  bool dry_run = false;
  std::vector<ReconcileResult> plugins;

  bool ok() const;
  // The exit code of `bpfplug apply`: 0, or the code of the first failure.
  Exit exit_code() const;
};

// Makes the kernel match `config`. Never unloads anything; a failure of one plugin is recorded
// in its result and the others are still handled. With dry_run, only plans.
ReconcileReport reconcile(PluginManager& manager, const BootConfig& config, bool dry_run = false);

}  // namespace bpfplug
