#include "bpfplug/testbed/shell.hpp"

#include <sys/wait.h>

#include <cstdlib>
#include <stdexcept>

namespace bpfplug::testbed {

int sh(const std::string& command_line) {
  int status = std::system(command_line.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void sh_or_throw(const std::string& command_line) {
  if (sh(command_line) != 0) throw std::runtime_error("testbed setup failed: " + command_line);
}

std::string shell_quote(const std::string& word) {
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace bpfplug::testbed
