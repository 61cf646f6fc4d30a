// The user-space side of the compression contract (struct_ops/bpfplug_comp.h): mark a socket
// ready to compress before connect()/listen(), read a connection's verdict by fd. For the data
// path and for tests; needs access to bpffs (root, or a pin directory made readable).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "bpfplug_comp.h"

namespace bpfplug {

inline constexpr const char* kCompPinDir = BPFPLUG_COMP_PIN_DIR;
inline constexpr const char* kCompReadyMap = BPFPLUG_COMP_READY_MAP;
inline constexpr const char* kCompVerdictMap = BPFPLUG_COMP_VERDICT_MAP;

// The name of a bpfplug_comp_reason, e.g. "port-not-in-set".
std::string comp_reason_name(int reason);

class CompContract {
 public:
  // Opens the maps pinned under PIN_ROOT/_comp. Throws Error if no policy ever pinned them.
  explicit CompContract(const std::filesystem::path& pin_root);

  // Declares socket `fd` able to run `codecs` (BPFPLUG_COMP_CODEC_*). Before connect()/listen().
  void mark_ready(int fd, std::uint32_t codecs = BPFPLUG_COMP_CODEC_ZSTD_STREAM) const;
  // The verdict of connection `fd`, or nullopt if no policy decided on it (not ready, or not
  // in the policy's cgroup).
  std::optional<bpfplug_comp_verdict> verdict(int fd) const;

 private:
  struct Fds;
  std::shared_ptr<Fds> fds_;
};

}  // namespace bpfplug
