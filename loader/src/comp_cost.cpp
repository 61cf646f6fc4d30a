#include "bpfplug/comp_cost.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "bpfplug/error.hpp"

namespace fs = std::filesystem;

namespace bpfplug {
namespace {

struct CpuTimes {
  unsigned long long idle = 0, total = 0;
  unsigned cpus = 0;
};

CpuTimes read_proc_stat() {
  std::ifstream in("/proc/stat");
  if (!in) throw Error(Exit::failure, "can't read /proc/stat", "comp-cost's CPU headroom needs procfs mounted");
  CpuTimes t;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("cpu", 0) != 0) break;
    std::istringstream fields(line);
    std::string name;
    fields >> name;
    if (name != "cpu") {
      ++t.cpus;
      continue;
    }
    // user nice system idle iowait irq softirq steal (guest time is inside user/nice).
    unsigned long long v[8] = {};
    for (auto& x : v) fields >> x;
    t.idle = v[3] + v[4];
    for (auto x : v) t.total += x;
  }
  return t;
}

UniqueFd open_pinned(const fs::path& path) {
  UniqueFd fd(bpf_obj_get(path.c_str()));
  if (!fd)
    throw Error(Exit::failure, "can't open " + path.string() + ": " + errno_text(errno),
                "load the policy first: bpfplug load comp-cost");
  return fd;
}

std::uint64_t now_realtime() { return static_cast<std::uint64_t>(std::time(nullptr)); }

}  // namespace

unsigned measure_cpu_headroom(std::chrono::milliseconds window) {
  CpuTimes a = read_proc_stat();
  std::this_thread::sleep_for(window);
  CpuTimes b = read_proc_stat();
  if (b.total <= a.total) return 100;
  double idle_share = static_cast<double>(b.idle - a.idle) / static_cast<double>(b.total - a.total);
  double one_cpu_pct = idle_share * std::max(1u, b.cpus) * 100;
  return static_cast<unsigned>(std::clamp(one_cpu_pct, 0.0, 100.0));
}

std::string PathEstimate::address() const {
  char text[INET6_ADDRSTRLEN] = "";
  inet_ntop(key.family == AF_INET ? AF_INET : AF_INET6, key.addr, text, sizeof text);
  return text;
}

bpfplug_comp_path_key parse_path_key(const std::string& text) {
  bpfplug_comp_path_key key{};
  if (inet_pton(AF_INET, text.c_str(), key.addr) == 1) {
    key.family = AF_INET;
  } else if (inet_pton(AF_INET6, text.c_str(), key.addr) == 1) {
    key.family = AF_INET6;
  } else {
    throw Error(Exit::usage, "'" + text + "' is not an IPv4 or IPv6 address", "give a destination such as 198.18.0.2");
  }
  return key;
}

bpfplug_comp_host headroom_value(unsigned percent) {
  return bpfplug_comp_host{std::min(percent, 100u), 0, now_realtime()};
}

CompCostMaps::CompCostMaps(const fs::path& policy_dir)
    : calibration_(open_pinned(policy_dir / "calibration")),
      host_(open_pinned(policy_dir / "host")),
      paths_(open_pinned(policy_dir / "paths")),
      decisions_(open_pinned(policy_dir / "decisions")) {}

std::optional<bpfplug_comp_calibration> CompCostMaps::calibration() const {
  std::uint32_t zero = 0;
  bpfplug_comp_calibration v{};
  if (bpf_map_lookup_elem(calibration_.get(), &zero, &v) || !v.codec) return std::nullopt;
  return v;
}

void CompCostMaps::set_calibration(const bpfplug_comp_calibration& value) const {
  std::uint32_t zero = 0;
  if (bpf_map_update_elem(calibration_.get(), &zero, &value, BPF_ANY))
    throw Error(Exit::failure, "can't write comp-cost's calibration: " + errno_text(errno));
}

std::optional<bpfplug_comp_host> CompCostMaps::host() const {
  std::uint32_t zero = 0;
  bpfplug_comp_host v{};
  if (bpf_map_lookup_elem(host_.get(), &zero, &v) || !v.updated_at) return std::nullopt;
  return v;
}

void CompCostMaps::set_headroom(unsigned percent) const {
  std::uint32_t zero = 0;
  auto value = headroom_value(percent);
  if (bpf_map_update_elem(host_.get(), &zero, &value, BPF_ANY))
    throw Error(Exit::failure, "can't write comp-cost's CPU headroom: " + errno_text(errno));
}

std::vector<PathEstimate> CompCostMaps::paths() const {
  std::vector<PathEstimate> out;
  bpfplug_comp_path_key key{}, next{};
  const void* prev = nullptr;
  while (bpf_map_get_next_key(paths_.get(), prev, &next) == 0) {
    PathEstimate e;
    e.key = next;
    if (bpf_map_lookup_elem(paths_.get(), &next, &e.value) == 0) out.push_back(e);
    key = next;
    prev = &key;
  }
  return out;
}

void CompCostMaps::set_path(const bpfplug_comp_path_key& key, const bpfplug_comp_path& value) const {
  if (bpf_map_update_elem(paths_.get(), &key, &value, BPF_ANY))
    throw Error(Exit::failure, "can't write comp-cost's path estimate: " + errno_text(errno));
}

void CompCostMaps::forget_path(const bpfplug_comp_path_key& key) const {
  if (bpf_map_delete_elem(paths_.get(), &key) && errno != ENOENT)
    throw Error(Exit::failure, "can't remove comp-cost's path estimate: " + errno_text(errno));
}

std::vector<bpfplug_comp_decision> CompCostMaps::decisions() const {
  std::vector<bpfplug_comp_decision> out;
  for (std::uint32_t i = 0; i < BPFPLUG_COMP_DECISIONS; ++i) {
    bpfplug_comp_decision d{};
    if (bpf_map_lookup_elem(decisions_.get(), &i, &d) == 0 && d.seq) out.push_back(d);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
  return out;
}

}  // namespace bpfplug
