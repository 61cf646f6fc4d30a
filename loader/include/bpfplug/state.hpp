// bpfplug's bookkeeping of what it did to the host: which plugins it loaded (with which
// version and tunables, since when) and which default congestion control it replaced. The
// kernel objects themselves (pins) are the truth about what is loaded; this file adds what
// the kernel does not record.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace bpfplug {

enum class AttachMode { link, map };  // struct_ops link (6.4+) or plain map registration
std::string to_string(AttachMode mode);

struct PluginRecord {
  std::string version;
  std::string ops_name;
  AttachMode attach = AttachMode::link;
  std::string loaded_at;  // ISO 8601 UTC
  std::map<std::string, std::int64_t> tunables;
};

struct HostState {
  // The system default before bpfplug first changed it; restored when the plugin that is the
  // default is unloaded.
  std::optional<std::string> previous_default;
  std::map<std::string, PluginRecord> plugins;  // by plugin name
};

class StateStore {
 public:
  explicit StateStore(std::filesystem::path file) : file_(std::move(file)) {}
  HostState load() const;             // empty state if the file does not exist
  void save(const HostState& state) const;  // atomic: write a temporary file, rename

 private:
  std::filesystem::path file_;
};

std::string now_iso8601();

}  // namespace bpfplug
