#include "bpfplug/reconcile.hpp"

#include <algorithm>

#include "bpfplug/tunables.hpp"

namespace bpfplug {
namespace {

// An Error about a config entry names the entry: "--set" in resolve_tunables' messages reads
// as the tunables of the file.
Error entry_error(const std::string& plugin, const Error& e) {
  return Error(e.code(), "boot config entry " + plugin + ": " + e.what(), e.hint());
}

// "shift_g 4 -> 5, alpha_on_init 1024 -> 512": the tunables whose running value differs.
std::string tunable_differences(const std::map<std::string, std::int64_t>& wanted,
                                const std::map<std::string, std::int64_t>& running) {
  std::string diff;
  for (const auto& [name, value] : wanted) {
    auto it = running.find(name);
    if (it != running.end() && it->second == value) continue;
    diff += (diff.empty() ? "" : ", ") + name + " " + (it == running.end() ? "?" : std::to_string(it->second)) +
            " -> " + std::to_string(value);
  }
  return diff;
}

ReconcileStep plan_one(const std::string& plugin, const BootEntry& entry, const Catalogue& catalogue,
                       const CurrentState& current) {
  ReconcileStep step;
  step.plugin = plugin;
  step.variant = entry.variant;
  std::map<std::string, std::int64_t> wanted;
  try {
    const CatalogueEntry& built = catalogue.get(plugin, entry.variant);
    step.assignments = boot_assignments(built.meta, entry);
    wanted = resolve_tunables(built.meta, step.assignments);
  } catch (const Error& e) {
    step.action = StepAction::invalid;
    step.error = entry_error(plugin, e);
    step.reason = "can't be applied";
    return step;
  }

  auto it = current.loaded.find(plugin);
  if (it == current.loaded.end()) {
    step.action = StepAction::load;
    step.make_default = entry.make_default;
    step.allow = entry.allow;
    step.reason = "not loaded";
    return step;
  }
  const LoadedPlugin& running = it->second;
  if (running.unreadable) {
    step.action = StepAction::invalid;
    step.error = running.unreadable;
    step.reason = "loaded, but its state can't be read";
    return step;
  }
  step.make_default = entry.make_default && !running.is_default;
  step.allow = entry.allow && !running.allowed;

  std::vector<std::string> differences;
  if (running.variant != entry.variant) differences.push_back("variant " + running.variant + " -> " + entry.variant);
  if (auto diff = tunable_differences(wanted, running.tunables); !diff.empty())
    differences.push_back("tunables " + diff);
  if (!differences.empty()) {
    step.action = StepAction::swap;
    for (const auto& d : differences) step.reason += (step.reason.empty() ? "" : "; ") + d;
    return step;
  }
  if (step.make_default || step.allow) {
    step.action = StepAction::select;
    step.reason = step.make_default && step.allow ? "loaded, but neither the default nor allowed"
                  : step.make_default             ? "loaded, but not the default"
                                                  : "loaded, but not allowed";
    return step;
  }
  step.action = StepAction::keep;
  step.reason = "loaded as configured";
  return step;
}

void carry_out(PluginManager& manager, const ReconcileStep& step, ReconcileResult& result) {
  switch (step.action) {
    case StepAction::load: {
      auto loaded =
          manager.load(step.plugin, LoadOptions{step.variant, step.make_default, step.allow, step.assignments});
      result.replaced_default = loaded.replaced_default;
      break;
    }
    case StepAction::swap:
      manager.swap(step.plugin, SwapOptions{step.variant, {}, step.assignments});
      if (step.make_default || step.allow)
        result.replaced_default = manager.select(step.plugin, step.make_default, step.allow);
      break;
    case StepAction::select:
      result.replaced_default = manager.select(step.plugin, step.make_default, step.allow);
      break;
    case StepAction::keep:
    case StepAction::unmanaged:
    case StepAction::invalid:
      break;
  }
}

}  // namespace

std::string to_string(StepAction action) {
  switch (action) {
    case StepAction::load: return "load";
    case StepAction::swap: return "swap";
    case StepAction::select: return "select";
    case StepAction::keep: return "keep";
    case StepAction::unmanaged: return "unmanaged";
    case StepAction::invalid: return "invalid";
  }
  return "?";
}

std::string to_string(StepOutcome outcome) {
  switch (outcome) {
    case StepOutcome::planned: return "planned";
    case StepOutcome::done: return "done";
    case StepOutcome::unchanged: return "unchanged";
    case StepOutcome::failed: return "failed";
    case StepOutcome::unmanaged: return "unmanaged";
  }
  return "?";
}

CurrentState read_current_state(const PluginManager& manager) {
  CurrentState current;
  for (const auto& name : manager.loaded()) {
    LoadedPlugin& plugin = current.loaded[name];
    try {
      PluginStatus st = manager.status(name);
      plugin.variant = st.record.variant;
      plugin.tunables = st.tunables;
      plugin.is_default = st.is_default;
      plugin.allowed = st.allowed;
    } catch (const Error& e) {
      plugin.unreadable = e;
    }
  }
  return current;
}

std::vector<ReconcileStep> plan_reconcile(const BootConfig& config, const Catalogue& catalogue,
                                          const CurrentState& current) {
  std::vector<ReconcileStep> steps;
  for (const auto& [plugin, entry] : config.plugins) steps.push_back(plan_one(plugin, entry, catalogue, current));
  for (const auto& [plugin, running] : current.loaded) {
    if (config.plugins.count(plugin)) continue;
    ReconcileStep step;
    step.plugin = plugin;
    step.action = StepAction::unmanaged;
    step.variant = running.variant;
    step.reason = "not managed by boot config";
    steps.push_back(std::move(step));
  }
  return steps;
}

bool ReconcileReport::ok() const {
  return std::none_of(plugins.begin(), plugins.end(), [](const auto& r) { return r.outcome == StepOutcome::failed; });
}

Exit ReconcileReport::exit_code() const {
  for (const auto& r : plugins)
    if (r.outcome == StepOutcome::failed) return r.error ? r.error->code() : Exit::failure;
  return Exit::ok;
}

ReconcileReport reconcile(PluginManager& manager, const BootConfig& config, bool dry_run) {
  ReconcileReport report;
  report.dry_run = dry_run;
  for (auto& step : plan_reconcile(config, manager.catalogue(), read_current_state(manager))) {
    ReconcileResult result;
    result.step = std::move(step);
    switch (result.step.action) {
      case StepAction::invalid:
        result.outcome = StepOutcome::failed;
        result.error = result.step.error;
        break;
      case StepAction::unmanaged: result.outcome = StepOutcome::unmanaged; break;
      case StepAction::keep: result.outcome = StepOutcome::unchanged; break;
      default:
        if (dry_run) break;  // planned
        try {
          carry_out(manager, result.step, result);
          result.outcome = StepOutcome::done;
        } catch (const Error& e) {
          result.outcome = StepOutcome::failed;
          result.error = e;
        } catch (const std::exception& e) {
          result.outcome = StepOutcome::failed;
          result.error = Error(Exit::failure, "can't apply " + result.step.plugin + ": " + e.what());
        }
    }
    report.plugins.push_back(std::move(result));
  }
  return report;
}

}  // namespace bpfplug
