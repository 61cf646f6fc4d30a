// The plugins this build carries. Built from the objects cc_algos/ and policies/ register with
// bpfplug_add_plugin() and bpfplug_add_plugin_variant(); everything shown about a plugin is read
// from its object. A plugin may come in several variants (same name, same registered kernel
// name, other defaults); the one without a variant record is "default".
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bpfplug/plugin_metadata.hpp"

namespace bpfplug {

// One embedded BPF object (generated: build/loader/builtin_catalogue.cpp).
struct EmbeddedObject {
  std::string_view object_name;  // PLUGIN, or PLUGIN__VARIANT for a variant's object
  std::span<const std::byte> elf;
};
std::span<const EmbeddedObject> embedded_objects();

// A bpftool skeleton's NAME__elf_bytes() as a byte span.
std::span<const std::byte> skeleton_elf(const void* (*elf_bytes)(std::size_t*));

struct CatalogueEntry {
  PluginMeta meta;
  std::string ops_name;  // the name it registers in the kernel (tcp_congestion_ops.name)
  std::span<const std::byte> elf;
};

inline constexpr std::string_view kDefaultVariant = "default";

class Catalogue {
 public:
  // Throws Error if two entries are the same plugin and variant, or a variant other than
  // "default" has no default variant beside it or registers another kernel name than it.
  explicit Catalogue(std::vector<CatalogueEntry> entries);
  static Catalogue builtin();

  // Reads metadata and registered name from an object image. Throws Error if malformed.
  static CatalogueEntry describe(std::span<const std::byte> elf);

  // The plugin's default variant.
  const CatalogueEntry* find(std::string_view name) const;
  // Like find(), but throws a usage Error naming the closest plugin ("did you mean").
  const CatalogueEntry& get(std::string_view name) const;
  // One variant of a plugin; an empty variant means "default".
  const CatalogueEntry* find(std::string_view name, std::string_view variant) const;
  // Like find(name, variant), but throws a usage Error for an unknown plugin (as get(name)) or
  // an unknown variant (naming the closest variant and listing them all).
  const CatalogueEntry& get(std::string_view name, std::string_view variant) const;
  // Every variant of a plugin, the default first, then by variant name; empty if unknown.
  std::vector<const CatalogueEntry*> variants(std::string_view name) const;
  // Every variant of every plugin, sorted by plugin name, then as variants() orders them.
  // Code that wants one entry per plugin takes those with meta.variant == kDefaultVariant.
  const std::vector<CatalogueEntry>& entries() const { return entries_; }

 private:
  std::vector<CatalogueEntry> entries_;
};

// The candidate closest to `wrong` by edit distance, if close enough to be a likely typo.
std::string closest_name(std::string_view wrong, const std::vector<std::string>& candidates);

}  // namespace bpfplug
