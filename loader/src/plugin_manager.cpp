#include "bpfplug/plugin_manager.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <thread>

#include <spdlog/spdlog.h>

#include "bpfplug/bpf_object_view.hpp"
#include "bpfplug/crash_point.hpp"
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

std::int64_t sockets_of(const PinnedPlugin& pinned, int generation) {
  auto vars = pinned.variables("bss", generation);
  auto it = vars.find(kSocketsGauge);
  return it == vars.end() ? 0 : it->second;
}

// What a load or swap puts into the kernel: a catalogue entry, or a user's object file whose
// bytes this holds (the entry's elf span points into them, so this is not copyable).
struct Implementation {
  CatalogueEntry entry;
  std::vector<std::byte> file_bytes;
  fs::path file;

  Implementation() = default;
  Implementation(const Implementation&) = delete;
  Implementation& operator=(const Implementation&) = delete;
};

// A user-built object for `swap --object`: it must carry bpfplug metadata naming the same
// plugin and register the same congestion-control name through a tcp_congestion_ops.
void read_user_object(Implementation& impl, const fs::path& file, const std::string& plugin,
                      const std::string& ops_name) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw Error(Exit::usage, "can't read object " + file.string() + ": " + errno_text(errno),
                "give the path of a BPF object built against struct_ops/bpfplug_cc.h");
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  impl.file_bytes.resize(chars.size());
  std::memcpy(impl.file_bytes.data(), chars.data(), chars.size());
  impl.file = fs::absolute(file);
  auto& meta = impl.entry.meta;
  try {
    meta = read_plugin_metadata(impl.file_bytes);
  } catch (const Error& e) {
    throw Error(Exit::usage, file.string() + " is not a bpfplug plugin object: " + e.what(),
                "build it with BPFPLUG_PLUGIN(...) from struct_ops/bpfplug_cc.h (docs/adding-a-plugin.md)");
  }
  if (meta.kind != "cc")
    throw Error(Exit::usage, file.string() + " is a " + meta.kind + " plugin, not congestion control",
                "swap replaces a congestion-control plugin with another implementation of it");
  if (meta.name != plugin)
    throw Error(Exit::usage, file.string() + " is plugin " + meta.name + ", not " + plugin,
                "a swap replaces " + plugin + " with another build of " + plugin + "; name it so in BPFPLUG_PLUGIN");
  auto obj = open_object(impl.file_bytes, meta.name);
  bpf_map* ops = struct_ops_map(obj.get());
  auto type = struct_ops_type(obj.get(), ops);
  if (type != "tcp_congestion_ops")
    throw Error(Exit::usage, file.string() + " implements " + type + ", not tcp_congestion_ops",
                "only an implementation of the same ops can replace a running plugin");
  impl.entry.ops_name = struct_ops_name(obj.get(), ops);
  impl.entry.elf = impl.file_bytes;
  if (impl.entry.ops_name != ops_name)
    throw Error(Exit::usage,
                file.string() + " registers as " + impl.entry.ops_name + ", but " + plugin + " runs as " + ops_name,
                "a swap keeps the registered name; set .name = \"" + ops_name + "\" in its tcp_congestion_ops");
}

// Writes the state, or removes it (and the empty pin root) when bpfplug no longer holds
// anything on this host.
void save_or_clear(const StateStore& store, const HostState& state, const Paths& paths) {
  if (state.plugins.empty() && !state.pending) {
    std::error_code ec;
    fs::remove(paths.state_file(), ec);
    fs::remove(paths.pin_root, ec);  // only if empty
  } else {
    store.save(state);
  }
}

}  // namespace

PluginManager::PluginManager(Host& host, Catalogue catalogue, Paths paths)
    : host_(host), catalogue_(std::move(catalogue)), paths_(std::move(paths)), store_(paths_.state_file()) {}

void PluginManager::require_privileges(const std::string& what, const std::string& command) const {
  if (!host_.privileged())
    throw Error(Exit::permission, "can't " + what + ": Permission denied",
                "run as root (sudo bpfplug " + command + ")");
}

