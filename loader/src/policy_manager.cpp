#include "bpfplug/policy_manager.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "bpfplug/comp_calibration.hpp"
#include "bpfplug/error.hpp"
#include "bpfplug/file_lock.hpp"
#include "bpfplug/plugin_loader.hpp"
#include "bpfplug/state.hpp"
#include "bpfplug/tunables.hpp"

namespace fs = std::filesystem;

namespace bpfplug {
namespace {

// The cgroup v2 directory whose id (its inode on cgroup2) is `id`, searched from `root`.
fs::path cgroup_path_of(const fs::path& root, std::uint64_t id) {
  std::error_code ec;
  struct stat st {};
  if (root.empty() || id == 0) return {};
  if (stat(root.c_str(), &st) == 0 && st.st_ino == id) return root;
  for (fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    if (!it->is_directory(ec)) continue;
    if (stat(it->path().c_str(), &st) == 0 && st.st_ino == id) return it->path();
  }
  return {};
}

template <typename T>
std::vector<std::uint8_t> bytes_of(const T& value) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(&value);
  return {p, p + sizeof(T)};
}

// comp-cost starts with its inputs in place: the codec calibrated on this machine (built-in
// corpus, zstd level 1; `bpfplug calibrate` measures again) and the CPU headroom now
// (`bpfplug agent` keeps it current).
void add_comp_cost_inputs(PolicySettings& settings) {
  Calibration cal = calibrate_zstd(builtin_corpus());
  cal.corpus = "built-in";
  settings.first_entries["calibration"] = bytes_of(cal.to_map_value());
  settings.first_entries["host"] = bytes_of(headroom_value(measure_cpu_headroom()));
}

}  // namespace

fs::path cgroup2_mount() {
  std::ifstream mounts("/proc/mounts");
  std::string line;
  while (std::getline(mounts, line)) {
    std::istringstream fields(line);
    std::string device, mount_point, type;
    fields >> device >> mount_point >> type;
    if (type == "cgroup2") return mount_point;
  }
  return {};
}

PolicyManager::PolicyManager(Host& host, const Catalogue& catalogue, Paths paths)
    : host_(host), catalogue_(catalogue), paths_(std::move(paths)) {}

fs::path PolicyManager::resolve_cgroup(const std::string& option) const {
  fs::path mount = cgroup2_mount();
  if (mount.empty())
    throw Error(Exit::unsupported, "cgroup v2 is not mounted, and policies attach to a cgroup v2",
                "mount it (mount -t cgroup2 none /sys/fs/cgroup/unified) and run the command again");
  if (option.empty()) return mount;
  fs::path path = fs::path(option).is_absolute() ? fs::path(option) : mount / option;
  std::error_code ec;
  auto rel = fs::relative(fs::weakly_canonical(path, ec), fs::weakly_canonical(mount, ec), ec);
  if (ec || rel.empty() || rel.native().starts_with(".."))
    throw Error(Exit::usage, "--cgroup " + option + " is not inside the cgroup v2 hierarchy at " + mount.string(),
                "give a directory under " + mount.string() + " (absolute, or relative to it)");
  if (!fs::is_directory(path, ec))
    throw Error(Exit::usage, "--cgroup " + option + ": no such cgroup (" + path.string() + ")",
                "create it (mkdir " + path.string() + ") or name an existing one");
  return path;
}

