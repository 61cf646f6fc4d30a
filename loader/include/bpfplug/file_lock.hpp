// An exclusive advisory lock (flock) so two bpfplug processes never interleave changes.
#pragma once

#include <filesystem>

#include "bpfplug/unique_fd.hpp"

namespace bpfplug {

class FileLock {
 public:
  // Waits up to `timeout_ms` for the lock, then throws a conflict Error naming the holder file.
  FileLock(const std::filesystem::path& path, int timeout_ms);
  // Waits up to BPFPLUG_LOCK_TIMEOUT_MS (default 10 s).
  explicit FileLock(const std::filesystem::path& path);
  static int default_timeout_ms();

 private:
  UniqueFd fd_;
};

}  // namespace bpfplug