void PluginManager::require_kernel_support(const CatalogueEntry& entry) const {
  const std::string& plugin = entry.meta.name;
  KernelFeatures f = host_.features();
  if (!f.btf)
    throw Error(Exit::unsupported, "can't load plugin " + plugin + ": the kernel has no BTF (/sys/kernel/btf/vmlinux)",
                "bpfplug needs a kernel built with CONFIG_DEBUG_INFO_BTF=y; see bpfplug probe");
  if (!f.struct_ops)
    throw Error(Exit::unsupported,
                "can't load plugin " + plugin + ": the kernel has no BPF struct_ops for tcp_congestion_ops",
                "needs Linux >= 5.6 with CONFIG_BPF_SYSCALL and CONFIG_BPF_JIT; see bpfplug probe");
  for (const auto& r : unmet_requirements(entry.meta, f)) {
    if (!feature_by_name(f, r.feature))
      throw Error(Exit::unsupported,
                  "plugin " + plugin + " requires kernel feature '" + r.feature + "', which this bpfplug does not know",
                  "build the plugin against this bpfplug's struct_ops/ headers, or upgrade bpfplug");
    throw Error(Exit::unsupported,
                "plugin " + plugin + " is not supported on this kernel (" + f.release + "): it needs " + r.feature +
                    " (" + r.why + ")",
                "bpfplug probe shows what this kernel lacks; docs/compatibility.md which kernels have it");
  }
}

void PluginManager::capture_original(HostState& state) const {
  if (state.original) return;
  CongestionControlSysctl cc(host_.sysctl());
  state.original = CongestionSettings{cc.current_default(), cc.allowed()};
}

LoadResult PluginManager::load(const std::string& plugin, const LoadOptions& options) {
  // Arguments first: a typo gets the same answer with or without privileges.
  const CatalogueEntry& entry = catalogue_.get(plugin, options.variant);
  auto tunables = resolve_tunables(entry.meta, options.assignments);
  require_privileges("load plugin " + plugin, "load " + plugin);
  require_kernel_support(entry);
  // Refuse a taken name before changing anything (mounting bpffs, creating the lock file);
  // checked again under the lock against a concurrent bpfplug.
  CongestionControlSysctl cc(host_.sysctl());
  auto refuse_if_taken = [&] {
    if (fs::exists(paths_.plugin_dir(plugin)))
      throw Error(Exit::conflict, "plugin " + plugin + " is already loaded (registered as " + entry.ops_name + ")",
                  "bpfplug swap " + plugin + " replaces it; bpfplug unload " + plugin + " removes it");
    if (cc.is_available(entry.ops_name))
      throw Error(Exit::conflict,
                  "can't load plugin " + plugin + ": the kernel already has a congestion control named " +
                      entry.ops_name,
                  "it is built in or was registered by another tool; a plugin needs a name of its own");
  };
  // A load a killed bpfplug left half-done is repaired under the lock before the check.
  bool half_done = store_.load().pending.has_value() || fs::exists(partial_load_dir(paths_.plugin_dir(plugin)));
  if (!half_done) refuse_if_taken();
  host_.ensure_bpffs(paths_.bpffs());
  FileLock lock(paths_.lock_file());
  repair_locked();
  refuse_if_taken();

  std::error_code ec;
  fs::create_directories(paths_.pin_root, ec);
  if (ec) throw Error(Exit::failure, "can't create " + paths_.pin_root.string() + ": " + ec.message());

  LoadResult result;
  result.plugin = plugin;
  result.ops_name = entry.ops_name;
  result.attach = host_.features().struct_ops_link ? AttachMode::link : AttachMode::map;

  // Journal first: if this process dies from here on, repair() rolls the load back.
  HostState state = store_.load();
  capture_original(state);
  std::string default_before = cc.current_default();
  PluginRecord record{entry.meta.version, entry.meta.variant, "", entry.ops_name, result.attach, now_iso8601(),
                      tunables, 1, {}};
  state.pending = PendingChange{"load", plugin, now_iso8601(), default_before, false, record};
  store_.save(state);
  crash_point("load-journaled");

  try {
    result.ids = load_and_pin(entry, {tunables, host_.features().cc_kfuncs}, result.attach, paths_.plugin_dir(plugin));
    crash_point("load-published");
    if (options.allow) cc.allow(entry.ops_name);
    if (options.make_default && default_before != entry.ops_name) {
      bool default_is_ours = std::any_of(state.plugins.begin(), state.plugins.end(),
                                         [&](const auto& p) { return p.second.ops_name == default_before; });
      if (!default_is_ours) state.previous_default = default_before;
      cc.set_default(entry.ops_name);
      result.replaced_default = default_before;
      crash_point("load-default-set");
    }
  } catch (...) {
    repair_locked(false);  // rolls back from the journal: unregister, unpin, put the default back
    throw;
  }
  state.plugins[plugin] = record;
  state.pending.reset();
  store_.save(state);
  return result;
}

