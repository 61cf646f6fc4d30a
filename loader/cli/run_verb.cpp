#include "bpfplug/cli/run_verb.hpp"

#include <algorithm>
#include <filesystem>

#include "bpfplug/error.hpp"
#include "bpfplug/policy_loader.hpp"
#include "bpfplug/program_launch.hpp"

namespace bpfplug::cli {

namespace fs = std::filesystem;

fs::path preload_library() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  auto preload = find_preload_library(exe, BPFPLUG_PRELOAD_DIR);
  if (!preload)
    throw Error(Exit::failure,
                std::string("can't find ") + kPreloadLibrary + " (next to " + exe.string() + ", in " +
                    BPFPLUG_PRELOAD_DIR + ", or at $BPFPLUG_PRELOAD_LIBRARY)",
                "build it (cmake --build build puts it in build/) or install bpfplug (cmake --install build)");
  return *preload;
}

int do_run(const RunArgs& args, Host& host, const PolicyManager& policies, const Catalogue& catalogue,
           const Paths& paths) {
  if (args.command.empty())
    throw Error(Exit::usage, "no program given", "bpfplug run [--policy NAME] -- PROGRAM [ARGS...]");
  const std::string& program = args.command.front();
  if (!args.policy.empty() && catalogue.get(args.policy).meta.kind != "policy")
    throw Error(Exit::usage, args.policy + " is a congestion control, not a compression policy",
                "the compression policies are comp-ports and comp-cost (bpfplug list)");
  if (!host.privileged())
    throw Error(Exit::permission, "bpfplug run hands " + program + " the compression maps, which only root can open",
                "run it as root: sudo bpfplug run ... -- " + program);

  auto loaded = policies.loaded();
  if (loaded.empty())
    throw Error(Exit::failure, "no compression policy is loaded, so no connection of " + program + " would compress",
                "load one first, e.g. bpfplug load comp-ports --set ports=PORT (docs/policies.md)");
  const std::string& active = loaded.front();
  if (!args.policy.empty() && args.policy != active)
    throw Error(Exit::conflict, "the loaded compression policy is " + active + ", not " + args.policy,
                "bpfplug unload " + active + " and bpfplug load " + args.policy + ", or leave out --policy");
  auto pinned = policies.pinned();
  if (std::find(pinned.begin(), pinned.end(), active) == pinned.end())
    throw Error(Exit::conflict,
                active + " drives the kernel's tcp_comp on this host: the kernel compresses, and the user-space data "
                         "path would compress a second time",
                "run " + program + " without bpfplug run (bpfplug status " + active + ")");

  ProgramLaunch launch{args.command, preload_library(), comp_contract_dir(paths.pin_root), args.log};
  host.exec_program(launch);
  return static_cast<int>(Exit::ok);
}

}  // namespace bpfplug::cli
