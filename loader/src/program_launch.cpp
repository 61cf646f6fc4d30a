#include "bpfplug/program_launch.hpp"

#include <cstdlib>

namespace bpfplug {

namespace fs = std::filesystem;

std::optional<fs::path> find_preload_library(const fs::path& exe, const fs::path& installed_dir) {
  std::error_code ec;
  if (const char* forced = std::getenv("BPFPLUG_PRELOAD_LIBRARY"); forced && *forced) {
    if (fs::is_regular_file(forced, ec)) return fs::path(forced);
    return std::nullopt;
  }
  for (const auto& candidate : {exe.parent_path() / kPreloadLibrary, installed_dir / kPreloadLibrary})
    if (fs::is_regular_file(candidate, ec)) return candidate;
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> launch_environment(const ProgramLaunch& launch, int ready_fd,
                                                                     int verdict_fd, const char* old_ld_preload) {
  std::string preload = launch.preload.string();
  if (old_ld_preload && *old_ld_preload) preload += std::string(":") + old_ld_preload;
  std::vector<std::pair<std::string, std::string>> env = {
      {"LD_PRELOAD", preload},
      {"BPFPLUG_COMP_MAP_FDS", std::to_string(ready_fd) + "," + std::to_string(verdict_fd)},
      // Children that lost the descriptors find the maps by their pins (as root).
      {"BPFPLUG_PIN_ROOT", launch.contract_dir.parent_path().string()},
  };
  if (!launch.log.empty()) env.emplace_back("BPFPLUG_PRELOAD_LOG", launch.log);
  return env;
}

}  // namespace bpfplug