SwapResult PluginManager::swap(const std::string& plugin, const SwapOptions& options) {
  if (!options.variant.empty() && !options.object.empty())
    throw Error(Exit::usage, "give --to VARIANT or --object FILE, not both", "bpfplug swap dctcp --to alpha0");
  // Arguments first, as for load: the variant and the object are checked without privileges.
  const CatalogueEntry& builtin = catalogue_.get(plugin);
  if (!options.variant.empty()) resolve_tunables(catalogue_.get(plugin, options.variant).meta, options.assignments);
  {
    Implementation probe;
    if (!options.object.empty()) {
      read_user_object(probe, options.object, plugin, builtin.ops_name);
      resolve_tunables(probe.entry.meta, options.assignments);
    }
  }
  require_privileges("swap plugin " + plugin, "swap " + plugin);
  FileLock lock(paths_.lock_file());
  repair_locked();

  auto pinned = PinnedPlugin::open(paths_.plugin_dir(plugin));
  if (!pinned)
    throw Error(Exit::conflict, "can't swap plugin " + plugin + ": it is not loaded",
                "load it first: bpfplug load " + plugin);
  HostState state = store_.load();
  PluginRecord old = state.plugins.count(plugin) ? state.plugins[plugin] : PluginRecord{};
  if (old.ops_name.empty()) old.ops_name = builtin.ops_name;

  Implementation impl;
  fs::path object = options.object.empty() && options.variant.empty() ? fs::path(old.object) : options.object;
  if (old.variant == "unknown") old.variant = std::string(kDefaultVariant);  // adopted by repair from pins
  if (!object.empty()) {
    read_user_object(impl, object, plugin, old.ops_name);
  } else {
    impl.entry = catalogue_.get(plugin, options.variant.empty() ? old.variant : options.variant);
    if (impl.entry.ops_name != old.ops_name)
      throw Error(Exit::usage, "variant " + impl.entry.meta.variant + " registers as " + impl.entry.ops_name +
                                   ", but " + plugin + " runs as " + old.ops_name,
                  "a swap keeps the registered name");
  }
  auto tunables = resolve_tunables(impl.entry.meta, options.assignments);
  require_kernel_support(impl.entry);

  CongestionControlSysctl cc(host_.sysctl());
  const Generation* current = pinned->current();
  int generation = pinned->next_generation();
  PluginRecord next{impl.entry.meta.version, impl.entry.meta.variant, impl.file.string(), old.ops_name,
                    pinned->mode(), old.loaded_at.empty() ? now_iso8601() : old.loaded_at, tunables,
                    generation, old.retired};
  if (current) next.retired.push_back({current->number, old.version, old.variant, now_iso8601()});
  state.pending = PendingChange{"swap", plugin, now_iso8601(), std::nullopt,
                                contains(cc.allowed(), old.ops_name), next};
  store_.save(state);
  crash_point("swap-journaled");

  SwapResult result;
  result.plugin = plugin;
  result.ops_name = old.ops_name;
  result.from_version = old.version;
  result.from_variant = old.variant;
  result.to_version = next.version;
  result.to_variant = next.variant;
  result.old_ids = pinned->ids();
  result.atomic = pinned->mode() == AttachMode::link;
  try {
    auto outcome = swap_in(impl.entry, {tunables, host_.features().cc_kfuncs}, *pinned, generation);
    result.new_ids = outcome.ids;
    result.kernel_switch_us = outcome.switch_us;
  } catch (...) {
    repair_locked(false);  // back to the old implementation if the switch did not happen, else forward
    throw;
  }
  // Defaults and the allowed list point at the ops struct, not the name: make them follow.
  if (cc.current_default() == old.ops_name) cc.set_default(old.ops_name);
  if (state.pending->allowed) cc.allow(old.ops_name);
  crash_point("swap-published");
  state.plugins[plugin] = next;
  state.pending.reset();
  store_.save(state);
  repair_locked();  // unpins the old generation now if no connection runs it
  return result;
}

