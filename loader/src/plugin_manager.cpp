#include "bpfplug/plugin_manager.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "bpfplug/error.hpp"
#include "bpfplug/file_lock.hpp"
#include "bpfplug/tunables.hpp"

namespace fs = std::filesystem;

namespace bpfplug {
namespace {

constexpr const char* kSocketsGauge = "bpfplug_sockets";

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Unregistration through a link's last reference completes on a kernel workqueue; wait
// (bounded) until the name has left the kernel's list so callers see the final state.
bool wait_until_unregistered(const CongestionControlSysctl& cc, const std::string& ops_name) {
  for (int i = 0; i < 200; ++i) {
    if (!cc.is_available(ops_name)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace

PluginManager::PluginManager(Host& host, Catalogue catalogue, Paths paths)
    : host_(host), catalogue_(std::move(catalogue)), paths_(std::move(paths)), store_(paths_.state_file()) {}

void PluginManager::require_privileges(const std::string& what, const std::string& command) const {
  if (!host_.privileged())
    throw Error(Exit::permission, "can't " + what + ": Permission denied",
                "run as root (sudo bpfplug " + command + ")");
}

void PluginManager::require_kernel_support(const std::string& plugin) const {
  KernelFeatures f = host_.features();
  if (!f.btf)
    throw Error(Exit::unsupported, "can't load plugin " + plugin + ": the kernel has no BTF (/sys/kernel/btf/vmlinux)",
                "bpfplug needs a kernel built with CONFIG_DEBUG_INFO_BTF=y; see bpfplug probe");
  if (!f.struct_ops)
    throw Error(Exit::unsupported,
                "can't load plugin " + plugin + ": the kernel has no BPF struct_ops for tcp_congestion_ops",
                "needs Linux >= 5.6 with CONFIG_BPF_SYSCALL and CONFIG_BPF_JIT; see bpfplug probe");
}

LoadResult PluginManager::load(const std::string& plugin, const LoadOptions& options) {
  // Arguments first: a typo gets the same answer with or without privileges.
  const CatalogueEntry& entry = catalogue_.get(plugin);
  auto tunables = resolve_tunables(entry.meta, options.assignments);
  require_privileges("load plugin " + plugin, "load " + plugin);
  require_kernel_support(plugin);
  // Refuse a taken name before changing anything (mounting bpffs, creating the lock file);
  // checked again under the lock against a concurrent bpfplug.
  CongestionControlSysctl cc(host_.sysctl());
  auto refuse_if_taken = [&] {
    if (fs::exists(paths_.plugin_dir(plugin)))
      throw Error(Exit::conflict, "plugin " + plugin + " is already loaded (registered as " + entry.ops_name + ")",
                  "bpfplug status " + plugin + " shows it; bpfplug unload " + plugin + " removes it");
    if (cc.is_available(entry.ops_name))
      throw Error(Exit::conflict,
                  "can't load plugin " + plugin + ": the kernel already has a congestion control named " +
                      entry.ops_name,
                  "it is built in or was registered by another tool; a plugin needs a name of its own");
  };
  refuse_if_taken();
  host_.ensure_bpffs(paths_.bpffs());
  FileLock lock(paths_.lock_file());
  refuse_if_taken();

  std::error_code ec;
  fs::create_directories(paths_.pin_root, ec);
  if (ec) throw Error(Exit::failure, "can't create " + paths_.pin_root.string() + ": " + ec.message());

  KernelFeatures features = host_.features();
  LoadResult result;
  result.plugin = plugin;
  result.ops_name = entry.ops_name;
  result.attach = features.struct_ops_link ? AttachMode::link : AttachMode::map;
  try {
    result.ids = load_and_pin(entry, tunables, result.attach, paths_.plugin_dir(plugin));
  } catch (...) {
    fs::remove(paths_.pin_root, ec);  // only if empty: leave no trace of a failed load
    throw;
  }

  // Registered from here on: any failure below must undo the registration.
  HostState state = store_.load();
  std::string default_before = cc.current_default();
  try {
    if (options.allow) cc.allow(entry.ops_name);
    if (options.make_default && default_before != entry.ops_name) {
      bool default_is_ours = std::any_of(state.plugins.begin(), state.plugins.end(),
                                         [&](const auto& p) { return p.second.ops_name == default_before; });
      if (!default_is_ours) state.previous_default = default_before;
      cc.set_default(entry.ops_name);
      result.replaced_default = default_before;
    }
    state.plugins[plugin] = PluginRecord{entry.meta.version, entry.ops_name, result.attach, now_iso8601(), tunables};
    store_.save(state);
  } catch (...) {
    if (cc.current_default() == entry.ops_name) cc.set_default(default_before);
    if (auto pinned = PinnedPlugin::open(paths_.plugin_dir(plugin))) pinned->unregister_and_unpin();
    throw;
  }
  return result;
}

UnloadResult PluginManager::unload(const std::string& plugin, bool force) {
  require_privileges("unload plugin " + plugin, "unload " + plugin);
  FileLock lock(paths_.lock_file());

  auto pinned = PinnedPlugin::open(paths_.plugin_dir(plugin));
  if (!pinned) {
    if (!catalogue_.find(plugin)) catalogue_.get(plugin);  // throws "unknown plugin", did you mean
    throw Error(Exit::conflict, "can't unload plugin " + plugin + ": it is not loaded",
                "bpfplug list shows what is loaded");
  }
  HostState state = store_.load();
  UnloadResult result;
  result.plugin = plugin;
  if (auto it = state.plugins.find(plugin); it != state.plugins.end()) result.ops_name = it->second.ops_name;
  else if (const auto* entry = catalogue_.find(plugin)) result.ops_name = entry->ops_name;

  auto counters = pinned->variables("bss");
  result.sockets_left = counters.count(kSocketsGauge) ? counters[kSocketsGauge] : 0;
  if (result.sockets_left > 0 && !force)
    throw Error(Exit::conflict,
                "can't unload plugin " + plugin + ": " + std::to_string(result.sockets_left) +
                    " connection(s) still use " + result.ops_name,
                "close them, or use --force: they keep running " + result.ops_name +
                    " until they close, new connections can no longer choose it");

  CongestionControlSysctl cc(host_.sysctl());
  if (!result.ops_name.empty() && cc.current_default() == result.ops_name) {
    if (!state.previous_default || !cc.is_available(*state.previous_default))
      throw Error(Exit::conflict,
                  "can't unload plugin " + plugin + ": " + result.ops_name +
                      " is the system default and bpfplug has no earlier default to restore",
                  "choose another default first, e.g. sysctl -w net.ipv4.tcp_congestion_control=cubic");
    cc.set_default(*state.previous_default);
    result.restored_default = state.previous_default;
    state.previous_default.reset();
  }

  pinned->unregister_and_unpin();
  state.plugins.erase(plugin);
  if (state.plugins.empty()) {
    std::error_code ec;
    fs::remove(paths_.state_file(), ec);
    fs::remove(paths_.pin_root, ec);  // only if empty
  } else {
    store_.save(state);
  }
  if (!result.ops_name.empty() && !wait_until_unregistered(cc, result.ops_name))
    throw Error(Exit::failure, "plugin " + plugin + " was unpinned but " + result.ops_name + " is still registered",
                "another process holds its link or map open; bpftool link show / map show find it");
  return result;
}

std::vector<UnloadResult> PluginManager::unload_all(bool force) {
  require_privileges("unload plugins", "unload --all");
  std::vector<PluginStatus> statuses;
  for (const auto& name : loaded()) statuses.push_back(status(name));
  // Check every plugin before unloading any, so a refusal changes nothing.
  if (!force) {
    for (const auto& st : statuses)
      if (st.sockets > 0)
        throw Error(Exit::conflict,
                    "can't unload all plugins: " + std::to_string(st.sockets) + " connection(s) still use " +
                        st.record.ops_name,
                    "close them, or use --force");
  }
  // The default one last, so the default is restored to what it was before bpfplug.
  std::stable_partition(statuses.begin(), statuses.end(), [](const auto& st) { return !st.is_default; });
  std::vector<UnloadResult> results;
  for (const auto& st : statuses) results.push_back(unload(st.plugin, force));
  return results;
}

std::vector<std::string> PluginManager::loaded() const {
  std::vector<std::string> names;
  std::error_code ec;
  if (host_.privileged()) {
    for (const auto& entry : fs::directory_iterator(paths_.pin_root, ec)) {
      auto name = entry.path().filename().string();
      if (!name.starts_with("_") && PinnedPlugin::open(entry.path())) names.push_back(name);
    }
  } else {
    // bpffs is root-only: fall back to bpfplug's record, checked against the kernel's list.
    CongestionControlSysctl cc(host_.sysctl());
    for (const auto& [name, record] : store_.load().plugins)
      if (cc.is_available(record.ops_name)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

PluginStatus PluginManager::status(const std::string& plugin) const {
  require_privileges("read the state of plugin " + plugin + " (bpffs is root-only)", "status " + plugin);
  auto pinned = PinnedPlugin::open(paths_.plugin_dir(plugin));
  if (!pinned) {
    if (!catalogue_.find(plugin)) catalogue_.get(plugin);
    throw Error(Exit::conflict, "plugin " + plugin + " is not loaded", "load it with bpfplug load " + plugin);
  }
  PluginStatus st;
  st.plugin = plugin;
  st.ids = pinned->ids();
  HostState state = store_.load();
  if (auto it = state.plugins.find(plugin); it != state.plugins.end()) st.record = it->second;
  else if (const auto* entry = catalogue_.find(plugin)) st.record.ops_name = entry->ops_name;
  st.record.attach = pinned->mode();

  CongestionControlSysctl cc(host_.sysctl());
  st.registered = cc.is_available(st.record.ops_name);
  st.is_default = cc.current_default() == st.record.ops_name;
  st.allowed = contains(cc.allowed(), st.record.ops_name);
  st.tunables = pinned->variables("rodata");
  st.counters = pinned->variables("bss");
  if (auto it = st.counters.find(kSocketsGauge); it != st.counters.end()) {
    st.sockets = it->second;
    st.counters.erase(it);
  }
  // Only what the plugin declares: .rodata may hold other constants.
  if (const auto* entry = catalogue_.find(plugin)) {
    std::erase_if(st.tunables, [&](const auto& kv) { return !entry->meta.find_tunable(kv.first); });
  }
  return st;
}

KernelCongestion PluginManager::kernel_congestion() const {
  CongestionControlSysctl cc(host_.sysctl());
  return {cc.available(), cc.allowed(), cc.current_default(), store_.load().previous_default};
}

}  // namespace bpfplug
