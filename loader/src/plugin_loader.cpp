#include "bpfplug/plugin_loader.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>
#include <vector>

#include "bpfplug/bpf_object_view.hpp"
#include "bpfplug/error.hpp"
#include "bpfplug/unique_fd.hpp"

namespace fs = std::filesystem;

namespace bpfplug {
namespace {

// Pins under a plugin's directory. "link" exists only in link mode.
constexpr const char* kLinkPin = "link";
constexpr const char* kOpsPin = "ops";
constexpr std::string_view kDataSections[] = {"rodata", "data", "bss"};

// The global-data section an internal map holds ("bss" for "dctcp.bss"), or empty.
std::string_view data_section_of(const bpf_map* map) {
  if (!bpf_map__is_internal(map)) return {};
  std::string_view name = bpf_map__name(map);
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos) return {};
  for (auto section : kDataSections)
    if (name.substr(dot + 1) == section) return section;
  return {};
}

bpf_map* find_data_map(bpf_object* obj, std::string_view section) {
  bpf_map* map;
  bpf_object__for_each_map(map, obj) {
    if (data_section_of(map) == section) return map;
  }
  return nullptr;
}

void apply_tunables(bpf_object* obj, const std::string& plugin,
                    const std::map<std::string, std::int64_t>& tunables) {
  if (tunables.empty()) return;
  bpf_map* rodata = find_data_map(obj, "rodata");
  std::size_t size = 0;
  void* image = rodata ? bpf_map__initial_value(rodata, &size) : nullptr;
  if (!image)
    throw Error(Exit::usage, "plugin " + plugin + " declares tunables but has no .rodata",
                "declare tunables with BPFPLUG_TUNABLE (const volatile globals)");
  std::span<std::byte> bytes(static_cast<std::byte*>(image), size);
  auto vars = datasec_vars(bpf_object__btf(obj), ".rodata");
  for (const auto& [name, value] : tunables) {
    auto it = std::find_if(vars.begin(), vars.end(), [&](const auto& v) { return v.name == name; });
    if (it == vars.end())
      throw Error(Exit::usage, "plugin " + plugin + ": tunable " + name + " has no .rodata variable",
                  "declare it with BPFPLUG_TUNABLE, which defines the variable");
    write_var(bytes, *it, value);
  }
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

void pin_or_throw(int err, const fs::path& path) {
  if (err)
    throw Error(Exit::failure, "can't pin " + path.string() + ": " + errno_text(err),
                "check that " + path.parent_path().string() + " is on a writable bpffs");
}

}  // namespace

KernelIds load_and_pin(const CatalogueEntry& entry, const std::map<std::string, std::int64_t>& tunables,
                       AttachMode mode, const fs::path& pin_dir) {
  // open -> configure -> load -> register -> pin (into a staging directory) -> publish.
  BpfObjectPtr obj = open_object(entry.elf, entry.meta.name);
  apply_tunables(obj.get(), entry.meta.name, tunables);

  bpf_map* ops = struct_ops_map(obj.get());
  if (mode == AttachMode::map) bpf_map__set_map_flags(ops, bpf_map__map_flags(ops) & ~BPF_F_LINK);
  else bpf_map__set_map_flags(ops, bpf_map__map_flags(ops) | BPF_F_LINK);

  if (int err = bpf_object__load(obj.get())) throw load_error(entry, err);

  BpfLinkPtr link(bpf_map__attach_struct_ops(ops));
  if (!link) throw attach_error(entry, errno);

  // bpffs reserves names with dots; a leading '_' keeps the staging directory apart from
  // plugin names (plugin_metadata.cpp forbids it there).
  fs::path staging = pin_dir.parent_path() / ("_partial_" + pin_dir.filename().string());
  std::error_code ec;
  fs::remove_all(staging, ec);
  fs::create_directories(staging, ec);
  if (ec) throw Error(Exit::failure, "can't create " + staging.string() + ": " + ec.message());
  struct DirGuard {
    fs::path dir;
    ~DirGuard() {
      std::error_code ignored;
      if (!dir.empty()) fs::remove(dir, ignored);
    }
  } staging_guard{staging};

  std::vector<PinGuard> pins;
  if (mode == AttachMode::link) {
    pin_or_throw(-bpf_link__pin(link.get(), (staging / kLinkPin).c_str()), staging / kLinkPin);
    pins.emplace_back(staging / kLinkPin);
  }
  pin_or_throw(-bpf_obj_pin(bpf_map__fd(ops), (staging / kOpsPin).c_str()), staging / kOpsPin);
  pins.emplace_back(staging / kOpsPin);
  bpf_map* map;
  bpf_object__for_each_map(map, obj.get()) {
    auto section = data_section_of(map);
    if (section.empty()) continue;
    auto path = staging / std::string(section);
    pin_or_throw(-bpf_obj_pin(bpf_map__fd(map), path.c_str()), path);
    pins.emplace_back(path);
  }

  fs::rename(staging, pin_dir, ec);
  if (ec) throw Error(Exit::failure, "can't publish pins at " + pin_dir.string() + ": " + ec.message());
  for (auto& pin : pins) pin.keep();  // now under pin_dir; the staging paths no longer exist
  staging_guard.dir.clear();

  KernelIds ids{map_id(bpf_map__fd(ops)), mode == AttachMode::link ? link_id(bpf_link__fd(link.get())) : 0};
  // In map mode destroying the libbpf link would delete the map element, unregistering the
  // ops: disconnect it so the registration outlives this process. In link mode the pin holds
  // the link and destroying the handle only closes our fd.
  if (mode == AttachMode::map) bpf_link__disconnect(link.get());
  return ids;
}

std::optional<PinnedPlugin> PinnedPlugin::open(const fs::path& pin_dir) {
  std::error_code ec;
  if (!fs::exists(pin_dir / kOpsPin, ec)) return std::nullopt;
  PinnedPlugin p;
  p.dir_ = pin_dir;
  UniqueFd ops(bpf_obj_get((pin_dir / kOpsPin).c_str()));
  if (!ops) throw Error(Exit::failure, "can't open pinned " + (pin_dir / kOpsPin).string() + ": " + errno_text(errno));
  p.ids_.ops_map_id = map_id(ops.get());
  if (fs::exists(pin_dir / kLinkPin, ec)) {
    UniqueFd link(bpf_obj_get((pin_dir / kLinkPin).c_str()));
    if (!link) throw Error(Exit::failure, "can't open pinned " + (pin_dir / kLinkPin).string() + ": " + errno_text(errno));
    p.mode_ = AttachMode::link;
    p.ids_.link_id = link_id(link.get());
  } else {
    p.mode_ = AttachMode::map;
  }
  return p;
}

std::map<std::string, std::int64_t> PinnedPlugin::variables(const std::string& section) const {
  std::map<std::string, std::int64_t> out;
  std::error_code ec;
  auto path = dir_ / section;
  if (!fs::exists(path, ec)) return out;
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

void PinnedPlugin::unregister_and_unpin() {
  std::error_code ec;
  if (mode_ == AttachMode::link) {
    // Detach first (Linux 6.11+): unregisters synchronously, even if another process still
    // holds the link open. Removing the last pin then frees the link; on kernels without
    // struct_ops link detach that removal is what unregisters (deferred to a workqueue).
    UniqueFd link(bpf_obj_get((dir_ / kLinkPin).c_str()));
    if (link) bpf_link_detach(link.get());
    fs::remove(dir_ / kLinkPin, ec);
  } else {
    UniqueFd ops(bpf_obj_get((dir_ / kOpsPin).c_str()));
    __u32 zero = 0;
    if (!ops || (bpf_map_delete_elem(ops.get(), &zero) != 0 && errno != ENOENT))
      throw Error(Exit::failure, "can't unregister " + dir_.filename().string() + ": " + errno_text(errno));
  }
  for (const auto& entry : fs::directory_iterator(dir_, ec)) fs::remove(entry.path(), ec);
  fs::remove(dir_, ec);
  if (ec) throw Error(Exit::failure, "can't remove " + dir_.string() + ": " + ec.message());
}

}  // namespace bpfplug