UnloadResult PluginManager::unload(const std::string& plugin, bool force) {
  require_privileges("unload plugin " + plugin, "unload " + plugin);
  FileLock lock(paths_.lock_file());
  repair_locked();
  return unload_locked(plugin, force);
}

UnloadResult PluginManager::unload_locked(const std::string& plugin, bool force) {
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

  for (const auto& g : pinned->generations())
    if (!g.staged) result.sockets_left += sockets_of(*pinned, g.number);
  if (result.sockets_left > 0 && !force)
    throw Error(Exit::conflict,
                "can't unload plugin " + plugin + ": " + std::to_string(result.sockets_left) +
                    " connection(s) still use " + result.ops_name,
                "close them, or use --force: they keep running " + result.ops_name +
                    " until they close, new connections can no longer choose it");

  CongestionControlSysctl cc(host_.sysctl());
  std::optional<std::string> restore_default;
  if (!result.ops_name.empty() && cc.current_default() == result.ops_name) {
    if (!state.previous_default || !cc.is_available(*state.previous_default))
      throw Error(Exit::conflict,
                  "can't unload plugin " + plugin + ": " + result.ops_name +
                      " is the system default and bpfplug has no earlier default to restore",
                  "choose another default first, e.g. sysctl -w net.ipv4.tcp_congestion_control=cubic");
    restore_default = state.previous_default;
  }
  state.pending = PendingChange{"unload", plugin, now_iso8601(), restore_default, false, {}};
  store_.save(state);
  crash_point("unload-journaled");

  if (restore_default) {
    cc.set_default(*restore_default);
    result.restored_default = restore_default;
    state.previous_default.reset();
  }
  pinned->unregister_and_unpin();
  crash_point("unload-unpinned");
  state.plugins.erase(plugin);
  state.pending.reset();
  save_or_clear(store_, state, paths_);
  if (!result.ops_name.empty() && !wait_until_unregistered(cc, result.ops_name))
    throw Error(Exit::failure, "plugin " + plugin + " was unpinned but " + result.ops_name + " is still registered",
                "another process holds its link or map open; bpftool link show / map show find it");
  return result;
}

std::vector<PluginStatus> PluginManager::statuses_unless_in_use(const std::string& what, bool force) const {
  std::vector<PluginStatus> statuses;
  for (const auto& name : loaded()) statuses.push_back(status(name));
  // Every plugin is checked before any is unloaded, so a refusal changes nothing.
  for (const auto& st : statuses)
    if (st.sockets > 0 && !force)
      throw Error(Exit::conflict,
                  "can't " + what + ": " + std::to_string(st.sockets) + " connection(s) still use " + st.record.ops_name,
                  "close them, or use --force: they keep running it until they close");
  return statuses;
}

std::vector<UnloadResult> PluginManager::unload_all(bool force) {
  require_privileges("unload plugins", "unload --all");
  FileLock lock(paths_.lock_file());
  repair_locked();
  auto statuses = statuses_unless_in_use("unload all plugins", force);
  // The default one last, so the default is restored to what it was before bpfplug.
  std::stable_partition(statuses.begin(), statuses.end(), [](const auto& st) { return !st.is_default; });
  std::vector<UnloadResult> results;
  for (const auto& st : statuses) results.push_back(unload_locked(st.plugin, force));
  return results;
}

