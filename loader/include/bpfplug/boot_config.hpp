// What `bpfplug enable` records for the next boot: which plugins to register, with which
// variant and tunables, and which one becomes the system default. It lives in
// /etc/bpfplug/boot.json (Paths::config_file()); `bpfplug apply`, run at boot by
// bpfplug.service, makes the kernel match it (reconcile.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bpfplug/catalogue.hpp"

namespace bpfplug {

// One enabled plugin. Tunables are the ones given with --set; the others keep the defaults
// of the plugin as built, so a rebuilt plugin with new defaults gets them.
struct BootEntry {
  std::string variant = "default";
  bool make_default = false;  // "default" in the file
  bool allow = false;
  std::map<std::string, std::int64_t> tunables;

  bool operator==(const BootEntry&) const = default;
};

struct BootConfig {
  std::map<std::string, BootEntry> plugins;  // by plugin name

  // The plugin marked default, if any (at most one is).
  std::optional<std::string> default_plugin() const;
};

class BootConfigStore {
 public:
  explicit BootConfigStore(std::filesystem::path file) : file_(std::move(file)) {}
  // An empty config if the file does not exist. Throws Error (naming the file and what to do)
  // if it is not valid JSON, has fields of the wrong type or unknown fields, or marks more
  // than one plugin default.
  BootConfig load() const;
  // Atomic and durable: a temporary file in the same directory, fsync, rename.
  void save(const BootConfig& config) const;
  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
};

// Parses/serialises the file's content (BootConfigStore without the file). `source` names the
// file in error messages.
BootConfig parse_boot_config(const std::string& text, const std::string& source);
std::string format_boot_config(const BootConfig& config);

struct EnableOptions {
  std::string variant;                   // --variant; empty: the default variant
  bool make_default = false;             // --default
  bool allow = false;                    // --allow
  std::vector<std::string> assignments;  // --set key=value
};

// The entry `bpfplug enable PLUGIN OPTIONS` records, checked against the catalogue: throws a
// usage Error for an unknown plugin (did you mean) or a bad --set, as `load` would.
BootEntry make_boot_entry(const Catalogue& catalogue, const std::string& plugin, const EnableOptions& options);

struct EnableResult {
  std::string plugin;
  BootEntry entry;
  std::optional<BootEntry> previous;        // the entry it replaced, if the plugin was enabled
  std::optional<std::string> default_from;  // the plugin that was the boot default until now
};

// Records `entry` for `plugin`, replacing an earlier entry. If the entry is the default, the
// plugin that was the default no longer is (reported in default_from).
EnableResult enable_at_boot(BootConfig& config, const std::string& plugin, BootEntry entry);

struct DisableResult {
  std::string plugin;
  std::optional<BootEntry> removed;  // nullopt: it was not enabled, nothing changed
};

// Removes `plugin` from the config. A plugin that is neither in the config nor in the
// catalogue is a usage Error (did you mean); one that is in the catalogue but not enabled is
// not an error (nothing to do, like systemctl disable).
DisableResult disable_at_boot(BootConfig& config, const Catalogue& catalogue, const std::string& plugin);

// "key=value" for every tunable of the plugin: the entry's values over the plugin's defaults.
// Throws a usage Error if the entry names a tunable the plugin lacks or a value out of range.
std::vector<std::string> boot_assignments(const PluginMeta& meta, const BootEntry& entry);

}  // namespace bpfplug
