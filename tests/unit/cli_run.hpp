// One bpfplug command line through run_cli() in-process, its exit code and output captured.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "bpfplug/cli/cli.hpp"

namespace bpfplug::test {

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

// `args` without the program name: {"load", "comp-ports", "--set", "ports=80"}.
inline CliRun run_cli(Host& host, const Catalogue& catalogue, const Paths& paths, std::vector<std::string> args) {
  args.insert(args.begin(), "bpfplug");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  int code = cli::run_cli(static_cast<int>(argv.size()), argv.data(), host, catalogue, paths, out, err);
  return {code, out.str(), err.str()};
}

}  // namespace bpfplug::test