RestoreResult PluginManager::restore(bool force) {
  require_privileges("restore the congestion-control settings", "restore");
  FileLock lock(paths_.lock_file());
  repair_locked();
  RestoreResult result;
  HostState state = store_.load();
  result.restored = state.original;
  CongestionControlSysctl cc(host_.sysctl());
  auto statuses = statuses_unless_in_use("restore", force);
  // The sysctls first, while the state file still records them: killed half-way, a second
  // restore finds the record and finishes. The default first of all, so no unload has a
  // default of bpfplug's to hand over.
  if (state.original && cc.current_default() != state.original->default_cc) {
    if (!cc.is_available(state.original->default_cc))
      throw Error(Exit::conflict,
                  "can't restore: the original default " + state.original->default_cc + " is no longer available",
                  "load or build it into the kernel, or set a default yourself and run bpfplug unload --all");
    cc.set_default(state.original->default_cc);
    state.previous_default.reset();
    store_.save(state);
  }
  if (state.original) {
    std::vector<std::string> allowed;
    for (const auto& name : state.original->allowed) {
      if (cc.is_available(name)) allowed.push_back(name);
      else result.not_restorable.push_back(name);
    }
    cc.set_allowed(allowed);
  }
  for (const auto& st : statuses) result.unloaded.push_back(unload_locked(st.plugin, force));
  std::error_code ec;
  fs::remove(paths_.state_file(), ec);
  fs::remove(paths_.pin_root, ec);  // only if empty
  return result;
}

