// One run of a program, timed from before posix_spawn to after wait4 returns: what a user waits
// for when typing a bpfplug command (exec, dynamic linking, start-up, the work, exit).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace bpfplug::bench {

struct TimedRun {
  int exit_code = -1;       // 128 + signal if it was killed
  double wall_s = 0;        // posix_spawn .. wait4
  double child_cpu_s = 0;   // user + system CPU of the child (wait4's rusage)
  std::string stderr_text;  // what it printed on stderr (stdout goes to /dev/null)
};

// Runs argv[0] (a path) with `env` added to this process's environment. stderr is collected in
// `stderr_file`, read back only after the clock stopped. Throws std::runtime_error if it can't start.
TimedRun run_timed(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                   const std::filesystem::path& stderr_file);

}  // namespace bpfplug::bench
