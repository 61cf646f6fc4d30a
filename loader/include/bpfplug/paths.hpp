// Where bpfplug keeps things: pins in bpffs, bookkeeping under /run (both vanish at reboot,
// together). Both can be moved with environment variables, which the kernel tests use to stay
// apart from a bpfplug the host may already run.
#pragma once

#include <filesystem>
#include <string_view>

namespace bpfplug {

struct Paths {
  std::filesystem::path pin_root = "/sys/fs/bpf/bpfplug";  // BPFPLUG_PIN_ROOT
  std::filesystem::path state_dir = "/run/bpfplug";         // BPFPLUG_STATE_DIR
  std::filesystem::path config_dir = "/etc/bpfplug";        // BPFPLUG_CONFIG_DIR: what to load at boot

  // bpffs must be mounted here: the directory that holds pin_root.
  std::filesystem::path bpffs() const { return pin_root.parent_path(); }
  std::filesystem::path plugin_dir(std::string_view plugin) const { return pin_root / plugin; }
  std::filesystem::path state_file() const { return state_dir / "state.json"; }
  std::filesystem::path lock_file() const { return state_dir / "lock"; }
  // What a policy set in openEuler tcp_comp's sysctls (kernel_comp.hpp).
  std::filesystem::path tcp_comp_record() const { return state_dir / "tcp_comp.json"; }
  std::filesystem::path config_file() const { return config_dir / "boot.json"; }

  static Paths from_environment();
};

}  // namespace bpfplug
