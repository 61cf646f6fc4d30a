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
#include <vector>

namespace bpfplug {

enum class AttachMode { link, map };  // struct_ops link (6.4+) or plain map registration
std::string to_string(AttachMode mode);

// An implementation a swap replaced, kept pinned while connections still run it.
struct RetiredGeneration {
  int generation = 0;
  std::string version;
  std::string variant;
  std::string retired_at;
};

struct PluginRecord {
  std::string version;
  std::string variant = "default";
  std::string object;     // the --object file it came from; empty for the built-in catalogue
  std::string ops_name;
  AttachMode attach = AttachMode::link;
  std::string loaded_at;  // ISO 8601 UTC
  std::map<std::string, std::int64_t> tunables;
  int generation = 1;     // pinned as gN (plugin_loader.hpp)
  std::vector<RetiredGeneration> retired;
};

// The congestion-control sysctls as bpfplug found them before its first change; `restore`
// puts them back.
struct CongestionSettings {
  std::string default_cc;
  std::vector<std::string> allowed;
};

// A change in progress, written before bpfplug touches the kernel and cleared in the same
// write that records its result. If bpfplug dies in between, repair() reads it to roll the
// change back (load) or forward (swap past its switch, unload).
struct PendingChange {
  std::string op;      // "load", "swap" or "unload"
  std::string plugin;
  std::string started_at;
  std::optional<std::string> default_before;  // load: default to put back; unload: to restore
  bool allowed = false;  // swap: the name was in tcp_allowed_congestion_control before
  PluginRecord next;     // load/swap: what the plugin's record becomes
};

struct HostState {
  // The system default before bpfplug first changed it; restored when the plugin that is the
  // default is unloaded.
  std::optional<std::string> previous_default;
  std::optional<CongestionSettings> original;
  std::map<std::string, PluginRecord> plugins;  // by plugin name
  std::optional<PendingChange> pending;
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
