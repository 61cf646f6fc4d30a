#include "bpfplug/matrix/archive_layout.hpp"

#include "bpfplug/matrix/error.hpp"

namespace fs = std::filesystem;

namespace bpfplug::matrix {

void ArchiveLayout::add(const std::string& guest_path, ArchiveEntry entry) {
  if (!guest_path.starts_with("/") || guest_path == "/")
    throw MatrixError("internal: initramfs path must be absolute: " + guest_path);
  for (fs::path parent = fs::path(guest_path).parent_path(); parent != "/"; parent = parent.parent_path())
    entries_.emplace(parent.string(), ArchiveEntry{ArchiveEntry::Kind::directory, {}, {}, 0755});
  entries_.emplace(guest_path, std::move(entry));
}

void ArchiveLayout::add_file(const std::string& guest_path, const fs::path& source) {
  std::error_code ec;
  auto status = fs::status(source, ec);
  if (ec || !fs::is_regular_file(status)) throw MatrixError("can't put " + source.string() + " in the initramfs: not a regular file");
  add(guest_path, {ArchiveEntry::Kind::file, source, {}, static_cast<unsigned>(status.permissions()) & 07777});
}

void ArchiveLayout::add_text(const std::string& guest_path, std::string contents, unsigned mode) {
  add(guest_path, {ArchiveEntry::Kind::text, {}, std::move(contents), mode});
}

void ArchiveLayout::add_symlink(const std::string& guest_path, std::string target) {
  add(guest_path, {ArchiveEntry::Kind::symlink, {}, std::move(target), 0777});
}

void ArchiveLayout::add_char_device(const std::string& guest_path, unsigned major, unsigned minor, unsigned mode) {
  add(guest_path, {ArchiveEntry::Kind::char_device, {}, {}, mode, major, minor});
}

void ArchiveLayout::add_directory(const std::string& guest_path, unsigned mode) {
  add(guest_path, {ArchiveEntry::Kind::directory, {}, {}, mode});
}

}  // namespace bpfplug::matrix
