// `bpfplug run [--policy NAME] -- PROGRAM ARGS`: start an unmodified program with the
// compression data path in front of its libc (datapath/preload, docs/datapath.md).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "bpfplug/catalogue.hpp"
#include "bpfplug/host.hpp"
#include "bpfplug/paths.hpp"
#include "bpfplug/policy_manager.hpp"

namespace bpfplug::cli {

struct RunArgs {
  std::string policy;                // required to be the loaded policy; empty: whichever is
  std::string log;                   // BPFPLUG_PRELOAD_LOG: a file, "off"; empty: the program's stderr
  std::vector<std::string> command;  // PROGRAM ARGS
};

// libbpfplug_preload.so for this bpfplug (program_launch.hpp), or Error saying where it looked.
std::filesystem::path preload_library();

// Checks everything that can be checked before the exec, then has the host run the program;
// returns only where the host does not exec (tests). Throws Error.
int do_run(const RunArgs& args, Host& host, const PolicyManager& policies, const Catalogue& catalogue,
           const Paths& paths);

}  // namespace bpfplug::cli
