// PluginManager::select: --default and --allow for a plugin that is already loaded (what
// `bpfplug apply` needs when the boot config names a loaded plugin as the default).
#include <algorithm>

#include "bpfplug/error.hpp"
#include "bpfplug/file_lock.hpp"
#include "bpfplug/plugin_manager.hpp"

namespace bpfplug {
namespace {

bool is_allowed(const CongestionControlSysctl& cc, const std::string& ops_name) {
  auto allowed = cc.allowed();
  return std::find(allowed.begin(), allowed.end(), ops_name) != allowed.end();
}

}  // namespace

std::optional<std::string> PluginManager::select(const std::string& plugin, bool make_default, bool allow) {
  const std::string what = make_default ? "make plugin " + plugin + " the default" : "allow plugin " + plugin;
  require_privileges(what, "load " + plugin + (make_default ? " --default" : " --allow"));
  FileLock lock(paths_.lock_file());
  repair_locked();
  if (!PinnedPlugin::open(paths_.plugin_dir(plugin))) {
    if (!catalogue_.find(plugin)) catalogue_.get(plugin);  // throws "unknown plugin", did you mean
    throw Error(Exit::conflict, "can't " + what + ": it is not loaded", "bpfplug load " + plugin + " loads it");
  }
  HostState state = store_.load();
  std::string ops_name = state.plugins.count(plugin) ? state.plugins.at(plugin).ops_name : "";
  if (ops_name.empty()) ops_name = catalogue_.get(plugin).ops_name;

  CongestionControlSysctl cc(host_.sysctl());
  std::string default_before = cc.current_default();
  bool change_default = make_default && default_before != ops_name;
  if (change_default || (allow && !is_allowed(cc, ops_name))) {
    // Recorded before the sysctl changes, as load does: unload then restores the default.
    capture_original(state);
    bool default_is_ours = std::any_of(state.plugins.begin(), state.plugins.end(),
                                       [&](const auto& p) { return p.second.ops_name == default_before; });
    if (change_default && !default_is_ours) state.previous_default = default_before;
    store_.save(state);
  }
  if (allow) cc.allow(ops_name);
  if (!change_default) return std::nullopt;
  cc.set_default(ops_name);
  return default_before;
}

}  // namespace bpfplug
