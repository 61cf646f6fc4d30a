// Running the real bpfplug CLI (or any program) as a separate process, the way users do.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bpfplug::test {

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

struct Command {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;  // added to (or replacing in) the inherited environment
  std::optional<unsigned> run_as_uid;      // drop to this uid/gid before exec
};

ProcessResult run(const Command& command);

// A program left running (a server) while the test goes on; its stdout and stderr go to `log`.
// The destructor stops it (SIGTERM, then SIGKILL after 5 s), also when the test fails.
class BackgroundProcess {
 public:
  BackgroundProcess(const Command& command, const std::string& log);
  ~BackgroundProcess() { stop(); }
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  bool running();
  // Stops it if it still runs; its exit code (128 + signal if a signal ended it).
  int stop();
  // Waits up to `seconds` for it to exit by itself; its exit code, or nullopt if it still runs.
  std::optional<int> wait(double seconds);

 private:
  int pid_ = -1;
  std::optional<int> exit_code_;
};

}  // namespace bpfplug::test
