#include "bpfplug/matrix/cpio.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>

#include "bpfplug/matrix/error.hpp"

namespace bpfplug::matrix {
namespace {

struct Header {
  unsigned ino, mode, nlink;
  std::uintmax_t size;
  unsigned rdev_major, rdev_minor;
};

void pad4(std::ostream& out, std::uintmax_t written) {
  static const char zeros[4] = {};
  out.write(zeros, static_cast<std::streamsize>((4 - written % 4) % 4));
}

// "070701", then 13 eight-digit hex fields, then the NUL-terminated name, padded to 4.
void write_header(std::ostream& out, const std::string& name, const Header& h) {
  char buf[111];
  std::snprintf(buf, sizeof buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", h.ino, h.mode,
                0u /*uid*/, 0u /*gid*/, h.nlink, 0u /*mtime*/, static_cast<unsigned>(h.size), 0u, 0u,
                h.rdev_major, h.rdev_minor, static_cast<unsigned>(name.size() + 1), 0u /*check*/);
  out.write(buf, 110);
  out.write(name.c_str(), static_cast<std::streamsize>(name.size() + 1));
  pad4(out, 110 + name.size() + 1);
}

void write_data(std::ostream& out, const std::string& data) {
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  pad4(out, data.size());
}

void copy_file(std::ostream& out, const std::filesystem::path& source, std::uintmax_t size) {
  std::ifstream in(source, std::ios::binary);
  if (!in) throw MatrixError("can't read " + source.string());
  char buf[1 << 16];
  std::uintmax_t copied = 0;
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    out.write(buf, in.gcount());
    copied += static_cast<std::uintmax_t>(in.gcount());
  }
  if (copied != size) throw MatrixError(source.string() + " changed size while being archived");
  pad4(out, size);
}

}  // namespace

void write_cpio(const ArchiveLayout& layout, std::ostream& out) {
  unsigned ino = 1;
  for (const auto& [path, e] : layout.entries()) {
    std::string name = path.substr(1);
    using K = ArchiveEntry::Kind;
    switch (e.kind) {
      case K::directory:
        write_header(out, name, {ino++, S_IFDIR | e.mode, 2, 0, 0, 0});
        break;
      case K::file: {
        std::uintmax_t size = std::filesystem::file_size(e.source);
        if (size > 0xffffffffu) throw MatrixError(e.source.string() + " is too large for a newc archive");
        write_header(out, name, {ino++, S_IFREG | e.mode, 1, size, 0, 0});
        copy_file(out, e.source, size);
        break;
      }
      case K::text:
        write_header(out, name, {ino++, S_IFREG | e.mode, 1, e.data.size(), 0, 0});
        write_data(out, e.data);
        break;
      case K::symlink:
        write_header(out, name, {ino++, S_IFLNK | 0777, 1, e.data.size(), 0, 0});
        write_data(out, e.data);
        break;
      case K::char_device:
        write_header(out, name, {ino++, S_IFCHR | e.mode, 1, 0, e.major, e.minor});
        break;
    }
  }
  write_header(out, "TRAILER!!!", {0, 0, 1, 0, 0, 0});
  if (!out) throw MatrixError("writing the cpio archive failed");
}

void write_cpio(const ArchiveLayout& layout, const std::filesystem::path& archive) {
  std::ofstream out(archive, std::ios::binary | std::ios::trunc);
  if (!out) throw MatrixError("can't write " + archive.string());
  write_cpio(layout, out);
  out.close();
  if (!out) throw MatrixError("can't write " + archive.string());
}

}  // namespace bpfplug::matrix
