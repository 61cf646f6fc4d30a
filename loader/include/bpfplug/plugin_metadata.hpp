// Plugin metadata as the BPF object carries it in its ".bpfplug.meta" ELF section
// (struct_ops/bpfplug_meta.h defines the records).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bpfplug {

struct TunableSpec {
  std::string name;
  std::string type;  // C type as written in the BPF source, e.g. "__u32"
  std::int64_t default_value = 0;
  std::int64_t min = 0;
  std::int64_t max = 0;
  std::string description;
};

struct CounterSpec {
  std::string name;
  std::string description;
  bool gauge = false;  // may go down (e.g. sockets in use); shown signed
};

// A set of ports the loader writes into the plugin's map of that name (BPFPLUG_PORTSET).
struct PortSetSpec {
  std::string name;
  std::string description;
};

// A kernel feature the plugin cannot work without (a name of `bpfplug probe`), and why.
struct Requirement {
  std::string feature;
  std::string why;
};

struct PluginMeta {
  std::string name;
  std::string kind;  // "cc" or "policy"
  std::string version;
  std::string description;
  // The same plugin built with other defaults (a "variant" record); "default" without one.
  std::string variant = "default";
  std::string variant_description;
  std::vector<TunableSpec> tunables;
  std::vector<CounterSpec> counters;
  std::vector<Requirement> requirements;
  std::vector<PortSetSpec> portsets;  // policies only

  const TunableSpec* find_tunable(std::string_view var) const;
  const PortSetSpec* find_portset(std::string_view var) const;
};

// Parses the NUL-separated records of a ".bpfplug.meta" section. Throws Error on a malformed
// record, a second "plugin" or "variant" record, or when no "plugin" record is present.
PluginMeta parse_metadata_records(std::string_view section);

// The raw bytes of the named ELF section, if the object has it. Throws Error if `elf` is not
// an ELF object.
std::optional<std::string> read_elf_section(std::span<const std::byte> elf, std::string_view name);

// Both of the above: the metadata of a BPF object file image.
PluginMeta read_plugin_metadata(std::span<const std::byte> elf);

// Parses a decimal or 0x-prefixed integer, optionally negative. nullopt if not entirely a number.
std::optional<std::int64_t> parse_integer(std::string_view text);

}  // namespace bpfplug
