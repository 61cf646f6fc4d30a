#include "bpfplug/host.hpp"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>

#include "bpfplug/error.hpp"

namespace bpfplug {

bool is_bpffs(const std::filesystem::path& path) {
  struct statfs st {};
  return statfs(path.c_str(), &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

bool LinuxHost::privileged() const { return geteuid() == 0; }

KernelFeatures LinuxHost::features() const {
  // The kernel does not change under a running bpfplug; whether bpffs is mounted may.
  if (!kernel_) kernel_ = probe_kernel(bpffs_);
  KernelFeatures f = *kernel_;
  f.bpffs_mounted = is_bpffs(bpffs_);
  return f;
}

void LinuxHost::ensure_bpffs(const std::filesystem::path& mount_point) {
  if (is_bpffs(mount_point)) return;
  if (mount("bpf", mount_point.c_str(), "bpf", 0, "mode=0700") != 0) {
    int err = errno;
    throw Error(Exit::unsupported,
                "bpffs is not mounted at " + mount_point.string() + " and mounting it failed: " + errno_text(err),
                "mount it yourself (mount -t bpf bpf " + mount_point.string() +
                    ") or set BPFPLUG_PIN_ROOT to a directory on a mounted bpffs");
  }
}

}  // namespace bpfplug
