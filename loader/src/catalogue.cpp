#include "bpfplug/catalogue.hpp"

#include <algorithm>
#include <tuple>

#include "bpfplug/bpf_object_view.hpp"
#include "bpfplug/error.hpp"

namespace bpfplug {
namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

bool is_default(const CatalogueEntry& e) { return e.meta.variant == kDefaultVariant; }

// By plugin name; within a plugin the default variant first, then by variant name.
bool entry_order(const CatalogueEntry& a, const CatalogueEntry& b) {
  return std::tuple(std::string_view(a.meta.name), !is_default(a), std::string_view(a.meta.variant)) <
         std::tuple(std::string_view(b.meta.name), !is_default(b), std::string_view(b.meta.variant));
}

std::string variant_list(const std::vector<const CatalogueEntry*>& entries) {
  std::string s;
  for (const auto* e : entries) s += (s.empty() ? "" : ", ") + e->meta.variant;
  return s;
}

// Variants are interchangeable builds of one plugin: one default, one kernel name.
void check_variants(const std::vector<CatalogueEntry>& sorted) {
  const CatalogueEntry* plugin_default = nullptr;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const auto& e = sorted[i];
    if (i > 0 && sorted[i - 1].meta.name == e.meta.name && sorted[i - 1].meta.variant == e.meta.variant)
      throw Error(Exit::usage, "two objects are plugin " + e.meta.name + ", variant '" + e.meta.variant + "'",
                  is_default(e) ? "a variant's source must declare BPFPLUG_VARIANT(BPFPLUG_VARIANT_NAME, ...) "
                                  "(struct_ops/bpfplug_meta.h)"
                                : "give each bpfplug_add_plugin_variant() of a plugin its own name");
    if (is_default(e)) {
      plugin_default = &e;
      continue;
    }
    if (!plugin_default || plugin_default->meta.name != e.meta.name)
      throw Error(Exit::usage,
                  "plugin " + e.meta.name + " has variant '" + e.meta.variant + "' but no default variant",
                  "build the plugin itself too: bpfplug_add_plugin(" + e.meta.name + ")");
    if (plugin_default->ops_name != e.ops_name)
      throw Error(Exit::usage,
                  "variant '" + e.meta.variant + "' of plugin " + e.meta.name + " registers as " + e.ops_name +
                      ", its default variant as " + plugin_default->ops_name,
                  "variants must register the same kernel name (the ops table's .name) to replace one another");
  }
}

}  // namespace

std::string closest_name(std::string_view wrong, const std::vector<std::string>& candidates) {
  std::string best;
  if (wrong.empty()) return best;
  std::size_t best_distance = std::max<std::size_t>(2, wrong.size() / 3) + 1;
  for (const auto& c : candidates) {
    auto d = edit_distance(wrong, c);
    // "bpf_dctcp" for "dctcp": users often type the registered name.
    bool suffix = std::min(wrong.size(), c.size()) >= 3 && (wrong.ends_with(c) || c.ends_with(wrong));
    if (suffix) d = std::min<std::size_t>(d, 1);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

std::span<const std::byte> skeleton_elf(const void* (*elf_bytes)(std::size_t*)) {
  std::size_t size = 0;
  const void* data = elf_bytes(&size);
  return {static_cast<const std::byte*>(data), size};
}

Catalogue::Catalogue(std::vector<CatalogueEntry> entries) : entries_(std::move(entries)) {
  std::sort(entries_.begin(), entries_.end(), entry_order);
  check_variants(entries_);
}

Catalogue Catalogue::builtin() {
  std::vector<CatalogueEntry> entries;
  for (const auto& object : embedded_objects()) entries.push_back(describe(object.elf));
  return Catalogue(std::move(entries));
}

CatalogueEntry Catalogue::describe(std::span<const std::byte> elf) {
  CatalogueEntry entry;
  entry.meta = read_plugin_metadata(elf);
  entry.elf = elf;
  auto obj = open_object(elf, entry.meta.name);
  if (entry.meta.kind != "policy")  // a policy is a sock_ops program: it registers no name
    entry.ops_name = struct_ops_name(obj.get(), struct_ops_map(obj.get()));
  return entry;
}

const CatalogueEntry* Catalogue::find(std::string_view name) const { return find(name, kDefaultVariant); }

const CatalogueEntry* Catalogue::find(std::string_view name, std::string_view variant) const {
  if (variant.empty()) variant = kDefaultVariant;
  for (const auto& e : entries_)
    if (e.meta.name == name && e.meta.variant == variant) return &e;
  return nullptr;
}

const CatalogueEntry& Catalogue::get(std::string_view name) const {
  if (const auto* e = find(name)) return *e;
  std::vector<std::string> names;
  for (const auto& e : entries_)
    if (is_default(e)) names.push_back(e.meta.name);
  auto guess = closest_name(name, names);
  throw Error(Exit::usage, "unknown plugin '" + std::string(name) + "'",
              guess.empty() ? "see the plugins this build carries: bpfplug list"
                            : "did you mean '" + guess + "'? (bpfplug list shows all plugins)");
}

const CatalogueEntry& Catalogue::get(std::string_view name, std::string_view variant) const {
  if (const auto* e = find(name, variant)) return *e;
  auto known = variants(name);
  if (known.empty()) return get(name);  // throws: unknown plugin, did you mean
  std::vector<std::string> names;
  for (const auto* e : known) names.push_back(e->meta.variant);
  auto guess = closest_name(variant, names);
  std::string list = "variants of " + std::string(name) + ": " + variant_list(known);
  throw Error(Exit::usage, "plugin " + std::string(name) + " has no variant '" + std::string(variant) + "'",
              guess.empty() ? list : "did you mean '" + guess + "'? (" + list + ")");
}

std::vector<const CatalogueEntry*> Catalogue::variants(std::string_view name) const {
  std::vector<const CatalogueEntry*> out;  // entries_ is sorted: default first
  for (const auto& e : entries_)
    if (e.meta.name == name) out.push_back(&e);
  return out;
}

}  // namespace bpfplug
