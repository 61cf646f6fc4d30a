#include "bpfplug/matrix/subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "bpfplug/matrix/error.hpp"

namespace bpfplug::matrix {
namespace {

std::vector<char*> c_argv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

int exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

// Forks; the child gets `stdout_fd` (and stderr too when `merge_stderr`) and execs argv.
pid_t spawn(std::vector<std::string> args, int stdout_fd, bool merge_stderr, bool own_group) {
  if (args.empty()) throw MatrixError("internal: empty command");
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throw MatrixError("can't fork for " + args[0] + ": " + std::strerror(errno));
  if (pid == 0) {
    if (own_group) {
      setpgid(0, 0);
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(126);  // the parent died before prctl
    }
    int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, STDIN_FILENO);
    dup2(stdout_fd, STDOUT_FILENO);
    if (merge_stderr) dup2(stdout_fd, STDERR_FILENO);
    auto argv = c_argv(args);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

Captured run_capture(const std::vector<std::string>& argv, bool merge_stderr) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw MatrixError(std::string("can't create a pipe: ") + std::strerror(errno));
  pid_t pid = spawn(argv, fds[1], merge_stderr, false);
  close(fds[1]);
  Captured result;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) result.out.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = exit_code_of(status);
  return result;
}

std::filesystem::path find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin";
  for (std::size_t start = 0; start <= dirs.size();) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::filesystem::path candidate = std::filesystem::path(dirs.substr(start, end - start)) / name;
    if (access(candidate.c_str(), X_OK) == 0 && std::filesystem::is_regular_file(candidate)) return candidate;
    start = end + 1;
  }
  return {};
}

int run_to_file(const std::vector<std::string>& argv, const std::filesystem::path& out_file) {
  int fd = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw MatrixError("can't write " + out_file.string() + ": " + std::strerror(errno));
  pid_t pid = spawn(argv, fd, false, false);
  close(fd);
  int status = 0;
  waitpid(pid, &status, 0);
  return exit_code_of(status);
}

Bounded run_bounded(const std::vector<std::string>& argv, const std::filesystem::path& log,
                    std::chrono::milliseconds timeout) {
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw MatrixError("can't write " + log.string() + ": " + std::strerror(errno));
  auto start = std::chrono::steady_clock::now();
  pid_t pid = spawn(argv, fd, true, true);
  close(fd);
  setpgid(pid, pid);  // also from this side, so the kill below never races the child's setpgid

  Bounded result;
  int status = 0;
  for (;;) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() - start >= timeout) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      result.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  result.exit_code = exit_code_of(status);
  result.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace bpfplug::matrix
