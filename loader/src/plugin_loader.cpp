#include "bpfplug/plugin_loader.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <regex>
#include <string_view>
#include <vector>

#include "bpfplug/bpf_object_view.hpp"
#include "bpfplug/crash_point.hpp"
#include "bpfplug/error.hpp"
#include "bpfplug/unique_fd.hpp"
#include "pin_helpers.hpp"

namespace fs = std::filesystem;

namespace bpfplug {
namespace {

using namespace pins;

// Pins under a plugin's directory (kLinkPin exists only in link mode) and under each generation's.
constexpr const char* kOpsPin = "ops";

bpf_map* find_data_map(bpf_object* obj, std::string_view section) {
  bpf_map* map;
  bpf_object__for_each_map(map, obj) {
    if (data_section_of(map) == section) return map;
  }
  return nullptr;
}

std::uint32_t map_id(int fd) {
  bpf_map_info info{};
  __u32 len = sizeof(info);
  return bpf_map_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

std::uint32_t link_id(int fd) {
  bpf_link_info info{};
  __u32 len = sizeof(info);
  return bpf_link_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

Error load_error(const CatalogueEntry& entry, int err) {
  err = std::abs(err);
  if (err == EPERM || err == EACCES)
    return Error(Exit::permission, "can't load plugin " + entry.meta.name + ": " + errno_text(err),
                 "run as root (needs CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN)");
  return Error(Exit::failure, "can't load plugin " + entry.meta.name + ": " + errno_text(err),
               "the kernel rejected the programs; rerun with -v to see the verifier log");
}

Error attach_error(const CatalogueEntry& entry, int err) {
  err = std::abs(err);
  if (err == EEXIST)
    return Error(Exit::conflict,
                 "can't register plugin " + entry.meta.name + ": a congestion control named " +
                     entry.ops_name + " is already registered",
                 "it was registered by something other than this bpfplug; unregister it there first");
  return Error(Exit::failure, "can't register plugin " + entry.meta.name + ": " + errno_text(err),
               "rerun with -v for libbpf's diagnostics");
}

std::string generation_name(int number) { return "g" + std::to_string(number); }

// "g3" -> 3, "_partial_g3" -> 3 (staged); anything else -> nullopt.
std::optional<std::pair<int, bool>> parse_generation(const std::string& name) {
  static const std::regex pattern("(_partial_)?g([1-9][0-9]{0,8})");
  std::smatch m;
  if (!std::regex_match(name, m, pattern)) return std::nullopt;
  return std::pair{std::stoi(m[2].str()), m[1].matched};
}

// Pins the struct_ops map and the global-data maps of a loaded object into `dir`.
void pin_generation(bpf_object* obj, bpf_map* ops, const fs::path& dir) {
  make_dir(dir);
  pin_or_throw(-bpf_obj_pin(bpf_map__fd(ops), (dir / kOpsPin).c_str()), dir / kOpsPin);
  bpf_map* map;
  bpf_object__for_each_map(map, obj) {
    auto section = data_section_of(map);
    if (section.empty()) continue;
    auto path = dir / std::string(section);
    pin_or_throw(-bpf_obj_pin(bpf_map__fd(map), path.c_str()), path);
  }
}

// Loads an object with its tunables applied, the struct_ops map in the given mode.
BpfObjectPtr load_object(const CatalogueEntry& entry, const ObjectSettings& settings,
                         AttachMode mode) {
  BpfObjectPtr obj = open_object(entry.elf, entry.meta.name);
  apply_settings(obj.get(), entry.meta.name, settings);
  bpf_map* ops = struct_ops_map(obj.get());
  if (mode == AttachMode::map) bpf_map__set_map_flags(ops, bpf_map__map_flags(ops) & ~BPF_F_LINK);
  else bpf_map__set_map_flags(ops, bpf_map__map_flags(ops) | BPF_F_LINK);
  if (int err = bpf_object__load(obj.get())) throw load_error(entry, err);
  return obj;
}

UniqueFd open_pin(const fs::path& path) {
  UniqueFd fd(bpf_obj_get(path.c_str()));
  if (!fd) throw Error(Exit::failure, "can't open pinned " + path.string() + ": " + errno_text(errno),
                       "bpfplug status shows what is pinned; bpfplug repair fixes half-done changes");
  return fd;
}

// Whether a struct_ops map (map mode) is the registered one: the kernel reports the state of
// its value (struct bpf_struct_ops_common_value: refcnt, then state; INUSE = 1).
bool map_in_use(int ops_fd) {
  bpf_map_info info{};
  __u32 len = sizeof(info);
  if (bpf_map_get_info_by_fd(ops_fd, &info, &len) != 0 || info.value_size < 8) return false;
  std::vector<std::byte> value(info.value_size);
  __u32 zero = 0;
  if (bpf_map_lookup_elem(ops_fd, &zero, value.data()) != 0) return false;
  std::uint32_t state = 0;
  std::memcpy(&state, value.data() + 4, sizeof state);
  return state == 1;
}

std::uint32_t link_map_id(int link_fd) {
  bpf_link_info info{};
  __u32 len = sizeof(info);
  if (bpf_link_get_info_by_fd(link_fd, &info, &len) != 0) return 0;
  return info.struct_ops.map_id;
}

}  // namespace

void apply_settings(bpf_object* obj, const std::string& plugin, const ObjectSettings& settings) {
  bpf_map* rodata = find_data_map(obj, "rodata");
  std::size_t size = 0;
  void* image = rodata ? bpf_map__initial_value(rodata, &size) : nullptr;
  if (!image) {
    if (settings.tunables.empty()) return;
    throw Error(Exit::usage, "plugin " + plugin + " declares tunables but has no .rodata",
                "declare tunables with BPFPLUG_TUNABLE (const volatile globals)");
  }
  std::span<std::byte> bytes(static_cast<std::byte*>(image), size);
  auto vars = datasec_vars(bpf_object__btf(obj), ".rodata");
  auto find = [&](const std::string& name) {
    return std::find_if(vars.begin(), vars.end(), [&](const auto& v) { return v.name == name; });
  };
  for (const auto& [name, value] : settings.tunables) {
    auto it = find(name);
    if (it == vars.end())
      throw Error(Exit::usage, "plugin " + plugin + ": tunable " + name + " has no .rodata variable",
                  "declare it with BPFPLUG_TUNABLE, which defines the variable");
    write_var(bytes, *it, value);
  }
  if (auto it = find("bpfplug_cc_kfuncs"); it != vars.end()) write_var(bytes, *it, settings.cc_kfuncs ? 1 : 0);
}


fs::path partial_load_dir(const fs::path& pin_dir) {
  return pin_dir.parent_path() / (kPartialPrefix + pin_dir.filename().string());
}

KernelIds load_and_pin(const CatalogueEntry& entry, const ObjectSettings& settings,
                       AttachMode mode, const fs::path& pin_dir) {
  // open -> configure -> load -> register -> pin (into a staging directory) -> publish.
  BpfObjectPtr obj = load_object(entry, settings, mode);
  bpf_map* ops = struct_ops_map(obj.get());

  // The maps are pinned before the registration, so that whatever a killed bpfplug leaves is
  // findable: in map mode the registration lives in the map and outlives the process.
  fs::path staging = partial_load_dir(pin_dir);
  std::error_code ec;
  fs::remove_all(staging, ec);
  DirGuard staging_guard{staging};
  make_dir(staging);
  pin_generation(obj.get(), ops, staging / generation_name(1));

  BpfLinkPtr link(bpf_map__attach_struct_ops(ops));
  if (!link) throw attach_error(entry, errno);
  // Map mode: a failure from here on must unregister (destroying the handle deletes the map
  // element); link mode: the link fd closing unregisters, dying here included.
  crash_point("load-registered");
  if (mode == AttachMode::link)
    pin_or_throw(-bpf_link__pin(link.get(), (staging / kLinkPin).c_str()), staging / kLinkPin);
  crash_point("load-pinned");

  fs::rename(staging, pin_dir, ec);
  if (ec) throw Error(Exit::failure, "can't publish pins at " + pin_dir.string() + ": " + ec.message());
  staging_guard.dir.clear();

  KernelIds ids{map_id(bpf_map__fd(ops)), mode == AttachMode::link ? link_id(bpf_link__fd(link.get())) : 0};
  // In map mode destroying the libbpf link would delete the map element, unregistering the
  // ops: disconnect it so the registration outlives this process. In link mode the pin holds
  // the link and destroying the handle only closes our fd.
  if (mode == AttachMode::map) bpf_link__disconnect(link.get());
  return ids;
}

KernelIds register_generation(const CatalogueEntry& entry, const ObjectSettings& settings,
                              const fs::path& pin_dir, int generation) {
  BpfObjectPtr obj = load_object(entry, settings, AttachMode::map);
  bpf_map* ops = struct_ops_map(obj.get());
  fs::path staging = pin_dir / (kPartialPrefix + generation_name(generation));
  std::error_code ec;
  fs::remove_all(staging, ec);
  DirGuard staging_guard{staging};
  pin_generation(obj.get(), ops, staging);
  BpfLinkPtr registration(bpf_map__attach_struct_ops(ops));
  if (!registration) throw attach_error(entry, errno);
  bpf_link__disconnect(registration.get());
  fs::rename(staging, pin_dir / generation_name(generation), ec);
  if (ec) throw Error(Exit::failure, "can't publish " + staging.string() + ": " + ec.message());
  staging_guard.dir.clear();
  return {map_id(bpf_map__fd(ops)), 0};
}

void discard_partial_load(const fs::path& staging_dir) {
  std::error_code ec;
  if (fs::exists(staging_dir / kLinkPin, ec)) {
    if (UniqueFd link(bpf_obj_get((staging_dir / kLinkPin).c_str())); link) bpf_link_detach(link.get());
  } else {
    // Map mode: the map element may have been registered before the process died.
    for (const auto& entry : fs::directory_iterator(staging_dir, ec)) {
      UniqueFd ops(bpf_obj_get((entry.path() / kOpsPin).c_str()));
      __u32 zero = 0;
      if (ops) bpf_map_delete_elem(ops.get(), &zero);
    }
  }
  fs::remove_all(staging_dir, ec);
  if (ec) throw Error(Exit::failure, "can't remove " + staging_dir.string() + ": " + ec.message());
}

SwapOutcome swap_in(const CatalogueEntry& entry, const ObjectSettings& settings,
                    const PinnedPlugin& current, int generation) {
  const Generation* old = current.current();
  if (!old)
    throw Error(Exit::conflict, "can't swap " + entry.meta.name + ": no pinned generation is registered",
                "bpfplug repair fixes a half-done change");
  BpfObjectPtr obj = load_object(entry, settings, current.mode());
  bpf_map* ops = struct_ops_map(obj.get());
  fs::path staging = current.dir() / (kPartialPrefix + generation_name(generation));
  DirGuard staging_guard{staging};
  SwapOutcome outcome;
  using Clock = std::chrono::steady_clock;
  Clock::time_point begin, end;

  if (current.mode() == AttachMode::link) {
    // libbpf 1.4 fills the kernel value of a struct_ops map only inside
    // bpf_map__attach_struct_ops(): its map update (state READY) is what we need, and the
    // link it then tries to create must fail with EEXIST because the name is registered.
    errno = 0;
    if (bpf_link* unexpected = bpf_map__attach_struct_ops(ops)) {
      bpf_link__destroy(unexpected);  // unregisters what it just registered
      throw Error(Exit::conflict,
                  "can't swap " + entry.meta.name + ": " + entry.ops_name + " was not registered when the swap began",
                  "something outside bpfplug unregistered it; bpfplug repair, then bpfplug load");
    }
    if (errno != EEXIST) throw attach_error(entry, errno);
    pin_generation(obj.get(), ops, staging);
    crash_point("swap-staged");

    UniqueFd link = open_pin(current.dir() / kLinkPin);
    UniqueFd old_ops = open_pin(old->dir / kOpsPin);
    LIBBPF_OPTS(bpf_link_update_opts, opts, .flags = BPF_F_REPLACE, .old_map_fd = static_cast<__u32>(old_ops.get()));
    begin = Clock::now();
    int err = bpf_link_update(link.get(), bpf_map__fd(ops), &opts);
    end = Clock::now();
    if (err) {
      err = std::abs(err);
      if (err == EPERM)
        throw Error(Exit::conflict,
                    "can't swap " + entry.meta.name + ": its registration changed while this swap prepared",
                    "another process switched it; bpfplug status shows what runs now");
      throw Error(Exit::failure, "can't switch " + entry.ops_name + " to the new implementation: " + errno_text(err),
                  "the old implementation is untouched; rerun with -v for libbpf's diagnostics");
    }
    outcome.ids = {map_id(bpf_map__fd(ops)), current.ids().link_id};
  } else {
    // No links (Linux < 6.4): the name has to be unregistered before it can be registered
    // again. Between the two, setsockopt(TCP_CONGESTION) by this name fails with ENOENT.
    pin_generation(obj.get(), ops, staging);
    crash_point("swap-staged");
    UniqueFd old_ops = open_pin(old->dir / kOpsPin);
    __u32 zero = 0;
    begin = Clock::now();
    if (bpf_map_delete_elem(old_ops.get(), &zero) != 0 && errno != ENOENT)
      throw Error(Exit::failure, "can't unregister the running " + entry.ops_name + ": " + errno_text(errno),
                  "the old implementation is untouched");
    crash_point("swap-unregistered");
    BpfLinkPtr registration(bpf_map__attach_struct_ops(ops));
    end = Clock::now();
    if (!registration)
      throw Error(Exit::failure,
                  "unregistered the old " + entry.ops_name + " but can't register the new one: " + errno_text(errno),
                  "bpfplug repair loads it again");
    bpf_link__disconnect(registration.get());
    outcome.ids = {map_id(bpf_map__fd(ops)), 0};
  }
  outcome.switch_us = std::chrono::duration<double, std::micro>(end - begin).count();
  crash_point("swap-switched");

  std::error_code ec;
  fs::rename(staging, current.dir() / generation_name(generation), ec);
  if (ec) throw Error(Exit::failure, "switched, but can't publish " + staging.string() + ": " + ec.message(),
                      "bpfplug repair finishes it");
  staging_guard.dir.clear();
  return outcome;
}

std::optional<PinnedPlugin> PinnedPlugin::open(const fs::path& pin_dir) {
  std::error_code ec;
  if (!fs::is_directory(pin_dir, ec)) return std::nullopt;
  PinnedPlugin p;
  p.dir_ = pin_dir;
  p.mode_ = fs::exists(pin_dir / kLinkPin, ec) ? AttachMode::link : AttachMode::map;
  std::vector<int> in_use;  // map mode: generations whose map is registered
  for (const auto& entry : fs::directory_iterator(pin_dir, ec)) {
    auto parsed = parse_generation(entry.path().filename().string());
    if (!parsed || !fs::exists(entry.path() / kOpsPin, ec)) continue;
    UniqueFd ops(bpf_obj_get((entry.path() / kOpsPin).c_str()));
    if (!ops) continue;
    Generation g{parsed->first, entry.path(), map_id(ops.get()), false, parsed->second};
    if (p.mode_ == AttachMode::map && map_in_use(ops.get())) in_use.push_back(g.number);
    p.generations_.push_back(g);
  }
  if (p.generations_.empty() && p.mode_ == AttachMode::map) return std::nullopt;
  std::sort(p.generations_.begin(), p.generations_.end(),
            [](const auto& a, const auto& b) { return a.number < b.number; });

  std::uint32_t registered = 0;
  if (p.mode_ == AttachMode::link) {
    UniqueFd link = open_pin(pin_dir / kLinkPin);
    p.ids_.link_id = link_id(link.get());
    registered = link_map_id(link.get());
  }
  for (auto it = p.generations_.rbegin(); it != p.generations_.rend(); ++it) {
    // Link mode: the generation the link holds. Map mode: the one whose map is registered.
    bool is_current = p.mode_ == AttachMode::link
                          ? it->ops_map_id == registered
                          : std::find(in_use.begin(), in_use.end(), it->number) != in_use.end();
    if (is_current) {
      it->current = true;
      break;
    }
  }
  p.ids_.ops_map_id = p.current() ? p.current()->ops_map_id : registered;
  return p;
}

const Generation* PinnedPlugin::current() const {
  for (const auto& g : generations_)
    if (g.current) return &g;
  return nullptr;
}

const Generation* PinnedPlugin::find(int number) const {
  for (const auto& g : generations_)
    if (g.number == number) return &g;
  return nullptr;
}

int PinnedPlugin::next_generation() const { return generations_.empty() ? 1 : generations_.back().number + 1; }

std::map<std::string, std::int64_t> PinnedPlugin::variables(const std::string& section) const {
  const Generation* g = current();
  return g ? variables(section, g->number) : std::map<std::string, std::int64_t>{};
}

std::map<std::string, std::int64_t> PinnedPlugin::variables(const std::string& section, int number) const {
  const Generation* g = find(number);
  std::error_code ec;
  if (!g || !fs::exists(g->dir / section, ec)) return {};
  return read_pinned_variables(g->dir / section);
}

std::map<std::string, std::int64_t> read_pinned_variables(const fs::path& path) {
  std::map<std::string, std::int64_t> out;
  UniqueFd fd(bpf_obj_get(path.c_str()));
  bpf_map_info info{};
  __u32 len = sizeof(info);
  if (!fd || bpf_map_get_info_by_fd(fd.get(), &info, &len) != 0)
    throw Error(Exit::failure, "can't open pinned map " + path.string() + ": " + errno_text(errno));
  BtfPtr types(btf__load_from_kernel_by_id(info.btf_id));
  if (!types) throw Error(Exit::failure, "can't read the BTF of " + path.string() + ": " + errno_text(errno));
  std::vector<std::byte> value(info.value_size);
  __u32 zero = 0;
  if (bpf_map_lookup_elem(fd.get(), &zero, value.data()) != 0)
    throw Error(Exit::failure, "can't read " + path.string() + ": " + errno_text(errno));
  for (const auto& var : datasec_vars(types.get(), info.btf_value_type_id))
    out[var.name] = read_var(value, var);
  return out;
}

void PinnedPlugin::publish(int number) {
  auto it = std::find_if(generations_.begin(), generations_.end(), [&](const auto& g) { return g.number == number; });
  if (it == generations_.end() || !it->staged) return;
  std::error_code ec;
  auto published = dir_ / generation_name(number);
  fs::rename(it->dir, published, ec);
  if (ec) throw Error(Exit::failure, "can't publish " + it->dir.string() + ": " + ec.message());
  it->dir = published;
  it->staged = false;
}

void PinnedPlugin::remove_generation(int number) {
  auto it = std::find_if(generations_.begin(), generations_.end(), [&](const auto& g) { return g.number == number; });
  if (it == generations_.end()) return;
  if (it->current)
    throw Error(Exit::failure, "refusing to unpin the registered generation of " + dir_.filename().string());
  std::error_code ec;
  fs::remove_all(it->dir, ec);
  if (ec) throw Error(Exit::failure, "can't remove " + it->dir.string() + ": " + ec.message());
  generations_.erase(it);
}

void PinnedPlugin::unregister_and_unpin() {
  std::error_code ec;
  if (mode_ == AttachMode::link) {
    // Detach first (Linux 6.11+): unregisters synchronously, even if another process still
    // holds the link open. Removing the last pin then frees the link; on kernels without
    // struct_ops link detach that removal is what unregisters (deferred to a workqueue).
    UniqueFd link(bpf_obj_get((dir_ / kLinkPin).c_str()));
    if (link) bpf_link_detach(link.get());
    fs::remove(dir_ / kLinkPin, ec);
  } else if (const Generation* g = current()) {
    UniqueFd ops(bpf_obj_get((g->dir / kOpsPin).c_str()));
    __u32 zero = 0;
    if (!ops || (bpf_map_delete_elem(ops.get(), &zero) != 0 && errno != ENOENT))
      throw Error(Exit::failure, "can't unregister " + dir_.filename().string() + ": " + errno_text(errno));
  }
  fs::remove_all(dir_, ec);
  if (ec) throw Error(Exit::failure, "can't remove " + dir_.string() + ": " + ec.message());
}

}  // namespace bpfplug
