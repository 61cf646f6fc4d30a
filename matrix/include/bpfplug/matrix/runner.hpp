// One matrix run: the kernel test suite on a guest kernel under qemu, or natively on the host,
// turned into a GuestResult.
#pragma once

#include <chrono>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "bpfplug/matrix/results.hpp"

namespace bpfplug::matrix {

// Modules the kernel tests use where the guest kernel has them as modules: veth pairs, TBF and
// HTB bottlenecks, clsact + cls_bpf for the ECN marker, and the kernel's own dctcp, netem, red
// and fq for comparisons. Missing ones are noted, not fatal.
const std::vector<std::string>& default_guest_modules();
// Host programs the tests run that must not be busybox applets: a path is taken as it is, a name
// is looked up in PATH.
const std::vector<std::string>& default_guest_tools();

struct GuestRunOptions {
  std::string guest;                       // "6.1"
  std::filesystem::path kernel_dir;        // vmlinuz, release, lib/modules/RELEASE
  std::filesystem::path test_binary;       // bpfplug_kernel_tests; empty with `command`
  std::filesystem::path cli;               // bpfplug, at the path the test binary was built with
  std::string filter = "*";                // --gtest_filter
  std::string command;                     // debug: a shell command run instead of the tests
  std::vector<std::filesystem::path> extra_files;
  std::vector<std::string> modules = default_guest_modules();
  std::filesystem::path busybox = "/usr/bin/busybox";
  std::chrono::seconds timeout{900};
  unsigned memory_mb = 2048;
  std::string cpu = "max,-cx16";  // see GuestBoot::cpu
  std::filesystem::path log;               // the serial console
  std::filesystem::path keep_initramfs;    // copy the initramfs here; empty: don't
};

// Builds the initramfs in a temporary directory, boots, parses the log. Throws MatrixError when
// it cannot start the guest; a guest that hangs or dies is a result (timed_out, missing markers).
GuestResult run_guest(const GuestRunOptions& options, std::ostream& progress);

struct HostRunOptions {
  std::string guest;                  // default "MAJOR.MINOR (host)"
  std::filesystem::path cli;          // for `bpfplug --json probe`
  std::filesystem::path test_binary;  // run it here, or
  std::filesystem::path gtest_json;   // take the results of a run already made
  std::filesystem::path output;       // that run's console output (skip messages); optional
  std::string filter = "*";
  std::chrono::seconds timeout{1800};
  std::filesystem::path log;          // console output of the run made here
};

GuestResult run_host(const HostRunOptions& options, std::ostream& progress);

// "6.18 (host)": this machine's kernel as a column title.
std::string host_guest_name();

}  // namespace bpfplug::matrix
