// A Host for unit tests: privileges, kernel features and bpffs behaviour are whatever the test
// says; sysctls live in a temporary directory the test can inspect.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "bpfplug/error.hpp"
#include "bpfplug/host.hpp"
#include "test_files.hpp"

namespace bpfplug::test {

// The three congestion-control sysctl files FakeHost writes, concatenated: compare two
// snapshots to check that nothing was changed.
inline std::string congestion_sysctl_snapshot(const std::filesystem::path& sysctl_root) {
  std::string all;
  for (const char* knob : {"tcp_available_congestion_control", "tcp_allowed_congestion_control",
                           "tcp_congestion_control"})
    all += std::string(knob) + "=" + read_file(sysctl_root / "net/ipv4" / knob) + "|";
  return all;
}

class FakeHost final : public Host {
 public:
  explicit FakeHost(const std::filesystem::path& sysctl_root) : sysctl_(sysctl_root) {
    write_file(sysctl_root / "net/ipv4/tcp_available_congestion_control", "reno bbr cubic\n");
    write_file(sysctl_root / "net/ipv4/tcp_allowed_congestion_control", "reno bbr\n");
    write_file(sysctl_root / "net/ipv4/tcp_congestion_control", "bbr\n");
    features_.release = "6.18.0-fake";
    features_.btf = features_.struct_ops = features_.struct_ops_link = true;
    features_.cc_kfuncs = features_.hdr_options = features_.bpffs_mounted = true;
    features_.cc_setsockopt = true;
  }

  bool privileged() const override { return privileged_; }
  KernelFeatures features() const override { return features_; }
  void ensure_bpffs(const std::filesystem::path& mount_point) override {
    ++ensure_bpffs_calls;
    if (!bpffs_mountable)
      throw Error(Exit::unsupported, "bpffs is not mounted at " + mount_point.string() + " and mounting it failed",
                  "mount it yourself");
  }
  const Sysctl& sysctl() const override { return sysctl_; }
  void exec_program(const ProgramLaunch& launch) override { launched.push_back(launch); }

  bool privileged_ = true;
  std::vector<ProgramLaunch> launched;  // bpfplug run's programs, not run
  KernelFeatures features_;
  bool bpffs_mountable = true;
  int ensure_bpffs_calls = 0;

 private:
  Sysctl sysctl_;
};

}  // namespace bpfplug::test
