#include "bpfplug/plugin_metadata.hpp"

#include <gelf.h>
#include <libelf.h>

#include <charconv>
#include <memory>

#include "bpfplug/error.hpp"

namespace bpfplug {
namespace {

// Splits `record` on '|' into at most `fields` parts; the last part keeps any further '|'.
std::vector<std::string_view> split_fields(std::string_view record, std::size_t fields) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < fields) {
    auto bar = record.find('|');
    if (bar == std::string_view::npos) break;
    out.push_back(record.substr(0, bar));
    record.remove_prefix(bar + 1);
  }
  out.push_back(record);
  return out;
}

[[noreturn]] void malformed(std::string_view record, std::string_view why) {
  throw Error(Exit::usage,
              "malformed plugin metadata record '" + std::string(record) + "': " + std::string(why),
              "declare metadata with the macros of struct_ops/bpfplug_meta.h");
}

std::int64_t integer_field(std::string_view record, std::string_view field, std::string_view what) {
  auto value = parse_integer(field);
  if (!value) malformed(record, std::string(what) + " '" + std::string(field) + "' is not an integer");
  return *value;
}

// The records that may appear only once.
struct Seen {
  bool plugin = false;
  bool variant = false;
};

// The name becomes a bpffs directory: no dots (reserved by bpffs), no leading '_' (staging).
// Variant names follow the same rules, so they can be part of paths and CLI arguments too.
bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= 32 && name.front() != '_' &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") == std::string_view::npos;
}

void add_record(PluginMeta& meta, Seen& seen, std::string_view record) {
  auto type = record.substr(0, record.find('|'));
  if (type == "plugin") {
    auto f = split_fields(record, 5);
    if (f.size() != 5 || f[1].empty()) malformed(record, "expected plugin|NAME|KIND|VERSION|DESCRIPTION");
    if (seen.plugin) malformed(record, "a second plugin record");
    if (f[2] != "cc" && f[2] != "policy") malformed(record, "kind must be 'cc' or 'policy'");
    if (!valid_name(f[1])) malformed(record, "plugin name must be 1-32 characters of a-z, 0-9, '_', '-', not starting with '_'");
    meta.name = f[1];
    meta.kind = f[2];
    meta.version = f[3];
    meta.description = f[4];
    seen.plugin = true;
  } else if (type == "variant") {
    auto f = split_fields(record, 3);
    if (f.size() != 3 || f[1].empty()) malformed(record, "expected variant|NAME|DESCRIPTION");
    if (seen.variant) malformed(record, "a second variant record");
    if (!valid_name(f[1])) malformed(record, "variant name must be 1-32 characters of a-z, 0-9, '_', '-', not starting with '_'");
    meta.variant = f[1];
    meta.variant_description = f[2];
    seen.variant = true;
  } else if (type == "tunable") {
    auto f = split_fields(record, 7);
    if (f.size() != 7 || f[1].empty())
      malformed(record, "expected tunable|VAR|TYPE|DEFAULT|MIN|MAX|DESCRIPTION");
    TunableSpec t{std::string(f[1]), std::string(f[2]), integer_field(record, f[3], "default"),
                  integer_field(record, f[4], "minimum"), integer_field(record, f[5], "maximum"),
                  std::string(f[6])};
    if (t.min > t.max || t.default_value < t.min || t.default_value > t.max)
      malformed(record, "default outside [min, max]");
    meta.tunables.push_back(std::move(t));
  } else if (type == "requires") {
    auto f = split_fields(record, 3);
    if (f.size() != 3 || f[1].empty()) malformed(record, "expected requires|FEATURE|WHY");
    meta.requirements.push_back({std::string(f[1]), std::string(f[2])});
  } else if (type == "portset") {
    auto f = split_fields(record, 3);
    if (f.size() != 3 || f[1].empty()) malformed(record, "expected portset|VAR|DESCRIPTION");
    meta.portsets.push_back({std::string(f[1]), std::string(f[2])});
  } else if (type == "counter" || type == "gauge") {
    auto f = split_fields(record, 3);
    if (f.size() != 3 || f[1].empty()) malformed(record, "expected counter|VAR|DESCRIPTION");
    meta.counters.push_back({std::string(f[1]), std::string(f[2]), type == "gauge"});
  } else {
    malformed(record, "unknown record type");
  }
}

struct ElfCloser {
  void operator()(Elf* elf) const noexcept { elf_end(elf); }
};

}  // namespace

const TunableSpec* PluginMeta::find_tunable(std::string_view var) const {
  for (const auto& t : tunables)
    if (t.name == var) return &t;
  return nullptr;
}

const PortSetSpec* PluginMeta::find_portset(std::string_view var) const {
  for (const auto& p : portsets)
    if (p.name == var) return &p;
  return nullptr;
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  if (text.empty()) return std::nullopt;
  std::uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), magnitude, base);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (negative && magnitude == static_cast<std::uint64_t>(INT64_MAX) + 1) return INT64_MIN;
  if (magnitude > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
  auto value = static_cast<std::int64_t>(magnitude);
  return negative ? -value : value;
}

PluginMeta parse_metadata_records(std::string_view section) {
  PluginMeta meta;
  Seen seen;
  while (!section.empty()) {
    auto nul = section.find('\0');
    auto record = section.substr(0, nul);
    if (!record.empty()) add_record(meta, seen, record);  // skip alignment padding
    if (nul == std::string_view::npos) break;
    section.remove_prefix(nul + 1);
  }
  if (!seen.plugin)
    throw Error(Exit::usage, "the object carries no bpfplug plugin record",
                "add BPFPLUG_PLUGIN(...) from struct_ops/bpfplug_meta.h to the plugin source");
  return meta;
}

std::optional<std::string> read_elf_section(std::span<const std::byte> elf, std::string_view name) {
  if (elf_version(EV_CURRENT) == EV_NONE) throw Error(Exit::failure, "libelf initialisation failed");
  // libelf reads the image in place and does not modify it in ELF_C_READ_MMAP-like memory mode.
  std::unique_ptr<Elf, ElfCloser> e(
      elf_memory(const_cast<char*>(reinterpret_cast<const char*>(elf.data())), elf.size()));
  std::size_t shstrndx = 0;
  if (!e || elf_kind(e.get()) != ELF_K_ELF || elf_getshdrstrndx(e.get(), &shstrndx) != 0)
    throw Error(Exit::usage, "not an ELF object", "pass a BPF object built with clang -target bpf");
  for (Elf_Scn* scn = elf_nextscn(e.get(), nullptr); scn; scn = elf_nextscn(e.get(), scn)) {
    GElf_Shdr shdr;
    if (!gelf_getshdr(scn, &shdr)) continue;
    const char* scn_name = elf_strptr(e.get(), shstrndx, shdr.sh_name);
    if (!scn_name || name != scn_name) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (!data || !data->d_buf) return std::string();
    return std::string(static_cast<const char*>(data->d_buf), data->d_size);
  }
  return std::nullopt;
}

PluginMeta read_plugin_metadata(std::span<const std::byte> elf) {
  auto section = read_elf_section(elf, ".bpfplug.meta");
  if (!section)
    throw Error(Exit::usage, "the object has no .bpfplug.meta section",
                "include struct_ops/bpfplug_meta.h and declare BPFPLUG_PLUGIN(...)");
  return parse_metadata_records(*section);
}

}  // namespace bpfplug