std::vector<std::string> PolicyManager::pinned() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(policies_dir(paths_.pin_root), ec)) {
    auto name = entry.path().filename().string();
    if (!name.starts_with("_") && fs::exists(entry.path() / "link", ec)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> PolicyManager::loaded() const {
  auto names = pinned();
  if (auto record = KernelCompRecordStore(paths_.tcp_comp_record()).load()) names.push_back(record->policy);
  std::sort(names.begin(), names.end());
  return names;
}

void PolicyManager::require_no_policy_loaded(const std::string& plugin) const {
  for (const auto& other : loaded()) {
    if (other == plugin)
      throw Error(Exit::conflict, "policy " + plugin + " is already loaded",
                  "bpfplug unload " + plugin + " first to load it with other settings");
    throw Error(Exit::conflict, "can't load policy " + plugin + ": the compression policy " + other + " is loaded",
                "one compression policy at a time (both would answer the same handshake): bpfplug unload " + other);
  }
}

void PolicyManager::require_tcp_comp_idle(const std::string& plugin) const {
  if (!host_.features().tcp_comp) return;
  TcpCompKnobs knobs = TcpCompSysctl(host_.sysctl()).read();
  if (knobs.ports.empty()) return;  // tcp_comp is off: it neither writes nor honours the option
  throw Error(Exit::conflict,
              "can't load policy " + plugin + " for the user-space data path: openEuler tcp_comp compresses ports " +
                  knobs.ports.to_string() + " in the kernel (" + kTcpCompPortsSysctl +
                  "), and those connections would be compressed twice",
              "clear it (sysctl -w " + std::string(kTcpCompPortsSysctl) +
                  "=) and load again, or let the kernel compress: bpfplug load comp-ports --mechanism kernel");
}

PolicyStatus PolicyManager::load_into_tcp_comp(const CatalogueEntry& entry, const PolicySettings& settings) {
  const std::string& plugin = entry.meta.name;
  FileLock lock(paths_.lock_file());
  require_no_policy_loaded(plugin);
  TcpCompSysctl sysctl(host_.sysctl());
  KernelCompRecord record;
  record.policy = plugin;
  record.version = entry.meta.version;
  record.loaded_at = now_iso8601();
  record.before = sysctl.read();
  if (!record.before.ports.empty())
    throw Error(Exit::conflict,
                "can't load policy " + plugin + " into openEuler tcp_comp: it already compresses ports " +
                    record.before.ports.to_string() + " (" + kTcpCompPortsSysctl + ", set outside bpfplug)",
                "clear it (sysctl -w " + std::string(kTcpCompPortsSysctl) +
                    "=) and load again, or leave the kernel's own setting as it is");
  // comp-ports' port set and local flag are exactly tcp_comp's two sysctls.
  record.set.ports = settings.portsets.at("ports");
  record.set.local = settings.tunables.at("local") != 0;
  // The record goes first, so that an unload after a crash here still puts `before` back.
  KernelCompRecordStore store(paths_.tcp_comp_record());
  store.save(record);
  try {
    sysctl.write(record.set);
  } catch (const Error&) {
    try {
      sysctl.write(record.before);
    } catch (const Error& e) {
      spdlog::warn("could not put tcp_comp's sysctls back: {}", e.what());
    }
    store.remove();
    throw;
  }
  return tcp_comp_status(record);
}

PolicyStatus PolicyManager::tcp_comp_status(const KernelCompRecord& record) const {
  const CatalogueEntry& entry = catalogue_.get(record.policy);
  PolicyStatus st;
  st.plugin = record.policy;
  st.version = entry.meta.version;
  st.mechanism = CompMechanism::kernel;
  // The kernel's sysctls are the truth about what is compressed; the record what bpfplug meant.
  TcpCompKnobs now = TcpCompSysctl(host_.sysctl()).read();
  st.portsets["ports"] = now.ports.to_string();
  st.tunables["local"] = now.local ? 1 : 0;
  if (!(now == record.set)) st.kernel_set_by_bpfplug = record.set;
  return st;
}

PolicyStatus PolicyManager::load(const std::string& plugin, const PolicyLoadOptions& options) {
  // Arguments first: a typo gets the same answer with or without privileges.
  const CatalogueEntry& entry = catalogue_.get(plugin);
  PolicySettings settings;
  settings.tunables = resolve_tunables(entry.meta, options.assignments);
  settings.portsets = resolve_portsets(entry.meta, options.assignments);
  const CompMechanism mechanism =
      choose_comp_mechanism(options.mechanism, plugin, host_.features().tcp_comp, !options.cgroup.empty());
  if (!host_.privileged())
    throw Error(Exit::permission, "can't load policy " + plugin + ": Permission denied",
                "run as root (sudo bpfplug load " + plugin + ")");
  if (mechanism == CompMechanism::kernel) return load_into_tcp_comp(entry, settings);
  fs::path cgroup = resolve_cgroup(options.cgroup);
  host_.ensure_bpffs(paths_.bpffs());
  FileLock lock(paths_.lock_file());
  std::error_code ec;
  fs::remove_all(partial_load_dir(dir(plugin)), ec);  // an interrupted load's (its link goes with it)
  require_no_policy_loaded(plugin);
  require_tcp_comp_idle(plugin);
  fs::create_directories(policies_dir(paths_.pin_root), ec);
  if (ec) throw Error(Exit::failure, "can't create " + policies_dir(paths_.pin_root).string() + ": " + ec.message());
  if (plugin == kCompCostPlugin) add_comp_cost_inputs(settings);
  try {
    attach_and_pin_policy(entry, settings, cgroup, dir(plugin), comp_contract_dir(paths_.pin_root));
  } catch (const Error&) {
    remove_empty_policy_dirs();  // a failed first load leaves nothing behind
    throw;
  }
  return status(plugin);
}

PolicyStatus PolicyManager::unload(const std::string& plugin) {
  catalogue_.get(plugin);
  if (!host_.privileged())
    throw Error(Exit::permission, "can't unload policy " + plugin + ": Permission denied",
                "run as root (sudo bpfplug unload " + plugin + ")");
  FileLock lock(paths_.lock_file());
  KernelCompRecordStore store(paths_.tcp_comp_record());
  if (auto record = store.load(); record && record->policy == plugin) {
    PolicyStatus st = tcp_comp_status(*record);
    if (st.kernel_set_by_bpfplug)
      spdlog::warn("{} and {} were changed outside bpfplug since {} was loaded; left as they are", kTcpCompPortsSysctl,
                   kTcpCompLocalSysctl, plugin);
    else
      TcpCompSysctl(host_.sysctl()).write(record->before);
    store.remove();
    return st;
  }
  PolicyStatus st = status(plugin);
  PinnedPolicy::open(dir(plugin))->detach_and_unpin();
  remove_empty_policy_dirs();
  return st;
}

void PolicyManager::remove_empty_policy_dirs() const {
  if (!pinned().empty()) return;
  // No policy: nothing acts on the contract any more. Sockets marked ready keep their storage
  // while a process holds the maps.
  std::error_code ec;
  fs::remove_all(comp_contract_dir(paths_.pin_root), ec);
  fs::remove(policies_dir(paths_.pin_root), ec);
  fs::remove(paths_.pin_root, ec);  // only if empty
}

PolicyStatus PolicyManager::status(const std::string& plugin) const {
  const CatalogueEntry& entry = catalogue_.get(plugin);
  if (auto record = KernelCompRecordStore(paths_.tcp_comp_record()).load(); record && record->policy == plugin)
    return tcp_comp_status(*record);
  if (!host_.privileged())
    throw Error(Exit::permission, "can't read the state of policy " + plugin + " (bpffs is root-only)",
                "run as root (sudo bpfplug status " + plugin + ")");
  auto pinned = PinnedPolicy::open(dir(plugin));
  if (!pinned) throw Error(Exit::conflict, "policy " + plugin + " is not loaded", "load it with bpfplug load " + plugin);
  PolicyStatus st;
  st.plugin = plugin;
  st.version = entry.meta.version;
  st.ids = pinned->ids();
  st.cgroup = cgroup_path_of(cgroup2_mount(), st.ids.cgroup_id);
  auto rodata = pinned->variables("rodata");
  for (const auto& t : entry.meta.tunables)
    if (auto it = rodata.find(t.name); it != rodata.end()) st.tunables[t.name] = it->second;
  for (const auto& p : entry.meta.portsets) st.portsets[p.name] = pinned->portset(p.name).to_string();
  auto bss = pinned->variables("bss");
  for (const auto& c : entry.meta.counters)
    if (auto it = bss.find(c.name); it != bss.end()) st.counters[c.name] = it->second;
  if (plugin == kCompCostPlugin) {
    CompCostMaps maps(dir(plugin));
    st.calibration = maps.calibration();
    st.host = maps.host();
  }
  return st;
}

}  // namespace bpfplug
