// Internal helpers the two loaders share (plugin_loader.cpp for congestion controls,
// policy_loader.cpp for compression policies): bpffs directories, pins, global-data maps.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <filesystem>
#include <string_view>
#include <system_error>

#include "bpfplug/error.hpp"

namespace bpfplug::pins {

// bpffs reserves names with dots; a leading '_' keeps staging directories apart from plugin
// names (plugin_metadata.cpp forbids it there) and from generation names.
inline constexpr const char* kPartialPrefix = "_partial_";
inline constexpr const char* kLinkPin = "link";
inline constexpr std::string_view kDataSections[] = {"rodata", "data", "bss"};

// The global-data section an internal map holds ("bss" for "dctcp.bss"), or empty.
inline std::string_view data_section_of(const bpf_map* map) {
  if (!bpf_map__is_internal(map)) return {};
  std::string_view name = bpf_map__name(map);
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos) return {};
  for (auto section : kDataSections)
    if (name.substr(dot + 1) == section) return section;
  return {};
}

// `err`: what bpf_obj_pin / bpf_link__pin returned, negated (0: pinned).
inline void pin_or_throw(int err, const std::filesystem::path& path) {
  if (err)
    throw Error(Exit::failure, "can't pin " + path.string() + ": " + errno_text(err),
                "check that " + path.parent_path().string() + " is on a writable bpffs");
}

// Removes a directory tree in bpffs, also on error paths (clear `dir` to keep it).
struct DirGuard {
  std::filesystem::path dir;
  ~DirGuard() {
    std::error_code ignored;
    if (!dir.empty()) std::filesystem::remove_all(dir, ignored);
  }
};

inline void make_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(Exit::failure, "can't create " + dir.string() + ": " + ec.message());
}

}  // namespace bpfplug::pins
