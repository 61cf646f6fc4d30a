// The plugins this build carries. Built from the objects cc_algos/ and policies/ register with
// bpfplug_add_plugin(); everything shown about a plugin is read from its object.
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
  std::string_view object_name;
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

class Catalogue {
 public:
  explicit Catalogue(std::vector<CatalogueEntry> entries);
  static Catalogue builtin();

  // Reads metadata and registered name from an object image. Throws Error if malformed.
  static CatalogueEntry describe(std::span<const std::byte> elf);

  const CatalogueEntry* find(std::string_view name) const;
  // Like find(), but throws a usage Error naming the closest plugin ("did you mean").
  const CatalogueEntry& get(std::string_view name) const;
  const std::vector<CatalogueEntry>& entries() const { return entries_; }

 private:
  std::vector<CatalogueEntry> entries_;
};

// The candidate closest to `wrong` by edit distance, if close enough to be a likely typo.
std::string closest_name(std::string_view wrong, const std::vector<std::string>& candidates);

}  // namespace bpfplug
