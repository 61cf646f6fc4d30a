// An exclusive advisory lock (flock) so two bpfplug processes never interleave changes.
#pragma once

#include <filesystem>

#include "bpfplug/unique_fd.hpp"

namespace bpfplug {

class FileLock {
 public:
  // Waits up to `timeout_ms` for the lock, then throws a conflict Error naming the holder file.
  explicit FileLock(const std::filesystem::path& path, int timeout_ms = 10000);

 private:
  UniqueFd fd_;
};

}  // namespace bpfplug
