#include "bench_plugins.hpp"

#include <bpf/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "bench_paths.hpp"
#include "bpfplug/error.hpp"

namespace fs = std::filesystem;

namespace bpfplug::bench {
namespace {

bool prog_info(int fd, bpf_prog_info& info) {
  info = {};
  std::uint32_t len = sizeof info;
  return bpf_prog_get_info_by_fd(fd, &info, &len) == 0;
}

// Every BPF_PROG_TYPE_STRUCT_OPS program in the kernel, opened by id.
std::vector<StructOpsProg> struct_ops_progs() {
  std::vector<StructOpsProg> progs;
  for (std::uint32_t id = 0; bpf_prog_get_next_id(id, &id) == 0;) {
    UniqueFd fd(bpf_prog_get_fd_by_id(id));
    bpf_prog_info info;
    if (!fd || !prog_info(fd.get(), info) || info.type != BPF_PROG_TYPE_STRUCT_OPS) continue;
    progs.push_back({id, info.name, std::move(fd)});
  }
  return progs;
}

}  // namespace

ProgCounters read_counters(const StructOpsProg& prog) {
  bpf_prog_info info;
  if (!prog_info(prog.fd.get(), info))
    throw Error(Exit::failure, "can't read bpf_prog_info of " + prog.name + ": " + errno_text(errno));
  return {info.run_cnt, info.run_time_ns};
}

BenchPlugins::BenchPlugins() : manager_(host_, Catalogue::builtin(), private_paths()) {}

BenchPlugins::~BenchPlugins() {
  for (auto it = loaded_.rbegin(); it != loaded_.rend(); ++it) {
    try {
      manager_.unload(*it, /*force=*/true);
    } catch (const std::exception& e) {
      std::cerr << "warning: can't unload plugin " << *it << ": " << e.what() << "\n"
                << "hint: BPFPLUG_PIN_ROOT=" << manager_.paths().pin_root.string()
                << " BPFPLUG_STATE_DIR=" << manager_.paths().state_dir.string() << " bpfplug unload --all --force\n";
    }
  }
  std::error_code ec;
  fs::remove_all(manager_.paths().state_dir, ec);
  fs::remove(manager_.paths().pin_root, ec);  // only if empty: pins left by a failed unload stay visible
}

std::string BenchPlugins::ops_name(const std::string& plugin) const {
  return manager_.catalogue().get(plugin).ops_name;
}

std::vector<StructOpsProg> BenchPlugins::load(const std::string& plugin) {
  std::set<std::uint32_t> before;
  for (const auto& p : struct_ops_progs()) before.insert(p.id);
  manager_.load(plugin, LoadOptions{});
  loaded_.push_back(plugin);
  auto progs = struct_ops_progs();
  std::erase_if(progs, [&](const StructOpsProg& p) { return before.count(p.id) > 0; });
  std::sort(progs.begin(), progs.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return progs;
}

std::vector<std::string> stale_root_hints() {
  std::vector<std::string> hints;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/sys/fs/bpf", ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with("bpfplug-bench-")) continue;
    std::string pid = name.substr(std::string("bpfplug-bench-").size());
    if (fs::exists("/proc/" + pid, ec)) continue;
    hints.push_back(entry.path().string() + " was left by a benchmark that died; remove it with BPFPLUG_PIN_ROOT=" +
                    entry.path().string() + " BPFPLUG_STATE_DIR=/tmp/" + name + " bpfplug unload --all --force");
  }
  return hints;
}

BpfStatsOn::BpfStatsOn() : fd_(bpf_enable_stats(BPF_STATS_RUN_TIME)) {
  if (!fd_) throw Error(Exit::failure, "can't enable BPF run-time statistics (BPF_ENABLE_STATS): " + errno_text(errno));
}

bool bpf_stats_sysctl_on() {
  std::ifstream in("/proc/sys/kernel/bpf_stats_enabled");
  int value = 0;
  in >> value;
  return value != 0;
}

}  // namespace bpfplug::bench
