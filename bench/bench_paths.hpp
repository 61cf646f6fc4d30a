// Where a benchmark keeps its plugins: a pin root and state directory of its own
// (/sys/fs/bpf/bpfplug-bench-<pid>, /tmp/bpfplug-bench-<pid>), so a bpfplug the host runs is
// never touched, and a boot config that is not the host's.
#pragma once

#include <unistd.h>

#include <string>

#include "bpfplug/paths.hpp"

namespace bpfplug::bench {

inline Paths private_paths() {
  std::string stem = "bpfplug-bench-" + std::to_string(getpid());
  Paths paths;
  paths.pin_root = std::filesystem::path("/sys/fs/bpf") / stem;
  paths.state_dir = std::filesystem::path("/tmp") / stem;
  paths.config_dir = paths.state_dir / "config";
  return paths;
}

}  // namespace bpfplug::bench
