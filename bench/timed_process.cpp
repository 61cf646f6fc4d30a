#include "timed_process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace bpfplug::bench {
namespace {

double seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; }

// posix_spawn's file actions, released however run_timed() leaves.
struct FileActions {
  posix_spawn_file_actions_t actions;
  FileActions() { posix_spawn_file_actions_init(&actions); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions); }
};

}  // namespace

TimedRun run_timed(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                   const std::filesystem::path& stderr_file) {
  // Everything the child needs is prepared before the clock starts.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    if (!env.count(entry.substr(0, entry.find('=')))) env_strings.push_back(entry);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);
  FileActions fa;
  posix_spawn_file_actions_addopen(&fa.actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa.actions, STDERR_FILENO, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);

  TimedRun run;
  auto begin = std::chrono::steady_clock::now();
  pid_t pid = 0;
  if (int err = posix_spawn(&pid, args[0], &fa.actions, nullptr, args.data(), envp.data()); err != 0)
    throw std::runtime_error("can't start " + argv[0] + ": " + std::strerror(err));
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0)
    if (errno != EINTR) throw std::runtime_error("wait4 for " + argv[0] + " failed: " + std::strerror(errno));
  run.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();

  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.child_cpu_s = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  std::ifstream in(stderr_file);
  std::ostringstream text;
  text << in.rdbuf();
  run.stderr_text = text.str();
  return run;
}

}  // namespace bpfplug::bench
