#include "kernel/kernel_objects.hpp"

#include <bpf/bpf.h>

#include <algorithm>
#include <chrono>
#include <vector>
#include <thread>

#include "bpfplug/unique_fd.hpp"

namespace bpfplug::test {

std::set<std::uint32_t> struct_ops_prog_ids() {
  std::set<std::uint32_t> ids;
  for (__u32 id = 0; bpf_prog_get_next_id(id, &id) == 0;) {
    UniqueFd fd(bpf_prog_get_fd_by_id(id));
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (fd && bpf_prog_get_info_by_fd(fd.get(), &info, &len) == 0 && info.type == BPF_PROG_TYPE_STRUCT_OPS)
      ids.insert(id);
  }
  return ids;
}

std::set<std::uint32_t> struct_ops_map_ids() {
  std::set<std::uint32_t> ids;
  for (__u32 id = 0; bpf_map_get_next_id(id, &id) == 0;) {
    UniqueFd fd(bpf_map_get_fd_by_id(id));
    bpf_map_info info{};
    __u32 len = sizeof info;
    if (fd && bpf_map_get_info_by_fd(fd.get(), &info, &len) == 0 && info.type == BPF_MAP_TYPE_STRUCT_OPS)
      ids.insert(id);
  }
  return ids;
}

std::size_t kfunc_calls(std::uint32_t prog_id) {
  UniqueFd fd(bpf_prog_get_fd_by_id(prog_id));
  bpf_prog_info info{};
  __u32 len = sizeof info;
  if (!fd || bpf_prog_get_info_by_fd(fd.get(), &info, &len) != 0) return 0;
  std::vector<bpf_insn> insns(info.xlated_prog_len / sizeof(bpf_insn));
  info = {};
  info.xlated_prog_len = static_cast<__u32>(insns.size() * sizeof(bpf_insn));
  info.xlated_prog_insns = reinterpret_cast<__u64>(insns.data());
  len = sizeof info;
  if (bpf_prog_get_info_by_fd(fd.get(), &info, &len) != 0) return 0;
  return static_cast<std::size_t>(std::count_if(insns.begin(), insns.end(), [](const bpf_insn& insn) {
    return insn.code == (BPF_JMP | BPF_CALL) && insn.src_reg == BPF_PSEUDO_KFUNC_CALL;
  }));
}

std::set<std::uint32_t> wait_until_freed(const std::set<std::uint32_t>& prog_ids,
                                         const std::set<std::uint32_t>& map_ids) {
  std::set<std::uint32_t> left;
  for (int attempt = 0; attempt < 300; ++attempt) {
    left.clear();
    auto progs = struct_ops_prog_ids();
    auto maps = struct_ops_map_ids();
    for (auto id : prog_ids) if (progs.count(id)) left.insert(id);
    for (auto id : map_ids) if (maps.count(id)) left.insert(id);
    if (left.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return left;
}

}  // namespace bpfplug::test