std::vector<PluginManager::RepairStep> PluginManager::plan_repair(const HostState& state) const {
  std::vector<RepairStep> steps;
  CongestionControlSysctl cc(host_.sysctl());
  std::string busy;  // the plugin the pending change concerns: handled by its own step

  if (const auto& pending = state.pending) {
    const std::string plugin = pending->plugin;
    const fs::path dir = paths_.plugin_dir(plugin);
    const PluginRecord next = pending->next;
    busy = plugin;
    auto since = " (started " + pending->started_at + ")";
    if (pending->op == "load") {
      steps.push_back({{plugin, "a load of " + plugin + " was interrupted" + since,
                        "roll it back: unregister " + next.ops_name + ", remove its pins, put the default back"},
                       [this, plugin, dir, pending, next](HostState& s) {
                         std::error_code ec;
                         if (fs::exists(partial_load_dir(dir), ec)) discard_partial_load(partial_load_dir(dir));
                         if (auto p = PinnedPlugin::open(dir); p && !s.plugins.count(plugin)) p->unregister_and_unpin();
                         CongestionControlSysctl cc(host_.sysctl());
                         if (pending->default_before && cc.current_default() == next.ops_name &&
                             cc.is_available(*pending->default_before))
                           cc.set_default(*pending->default_before);
                         if (!s.plugins.count(plugin)) wait_until_unregistered(cc, next.ops_name);
                         s.pending.reset();
                       }});
    } else if (pending->op == "swap") {
      auto p = PinnedPlugin::open(dir);
      const Generation* now = p ? p->current() : nullptr;
      std::string to = next.version + " (" + next.variant + ")";
      if (!p) {
        steps.push_back({{plugin, "a swap of " + plugin + " was interrupted" + since + " and it has no pins any more",
                          "forget the swap"},
                         [](HostState& s) { s.pending.reset(); }});
      } else if (now && now->number == next.generation) {
        steps.push_back({{plugin, "a swap of " + plugin + " to " + to + " was interrupted" + since +
                                      " after the kernel switched to it",
                          "finish it: publish generation " + std::to_string(next.generation) + " and record it"},
                         [this, plugin, dir, pending, next](HostState& s) {
                           auto p = PinnedPlugin::open(dir);
                           if (p) p->publish(next.generation);
                           CongestionControlSysctl cc(host_.sysctl());
                           if (cc.current_default() == next.ops_name) cc.set_default(next.ops_name);
                           if (pending->allowed) cc.allow(next.ops_name);
                           s.plugins[plugin] = next;
                           s.pending.reset();
                         }});
      } else if (!now && p->mode() == AttachMode::map) {
        steps.push_back({{plugin, "a swap of " + plugin + " to " + to + " was interrupted" + since +
                                      " between unregistering the old implementation and registering the new one",
                          "register the new implementation (generation " + std::to_string(next.generation) + ")"},
                         [this, plugin, dir, next](HostState& s) {
                           Implementation impl;
                           if (!next.object.empty()) read_user_object(impl, next.object, plugin, next.ops_name);
                           else impl.entry = catalogue_.get(plugin, next.variant);
                           if (auto p = PinnedPlugin::open(dir); p && p->find(next.generation))
                             p->remove_generation(next.generation);
                           register_generation(impl.entry, {next.tunables, host_.features().cc_kfuncs}, dir,
                                               next.generation);
                           CongestionControlSysctl cc(host_.sysctl());
                           if (cc.current_default() == next.ops_name) cc.set_default(next.ops_name);
                           s.plugins[plugin] = next;
                           s.pending.reset();
                         }});
      } else {
        std::string running = now ? "generation " + std::to_string(now->number) : "the old implementation";
        steps.push_back({{plugin, "a swap of " + plugin + " to " + to + " was interrupted" + since +
                                      " before the kernel switched",
                          "roll it back: unpin the unused new implementation (" + running + " keeps running)"},
                         [dir, next](HostState& s) {
                           if (auto p = PinnedPlugin::open(dir); p && p->find(next.generation) &&
                                                                  !p->find(next.generation)->current)
                             p->remove_generation(next.generation);
                           s.pending.reset();
                         }});
      }
    } else if (pending->op == "unload") {
      std::string ops = state.plugins.count(plugin) ? state.plugins.at(plugin).ops_name : "";
      steps.push_back({{plugin, "an unload of " + plugin + " was interrupted" + since,
                        "finish it: unregister it, remove its pins" +
                            (pending->default_before ? ", restore the default " + *pending->default_before : "")},
                       [this, plugin, dir, pending, ops](HostState& s) {
                         CongestionControlSysctl cc(host_.sysctl());
                         if (pending->default_before && cc.current_default() == ops &&
                             cc.is_available(*pending->default_before)) {
                           cc.set_default(*pending->default_before);
                           s.previous_default.reset();
                         }
                         if (auto p = PinnedPlugin::open(dir)) p->unregister_and_unpin();
                         if (!ops.empty()) wait_until_unregistered(cc, ops);
                         s.plugins.erase(plugin);
                         s.pending.reset();
                       }});
    } else {
      steps.push_back({{plugin, "the state file records an unknown change '" + pending->op + "'", "drop it"},
                       [](HostState& s) { s.pending.reset(); }});
    }
  }

  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(paths_.pin_root, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("_partial_")) {
      std::string plugin = name.substr(std::string("_partial_").size());
      if (plugin == busy) continue;
      steps.push_back({{plugin, "pins of an interrupted load of " + plugin + " are left at " + entry.path().string(),
                        "unregister what they hold and remove them"},
                       [path = entry.path()](HostState&) { discard_partial_load(path); }});
      continue;
    }
    if (name == busy || name.starts_with("_")) continue;
    auto p = PinnedPlugin::open(entry.path());
    if (!p) continue;
    for (const auto& g : p->generations()) {
      if (!g.staged || g.current) continue;
      steps.push_back({{name, "generation " + std::to_string(g.number) + " of " + name +
                                  " was staged by an interrupted swap and never switched to",
                        "unpin it"},
                       [path = entry.path(), n = g.number](HostState&) {
                         if (auto p = PinnedPlugin::open(path)) p->remove_generation(n);
                       }});
    }
    if (!p->current()) {
      steps.push_back({{name, name + " is pinned but none of its implementations is registered",
                        "remove its pins"},
                       [path = entry.path(), name](HostState& s) {
                         if (auto p = PinnedPlugin::open(path)) p->unregister_and_unpin();
                         s.plugins.erase(name);
                       }});
    } else if (!state.plugins.count(name)) {
      steps.push_back({{name, name + " is loaded but bpfplug has no record of it (was " +
                                  paths_.state_file().string() + " removed?)",
                        "record it from its pins"},
                       [this, name, mode = p->mode(), gen = p->current()->number](HostState& s) {
                         PluginRecord r;
                         r.version = "unknown";
                         r.variant = "unknown";
                         if (const auto* e = catalogue_.find(name)) r.ops_name = e->ops_name;
                         r.attach = mode;
                         r.generation = gen;
                         s.plugins[name] = r;
                       }});
    }
  }
  for (const auto& [name, record] : state.plugins) {
    if (name == busy || PinnedPlugin::open(paths_.plugin_dir(name))) continue;
    steps.push_back({{name, "bpfplug's record says " + name + " is loaded, but it has no pins",
                      "forget the record (" + record.ops_name + " is " +
                          (cc.is_available(record.ops_name) ? "registered by someone else" : "not registered") + ")"},
                     [name](HostState& s) { s.plugins.erase(name); }});
  }
  return steps;
}

