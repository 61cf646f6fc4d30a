// What goes into the initramfs: guest paths and where their contents come from. Parent
// directories are added automatically; a path added twice keeps its first entry.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace bpfplug::matrix {

struct ArchiveEntry {
  enum class Kind { directory, file, text, symlink, char_device } kind = Kind::file;
  std::filesystem::path source;  // file: host file whose bytes are copied (symlinks followed)
  std::string data;              // text: the contents; symlink: the target
  unsigned mode = 0;             // permission bits
  unsigned major = 0, minor = 0; // char_device
};

class ArchiveLayout {
 public:
  // `guest_path` is absolute ("/usr/sbin/ip").
  void add_file(const std::string& guest_path, const std::filesystem::path& source);
  void add_text(const std::string& guest_path, std::string contents, unsigned mode);
  void add_symlink(const std::string& guest_path, std::string target);
  void add_char_device(const std::string& guest_path, unsigned major, unsigned minor, unsigned mode);
  void add_directory(const std::string& guest_path, unsigned mode = 0755);

  bool contains(const std::string& guest_path) const { return entries_.count(guest_path) != 0; }
  // Sorted by path, so every directory comes before what it holds.
  const std::map<std::string, ArchiveEntry>& entries() const { return entries_; }

 private:
  void add(const std::string& guest_path, ArchiveEntry entry);
  std::map<std::string, ArchiveEntry> entries_;
};

}  // namespace bpfplug::matrix
