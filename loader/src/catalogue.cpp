#include "bpfplug/catalogue.hpp"

#include <algorithm>

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
  std::sort(entries_.begin(), entries_.end(),
            [](const auto& a, const auto& b) { return a.meta.name < b.meta.name; });
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
  entry.ops_name = struct_ops_name(obj.get(), struct_ops_map(obj.get()));
  return entry;
}

const CatalogueEntry* Catalogue::find(std::string_view name) const {
  for (const auto& e : entries_)
    if (e.meta.name == name) return &e;
  return nullptr;
}

const CatalogueEntry& Catalogue::get(std::string_view name) const {
  if (const auto* e = find(name)) return *e;
  std::vector<std::string> names;
  for (const auto& e : entries_) names.push_back(e.meta.name);
  auto guess = closest_name(name, names);
  throw Error(Exit::usage, "unknown plugin '" + std::string(name) + "'",
              guess.empty() ? "see the plugins this build carries: bpfplug list"
                            : "did you mean '" + guess + "'? (bpfplug list shows all plugins)");
}

}  // namespace bpfplug