std::vector<Problem> PluginManager::diagnose() const {
  std::vector<Problem> problems;
  if (!host_.privileged()) return problems;  // bpffs is root-only
  for (auto& step : plan_repair(store_.load())) problems.push_back(std::move(step.problem));
  return problems;
}

std::vector<std::string> PluginManager::repair() {
  require_privileges("repair bpfplug's state", "repair");
  FileLock lock(paths_.lock_file());
  return repair_locked();
}

std::vector<std::string> PluginManager::repair_locked(bool report) {
  std::vector<std::string> done;
  HostState state = store_.load();
  for (auto& step : plan_repair(state)) {
    // A command undoing its own failed change is not news; a killed bpfplug's leftovers are.
    if (report) spdlog::warn("repair: {}; {}", step.problem.what, step.problem.fix);
    else spdlog::debug("undoing: {}; {}", step.problem.what, step.problem.fix);
    step.fix(state);
    done.push_back(step.problem.what + ": " + step.problem.fix);
    store_.save(state);  // each fix is recorded as soon as it is done
  }
  // Retired generations stay pinned only while connections still run them.
  for (auto& [name, record] : state.plugins) {
    auto p = PinnedPlugin::open(paths_.plugin_dir(name));
    if (!p) continue;
    for (const auto& g : std::vector<Generation>(p->generations())) {
      if (g.current || g.staged || sockets_of(*p, g.number) > 0) continue;
      p->remove_generation(g.number);
      std::erase_if(record.retired, [&](const auto& r) { return r.generation == g.number; });
      spdlog::debug("unpinned generation {} of {}: no connection runs it", g.number, name);
    }
  }
  save_or_clear(store_, state, paths_);
  return done;
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
  for (const auto& g : pinned->generations()) {
    if (g.staged && !g.current) continue;
    GenerationStatus gs;
    gs.number = g.number;
    gs.current = g.current;
    if (g.number == st.record.generation) {
      gs.version = st.record.version;
      gs.variant = st.record.variant;
    }
    for (const auto& r : st.record.retired)
      if (r.generation == g.number) {
        gs.version = r.version;
        gs.variant = r.variant;
      }
    gs.counters = pinned->variables("bss", g.number);
    if (auto it = gs.counters.find(kSocketsGauge); it != gs.counters.end()) {
      gs.sockets = it->second;
      gs.counters.erase(it);
    }
    st.sockets += gs.sockets;
    if (g.current) st.counters = gs.counters;
    st.generations.push_back(std::move(gs));
  }
  // Only what the plugin declares: .rodata may hold other constants.
  const CatalogueEntry* entry = catalogue_.find(plugin, st.record.variant);
  if (!entry) entry = catalogue_.find(plugin);
  if (entry && st.record.object.empty())
    std::erase_if(st.tunables, [&](const auto& kv) { return !entry->meta.find_tunable(kv.first); });
  return st;
}

KernelCongestion PluginManager::kernel_congestion() const {
  CongestionControlSysctl cc(host_.sysctl());
  return {cc.available(), cc.allowed(), cc.current_default(), store_.load().previous_default};
}

}  // namespace bpfplug
