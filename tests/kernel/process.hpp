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

}  // namespace bpfplug::test
