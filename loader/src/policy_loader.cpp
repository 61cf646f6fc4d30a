#include "bpfplug/policy_loader.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <system_error>
#include <vector>

#include "bpfplug/bpf_object_view.hpp"
#include "bpfplug/comp_contract.hpp"
#include "bpfplug/error.hpp"
#include "bpfplug/libbpf_raii.hpp"
#include "bpfplug/plugin_loader.hpp"
#include "bpfplug/unique_fd.hpp"
#include "pin_helpers.hpp"

namespace fs = std::filesystem;

namespace bpfplug {
namespace {

using namespace pins;

void fill_portset(bpf_map* map, const PortSet& set, const std::string& plugin) {
  if (!map)
    throw Error(Exit::usage, "plugin " + plugin + " declares a port set without its map",
                "declare port sets with BPFPLUG_PORTSET, which defines the map");
  const auto& words = set.words();
  for (std::uint32_t i = 0; i < PortSet::kWords; ++i)
    if (words[i] && bpf_map_update_elem(bpf_map__fd(map), &i, &words[i], BPF_ANY))
      throw Error(Exit::failure, "can't fill the port set " + std::string(bpf_map__name(map)) + ": " + errno_text(errno));
}

void write_first_entry(bpf_map* map, const std::vector<std::uint8_t>& value, const std::string& plugin,
                       const std::string& map_name) {
  if (!map || bpf_map__type(map) != BPF_MAP_TYPE_ARRAY || bpf_map__value_size(map) != value.size())
    throw Error(Exit::failure, "policy " + plugin + " has no array map " + map_name + " of " +
                                   std::to_string(value.size()) + "-byte values",
                "the policy and bpfplug were built from different sources; rebuild");
  std::uint32_t zero = 0;
  if (bpf_map_update_elem(bpf_map__fd(map), &zero, value.data(), BPF_ANY))
    throw Error(Exit::failure, "can't write " + map_name + " of policy " + plugin + ": " + errno_text(errno));
}

}  // namespace

fs::path policies_dir(const fs::path& pin_root) { return pin_root / "_policies"; }
fs::path comp_contract_dir(const fs::path& pin_root) { return pin_root / kCompPinDir; }

void attach_and_pin_policy(const CatalogueEntry& entry, const PolicySettings& settings, const fs::path& cgroup,
                           const fs::path& pin_dir, const fs::path& contract_dir) {
  const std::string& name = entry.meta.name;
  make_dir(contract_dir);
  BpfObjectPtr obj = open_object(entry.elf, name);
  ObjectSettings object_settings;
  object_settings.tunables = settings.tunables;
  apply_settings(obj.get(), name, object_settings);
  // The contract maps are pinned in, or reused from, the contract directory.
  for (const char* shared : {kCompReadyMap, kCompVerdictMap})
    if (bpf_map* m = bpf_object__find_map_by_name(obj.get(), shared))
      bpf_map__set_pin_path(m, (contract_dir / shared).c_str());
  if (int err = bpf_object__load(obj.get())) {
    err = std::abs(err);
    // EACCES from BPF_PROG_LOAD is the verifier's "no"; EPERM is missing capabilities.
    if (err == EPERM)
      throw Error(Exit::permission, "can't load policy " + name + ": " + errno_text(err),
                  "run as root (needs CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN)");
    if (err == EACCES)
      throw Error(Exit::failure, "the kernel's verifier rejected policy " + name,
                  "rerun with -v to see the verifier's log, and report it with this kernel's version");
    throw Error(Exit::failure, "can't load policy " + name + ": " + errno_text(err),
                "the kernel rejected the program or a pinned contract map in " + contract_dir.string() +
                    " does not match it; rerun with -v to see libbpf's and the verifier's log");
  }
  for (const auto& [set_name, set] : settings.portsets)
    fill_portset(bpf_object__find_map_by_name(obj.get(), set_name.c_str()), set, name);
  for (const auto& [map_name, value] : settings.first_entries)
    write_first_entry(bpf_object__find_map_by_name(obj.get(), map_name.c_str()), value, name, map_name);

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
  fs::path staging = partial_load_dir(pin_dir);
  std::error_code ec;
  fs::remove_all(staging, ec);
  make_dir(staging);
  DirGuard guard{staging};
  pin_or_throw(-bpf_obj_pin(bpf_link__fd(link.get()), (staging / kLinkPin).c_str()), staging / kLinkPin);
  bpf_map* map;
  bpf_object__for_each_map(map, obj.get()) {
    std::string section(data_section_of(map));
    std::string name_of_map = bpf_map__name(map);
    if (name_of_map == kCompReadyMap || name_of_map == kCompVerdictMap) continue;  // pinned above
    auto path = staging / (section.empty() ? name_of_map : section);
    pin_or_throw(-bpf_obj_pin(bpf_map__fd(map), path.c_str()), path);
  }
  fs::rename(staging, pin_dir, ec);
  if (ec) throw Error(Exit::failure, "can't publish " + pin_dir.string() + ": " + ec.message());
  guard.dir.clear();
  // The pin holds the link: destroying our handle only closes this process's fd. (Disconnecting
  // it instead would leak that fd, and a process that goes on running, such as bpfplug bench --comp,
  // would keep the policy attached after bpfplug unload removed the pin.)
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
  // Detach first (BPF_LINK_DETACH, 5.9+): removing the pin alone frees the link, and with it
  // the attachment, only when the kernel gets to it (a deferred release on 5.10 and 6.12 here),
  // so a policy loaded right after could briefly answer handshakes beside this one.
  if (UniqueFd link(bpf_obj_get((dir_ / kLinkPin).c_str())); link && bpf_link_detach(link.get()) != 0)
    spdlog::debug("BPF_LINK_DETACH of {}: {}; removing its pin detaches it", (dir_ / kLinkPin).string(),
                  errno_text(errno));
  std::error_code ec;
  fs::remove_all(dir_, ec);
  if (ec) throw Error(Exit::failure, "can't remove " + dir_.string() + ": " + ec.message());
}

}  // namespace bpfplug
