// Running host programs: ldd and decompressors (output captured), qemu (bounded in time).
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace bpfplug::matrix {

struct Captured {
  int exit_code = -1;  // 128 + signal when killed
  std::string out;     // stdout (and stderr when merged)
};

// Runs argv[0] (found through PATH) and waits for it; unmerged stderr goes to ours.
Captured run_capture(const std::vector<std::string>& argv, bool merge_stderr = true);

// argv[0]'s path through PATH ("ip" -> "/usr/sbin/ip"), or empty.
std::filesystem::path find_program(const std::string& name);

// Runs argv with stdout written to `out_file`; returns the exit code.
int run_to_file(const std::vector<std::string>& argv, const std::filesystem::path& out_file);

struct Bounded {
  int exit_code = -1;  // 128 + signal when killed
  bool timed_out = false;
  double wall_seconds = 0;
};

// Runs argv in a process group of its own, stdin from /dev/null, stdout and stderr appended to
// `log`. At `timeout` the whole group is killed (SIGKILL) and timed_out is set; if this process
// dies first, the kernel kills the child too (PR_SET_PDEATHSIG). Never waits longer than timeout.
Bounded run_bounded(const std::vector<std::string>& argv, const std::filesystem::path& log,
                    std::chrono::milliseconds timeout);

}  // namespace bpfplug::matrix
