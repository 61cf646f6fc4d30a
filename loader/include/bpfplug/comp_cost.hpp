// The user-space side of comp-cost (policies/comp_cost.bpf.c, struct_ops/bpfplug_comp_cost.h):
// its pinned maps (calibration, CPU headroom, path estimates, the ring of recent decisions),
// and the host's CPU headroom as the model reads it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "bpfplug/comp_calibration.hpp"
#include "bpfplug/unique_fd.hpp"
#include "bpfplug_comp_cost.h"

namespace bpfplug {

inline constexpr const char* kCompCostPlugin = "comp-cost";

// Percent of one CPU that is idle, from /proc/stat over `window`: the machine's idle share
// times its CPU count, capped at 100 (compressing one stream uses at most one CPU).
unsigned measure_cpu_headroom(std::chrono::milliseconds window = std::chrono::milliseconds(250));

struct PathEstimate {
  bpfplug_comp_path_key key{};
  bpfplug_comp_path value{};
  std::string address() const;  // "198.18.0.2", "2001:db8::1"
};

// A destination address as comp-cost keys it. Throws Error(usage) if `text` is no IP address.
bpfplug_comp_path_key parse_path_key(const std::string& text);

class CompCostMaps {
 public:
  // The maps of comp-cost pinned in `policy_dir` (PIN_ROOT/_policies/comp-cost). Throws Error
  // if comp-cost is not loaded there.
  explicit CompCostMaps(const std::filesystem::path& policy_dir);

  std::optional<bpfplug_comp_calibration> calibration() const;  // nullopt: never written
  void set_calibration(const bpfplug_comp_calibration& value) const;
  std::optional<bpfplug_comp_host> host() const;
  void set_headroom(unsigned percent) const;

  std::vector<PathEstimate> paths() const;
  void set_path(const bpfplug_comp_path_key& key, const bpfplug_comp_path& value) const;
  void forget_path(const bpfplug_comp_path_key& key) const;

  // The ring's decisions, oldest first.
  std::vector<bpfplug_comp_decision> decisions() const;

 private:
  UniqueFd calibration_, host_, paths_, decisions_;
};

// The "host" map's value for `percent` of headroom, stamped now.
bpfplug_comp_host headroom_value(unsigned percent);

}  // namespace bpfplug
