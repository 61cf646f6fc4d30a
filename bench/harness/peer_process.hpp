// A benchmark program started in one of the testbed's network namespaces and in a cgroup of
// the benchmark's own (where the compression policy is attached), with the data path's
// preload library or without it; its output (stdout and stderr, one pipe) is collected and its
// stdin is a pipe the benchmark can write a line to. The destructor kills and reaps a process
// still running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "bpfplug/program_launch.hpp"
#include "bpfplug/unique_fd.hpp"

namespace bpfplug::bench {

struct PeerSpawn {
  std::vector<std::string> argv;   // argv[0]: a path
  std::string netns;               // ip netns name
  std::filesystem::path cgroup;    // empty: stay in the benchmark's cgroup
  std::optional<ProgramLaunch> data_path;  // set: run under the preload library (argv ignored there)
};

class PeerProcess {
 public:
  // Forks and execs; a failure in the child (netns, cgroup, exec) shows in its output and exit
  // status. Call from a single-threaded moment: the child runs code between fork and exec.
  explicit PeerProcess(const PeerSpawn& spawn);
  ~PeerProcess();
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;

  // Reads output until a line equal to `line` appears (true), the process ends or the timeout
  // passes (false).
  bool wait_for_line(const std::string& line, std::chrono::milliseconds timeout);
  // Waits for the exit, reading output meanwhile; false if the timeout passed (then killed).
  bool wait(std::chrono::milliseconds timeout);
  // Writes `line` and a newline to its stdin; false if it is gone.
  bool send_line(const std::string& line);

  const std::string& output() const { return output_; }
  int exit_status() const { return status_; }  // as waitpid reports it
  bool exited_ok() const;
  // The last line of output that is a JSON object ("{...}"), or empty.
  std::string last_json_line() const;

 private:
  bool read_some(std::chrono::milliseconds timeout);  // false: end of output
  void drain();  // reads what is already in the pipe, without waiting
  bool reap(bool block);

  pid_t pid_ = -1;
  UniqueFd out_;
  UniqueFd in_;
  std::string output_;
  std::size_t scanned_ = 0;
  int status_ = -1;
};

}  // namespace bpfplug::bench
