// The seam between bpfplug's logic and the host: privileges, kernel features, bpffs, sysctl.
// LinuxHost is the real one; tests substitute their own to simulate hosts they cannot be.
#pragma once

#include <filesystem>
#include <optional>

#include "bpfplug/features.hpp"
#include "bpfplug/program_launch.hpp"
#include "bpfplug/sysctl.hpp"

namespace bpfplug {

class Host {
 public:
  virtual ~Host() = default;
  virtual bool privileged() const = 0;
  virtual KernelFeatures features() const = 0;
  // Makes sure bpffs is mounted at `mount_point`, mounting it if not. Throws Error if it can't.
  virtual void ensure_bpffs(const std::filesystem::path& mount_point) = 0;
  virtual const Sysctl& sysctl() const = 0;
  // Runs the program in place of this process (bpfplug run). Returns only where a test host
  // records it; throws Error if the maps can't be opened or the program can't be executed.
  virtual void exec_program(const ProgramLaunch& launch) = 0;
};

class LinuxHost final : public Host {
 public:
  explicit LinuxHost(std::filesystem::path bpffs = "/sys/fs/bpf") : bpffs_(std::move(bpffs)) {}
  bool privileged() const override;
  KernelFeatures features() const override;
  void ensure_bpffs(const std::filesystem::path& mount_point) override;
  const Sysctl& sysctl() const override { return sysctl_; }
  [[noreturn]] void exec_program(const ProgramLaunch& launch) override;

 private:
  std::filesystem::path bpffs_;
  Sysctl sysctl_;
  mutable std::optional<KernelFeatures> kernel_;  // probed once (it loads test programs)
};

bool is_bpffs(const std::filesystem::path& path);

}  // namespace bpfplug
