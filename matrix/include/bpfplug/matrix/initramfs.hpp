// Builds the guest's initramfs: the host files the run needs at their own absolute paths (the
// kernel test binary spawns bpfplug at the path it was compiled with), their shared libraries,
// busybox with its applets, host tools that must be the real ones, the guest kernel's modules
// and the generated /init.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "bpfplug/matrix/init_script.hpp"
#include "bpfplug/matrix/kernel_modules.hpp"

namespace bpfplug::matrix {

struct InitramfsSpec {
  // Host files, copied to the same absolute path; ELF files bring their shared libraries (ldd).
  std::vector<std::filesystem::path> files;
  // Host programs that must be the real thing, not busybox applets of the same name (iproute2's
  // ip and tc, ethtool, procps' sysctl). Same path in the guest, with their libraries.
  std::vector<std::filesystem::path> tools;
  // Static busybox, installed as /bin/busybox with a link for each applet it lists.
  std::filesystem::path busybox = "/usr/bin/busybox";
  // A kernel directory of matrix/fetch-kernels.sh: `release`, lib/modules/RELEASE/modules.dep.
  std::filesystem::path kernel_dir;
  std::vector<std::string> modules;  // names to insmod in the guest, with their dependencies
  InitSpec init;                     // the builder fills in init.modules
};

struct InitramfsReport {
  std::string release;                // the guest kernel's uname -r
  std::vector<WantedModule> modules;  // what became of each requested module
  std::size_t entries = 0;
  std::uintmax_t bytes = 0;
};

// The release written by fetch-kernels.sh in KERNEL_DIR/release.
std::string kernel_release(const std::filesystem::path& kernel_dir);

// Writes `archive` (uncompressed newc cpio); decompressed modules are staged in `work_dir`.
// Throws MatrixError when a file, a library or busybox is missing.
InitramfsReport build_initramfs(const InitramfsSpec& spec, const std::filesystem::path& work_dir,
                                const std::filesystem::path& archive);

}  // namespace bpfplug::matrix
