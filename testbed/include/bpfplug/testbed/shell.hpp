// Running iproute2/ethtool command lines for network setup.
#pragma once

#include <string>

namespace bpfplug::testbed {

// Runs a shell command line; returns its exit code.
int sh(const std::string& command_line);
// Same, but throws std::runtime_error naming the command if it fails.
void sh_or_throw(const std::string& command_line);
// `word` as one single-quoted shell word, whatever it contains.
std::string shell_quote(const std::string& word);

}  // namespace bpfplug::testbed
