#include "bpfplug/host.hpp"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <fcntl.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "bpfplug/comp_contract.hpp"
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

namespace {

// The pinned map at `path`, as a descriptor the program inherits, above the numbers programs
// usually pick for themselves.
int open_for_program(const std::filesystem::path& path) {
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0)
    throw Error(Exit::failure, "can't open " + path.string() + ": " + errno_text(errno),
                "is a compression policy loaded? (bpfplug status)");
  int high = fcntl(fd, F_DUPFD, 64);  // no FD_CLOEXEC: it must survive the exec
  close(fd);
  if (high < 0) throw Error(Exit::failure, "can't pass " + path.string() + " on: " + errno_text(errno));
  return high;
}

}  // namespace

void LinuxHost::exec_program(const ProgramLaunch& launch) {
  int ready = open_for_program(launch.contract_dir / kCompReadyMap);
  int verdict = open_for_program(launch.contract_dir / kCompVerdictMap);
  for (const auto& [name, value] : launch_environment(launch, ready, verdict, std::getenv("LD_PRELOAD")))
    setenv(name.c_str(), value.c_str(), 1);
  std::vector<char*> argv;
  for (const auto& a : launch.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  int err = errno;
  throw Error(Exit::failure,
              "can't run " + launch.argv[0] + ": " + errno_text(err),
              err == ENOENT ? "check the program's name and PATH" : "check that it is an executable file");
}

}  // namespace bpfplug
