// `bpfplug run`: what starting a program with the compression data path takes. The Host runs
// it (LinuxHost: exec in place of bpfplug; tests record it instead).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace bpfplug {

struct ProgramLaunch {
  std::vector<std::string> argv;      // the program and its arguments; argv[0] looked up in PATH
  std::filesystem::path preload;      // libbpfplug_preload.so, put in front of LD_PRELOAD
  std::filesystem::path contract_dir;  // PIN_ROOT/_comp: the maps handed to the program
  std::string log;                    // BPFPLUG_PRELOAD_LOG: "" the program's stderr, "off", or a file
};

inline constexpr const char* kPreloadLibrary = "libbpfplug_preload.so";

// Where the preload library is, for a bpfplug at `exe`: $BPFPLUG_PRELOAD_LIBRARY if set (checked,
// not searched), else next to the executable (a build tree), else `installed_dir`.
std::optional<std::filesystem::path> find_preload_library(const std::filesystem::path& exe,
                                                          const std::filesystem::path& installed_dir);

// The environment a launched program gets on top of bpfplug's: LD_PRELOAD with the library
// first (keeping what was there), the maps' descriptors, and the log setting.
std::vector<std::pair<std::string, std::string>> launch_environment(const ProgramLaunch& launch, int ready_fd,
                                                                     int verdict_fd, const char* old_ld_preload);

}  // namespace bpfplug
