#include "bpfplug/policy_loader.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>

#include <system_error>
#include <vector>

#include "bpfplug/bpf_object_view.hpp"
#include "bpfplug/comp_contract.hpp"
#include "bpfplug/error.hpp"
#include "bpfplug/libbpf_raii.hpp"
#include "bpfplug/plugin_loader.hpp"
#include "bpfplug/unique_fd.hpp"

namespace fs = std::filesystem;

namespace bpfplug {
namespace {

constexpr const char* kLinkPin = "link";
constexpr const char* kPartialPrefix = "_partial_";
constexpr const char* kDataSections[] = {"rodata", "data", "bss"};

void make_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(Exit::failure, "can't create " + dir.string() + ": " + ec.message());
}

void pin_or_throw(int fd, const fs::path& path) {
  if (bpf_obj_pin(fd, path.c_str()))
    throw Error(Exit::failure, "can't pin " + path.string() + ": " + errno_text(errno),
                "check that " + path.parent_path().string() + " is on a writable bpffs");
}

// The global-data section an internal map holds ("bss" for "comp_por.bss"), or empty.
std::string data_section_of(const bpf_map* map) {
  if (!bpf_map__is_internal(map)) return {};
  std::string name = bpf_map__name(map);
  auto dot = name.rfind('.');
  if (dot == std::string::npos) return {};
  for (const char* section : kDataSections)
    if (name.substr(dot + 1) == section) return section;
  return {};
}

void fill_portset(bpf_map* map, const PortSet& set, const std::string& plugin) {
  if (!map)
    throw Error(Exit::usage, "plugin " + plugin + " declares a port set without its map",
                "declare port sets with BPFPLUG_PORTSET, which defines the map");
  const auto& words = set.words();
  for (std::uint32_t i = 0; i < PortSet::kWords; ++i)
    if (words[i] && bpf_map_update_elem(bpf_map__fd(map), &i, &words[i], BPF_ANY))
      throw Error(Exit::failure, "can't fill the port set " + std::string(bpf_map__name(map)) + ": " + errno_text(errno));
}

std::uint32_t prog_id_of(int fd) {
  bpf_prog_info info{};
  __u32 len = sizeof(info);
  return bpf_prog_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

// Removes a directory tree in bpffs, also on error paths, unless released.
struct DirGuard {
  fs::path dir;
  ~DirGuard() {
    std::error_code ignored;
    if (!dir.empty()) fs::remove_all(dir, ignored);
  }
};

}  // namespace

fs::path policies_dir(const fs::path& pin_root) { return pin_root / "_policies"; }
fs::path comp_contract_dir(const fs::path& pin_root) { return pin_root / kCompPinDir; }

PolicyIds attach_and_pin_policy(const CatalogueEntry& entry, const PolicySettings& settings, const fs::path& cgroup,
                                const fs::path& pin_dir, const fs::path& contract_dir) {
  const std::string& name = entry.meta.name;
  make_dir(contract_dir);
  BpfObjectPtr obj = open_object(entry.elf, name);
  ObjectSettings object_settings;
  object_settings.tunables = settings.tunables;
  apply_settings(obj.get(), name, object_settings);
  // Maps declared with LIBBPF_PIN_BY_NAME (the contract) are pinned in, or reused from, here.
  bpf_map* map;
  bpf_object__for_each_map(map, obj.get()) {
    if (bpf_map__pin_path(map) || !bpf_map__is_internal(map)) {
      std::string mname = bpf_map__name(map);
      if (mname == kCompReadyMap || mname == kCompVerdictMap)
        bpf_map__set_pin_path(map, (contract_dir / mname).c_str());
    }
  }
  if (int err = bpf_object__load(obj.get())) {
    err = std::abs(err);
    if (err == EPERM || err == EACCES)
      throw Error(Exit::permission, "can't load policy " + name + ": " + errno_text(err),
                  "run as root (needs CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN)");
    throw Error(Exit::failure, "can't load policy " + name + ": " + errno_text(err),
                "the kernel rejected the program or a pinned contract map in " + contract_dir.string() +
                    " does not match it; rerun with -v to see libbpf's and the verifier's log");
  }
  for (const auto& [set_name, set] : settings.portsets)
    fill_portset(bpf_object__find_map_by_name(obj.get(), set_name.c_str()), set, name);

  bpf_program* prog = bpf_object__next_program(obj.get(), nullptr);
  if (!prog) throw Error(Exit::usage, "policy " + name + " has no program", "end it with BPFPLUG_COMP_POLICY_PROGRAM()");
  UniqueFd cgroup_fd(::open(cgroup.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cgroup_fd)
    throw Error(Exit::usage, "can't open cgroup " + cgroup.string() + ": " + errno_text(errno),
                "give a cgroup v2 directory with --cgroup (default: the root of the cgroup v2 hierarchy)");
  BpfLinkPtr link(bpf_program__attach_cgroup(prog, cgroup_fd.get()));
  if (!link)
    throw Error(Exit::failure, "can't attach policy " + name + " to " + cgroup.string() + ": " + errno_text(errno),
                "the kernel needs cgroup BPF links (5.7+) and a cgroup v2 directory");

  // Pin into a staging directory, then publish it with one rename.
  fs::path staging = pin_dir.parent_path() / (kPartialPrefix + pin_dir.filename().string());
  std::error_code ec;
  fs::remove_all(staging, ec);
  make_dir(staging);
  DirGuard guard{staging};
  pin_or_throw(bpf_link__fd(link.get()), staging / kLinkPin);
  bpf_object__for_each_map(map, obj.get()) {
    std::string section = data_section_of(map);
    std::string mname = bpf_map__name(map);
    if (!section.empty()) pin_or_throw(bpf_map__fd(map), staging / section);
    else if (settings.portsets.count(mname)) pin_or_throw(bpf_map__fd(map), staging / mname);
  }
  fs::rename(staging, pin_dir, ec);
  if (ec) throw Error(Exit::failure, "can't publish " + pin_dir.string() + ": " + ec.message());
  guard.dir.clear();
  bpf_link__disconnect(link.get());  // pinned: it stays attached after this process

  PolicyIds ids;
  ids.prog_id = prog_id_of(bpf_program__fd(prog));
  bpf_link_info info{};
  __u32 len = sizeof(info);
  if (bpf_link_get_info_by_fd(bpf_link__fd(link.get()), &info, &len) == 0) {
    ids.link_id = info.id;
    ids.cgroup_id = info.cgroup.cgroup_id;
  }
  return ids;
}

std::optional<PinnedPolicy> PinnedPolicy::open(const fs::path& pin_dir) {
  std::error_code ec;
  if (!fs::exists(pin_dir / kLinkPin, ec)) return std::nullopt;
  PinnedPolicy p;
  p.dir_ = pin_dir;
  UniqueFd link(bpf_obj_get((pin_dir / kLinkPin).c_str()));
  if (!link)
    throw Error(Exit::failure, "can't open pinned " + (pin_dir / kLinkPin).string() + ": " + errno_text(errno));
  bpf_link_info info{};
  __u32 len = sizeof(info);
  if (bpf_link_get_info_by_fd(link.get(), &info, &len) == 0) {
    p.ids_.link_id = info.id;
    p.ids_.prog_id = info.prog_id;
    p.ids_.cgroup_id = info.cgroup.cgroup_id;
  }
  return p;
}

std::map<std::string, std::int64_t> PinnedPolicy::variables(const std::string& section) const {
  std::error_code ec;
  if (!fs::exists(dir_ / section, ec)) return {};
  return read_pinned_variables(dir_ / section);
}

PortSet PinnedPolicy::portset(const std::string& name) const {
  UniqueFd fd(bpf_obj_get((dir_ / name).c_str()));
  if (!fd) throw Error(Exit::failure, "can't open pinned " + (dir_ / name).string() + ": " + errno_text(errno));
  PortSet::Words words{};
  for (std::uint32_t i = 0; i < PortSet::kWords; ++i)
    if (bpf_map_lookup_elem(fd.get(), &i, &words[i]))
      throw Error(Exit::failure, "can't read " + (dir_ / name).string() + ": " + errno_text(errno));
  return PortSet::from_words(words);
}

void PinnedPolicy::detach_and_unpin() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
  if (ec) throw Error(Exit::failure, "can't remove " + dir_.string() + ": " + ec.message());
}

}  // namespace bpfplug
