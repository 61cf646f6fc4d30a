#include "peer_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bpfplug/error.hpp"
#include "bpfplug/host.hpp"

namespace bpfplug::bench {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void child_fail(const std::string& what) {
  std::string line = "bpfplug bench: peer: " + what + "\n";
  (void)!::write(2, line.data(), line.size());
  _exit(127);
}

// Runs in the child between fork and exec.
[[noreturn]] void become(const PeerSpawn& spawn, int out_fd, int in_fd) {
  if (dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0 || dup2(in_fd, 0) < 0) _exit(127);
  int ns = open(("/run/netns/" + spawn.netns).c_str(), O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWNET)) child_fail("can't enter netns " + spawn.netns + ": " + std::strerror(errno));
  if (!spawn.cgroup.empty()) {
    int procs = open((spawn.cgroup / "cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    if (procs < 0 || ::write(procs, "0", 1) != 1)
      child_fail("can't enter cgroup " + spawn.cgroup.string() + ": " + std::strerror(errno));
  }
  if (spawn.data_path) {
    try {
      LinuxHost().exec_program(*spawn.data_path);
    } catch (const std::exception& e) {
      child_fail(e.what());
    }
  }
  std::vector<char*> argv;
  for (const auto& a : spawn.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  child_fail("can't run " + spawn.argv[0] + ": " + std::strerror(errno));
}

}  // namespace

PeerProcess::PeerProcess(const PeerSpawn& spawn) {
  int out[2], in[2];
  if (pipe2(out, O_CLOEXEC)) throw Error(Exit::failure, "pipe: " + errno_text(errno));
  UniqueFd out_read(out[0]), out_write(out[1]);
  if (pipe2(in, O_CLOEXEC)) throw Error(Exit::failure, "pipe: " + errno_text(errno));
  UniqueFd in_read(in[0]), in_write(in[1]);
  pid_ = fork();
  if (pid_ < 0) throw Error(Exit::failure, "fork: " + errno_text(errno));
  if (pid_ == 0) become(spawn, out_write.get(), in_read.get());
  out_ = std::move(out_read);
  in_ = std::move(in_write);
}

PeerProcess::~PeerProcess() {
  if (pid_ > 0 && status_ == -1) {
    kill(pid_, SIGKILL);
    reap(true);
  }
}

bool PeerProcess::read_some(std::chrono::milliseconds timeout) {
  pollfd p{out_.get(), POLLIN, 0};
  int r = poll(&p, 1, static_cast<int>(timeout.count()));
  if (r <= 0) return true;  // nothing yet (or EINTR): not the end
  char buf[4096];
  ssize_t n = read(out_.get(), buf, sizeof buf);
  if (n <= 0) return n < 0 && errno == EINTR;
  output_.append(buf, static_cast<std::size_t>(n));
  return true;
}

bool PeerProcess::reap(bool block) {
  int status = 0;
  pid_t r;
  do r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r != pid_) return false;
  status_ = status;
  return true;
}

bool PeerProcess::wait_for_line(const std::string& line, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    for (std::size_t nl; (nl = output_.find('\n', scanned_)) != std::string::npos; scanned_ = nl + 1)
      if (output_.compare(scanned_, nl - scanned_, line) == 0) {
        scanned_ = nl + 1;
        return true;
      }
    if (Clock::now() >= deadline || status_ != -1) return false;
    if (!read_some(std::chrono::milliseconds(20)) && reap(true)) return false;
  }
}

bool PeerProcess::wait(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (status_ == -1) {
    if (Clock::now() >= deadline) {
      kill(pid_, SIGKILL);
      reap(true);
      drain();
      return false;
    }
    if (!read_some(std::chrono::milliseconds(20))) reap(true);
    else reap(false);
  }
  drain();
  return true;
}

void PeerProcess::drain() {
  for (pollfd p{out_.get(), POLLIN, 0}; poll(&p, 1, 0) > 0 && output_.size() < (1u << 20);)
    if (!read_some(std::chrono::milliseconds(0))) break;
}

bool PeerProcess::send_line(const std::string& line) {
  // A peer that died meanwhile must not take the benchmark with it (SIGPIPE): the write fails
  // with EPIPE instead, with SIGPIPE blocked for this thread and a pending one taken back.
  sigset_t pipe_signal, old;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &old);
  std::string text = line + "\n";
  bool ok = ::write(in_.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
  timespec zero{};
  if (!ok && errno == EPIPE) sigtimedwait(&pipe_signal, nullptr, &zero);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return ok;
}

bool PeerProcess::exited_ok() const { return status_ != -1 && WIFEXITED(status_) && WEXITSTATUS(status_) == 0; }

std::string PeerProcess::last_json_line() const {
  std::size_t end = output_.size();
  while (end > 0) {
    std::size_t start = output_.rfind('\n', end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    std::string line = output_.substr(start, end - start);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (!line.empty() && line.front() == '{' && line.back() == '}') return line;
    if (start == 0) break;
    end = start - 1;
  }
  return {};
}

}  // namespace bpfplug::bench
