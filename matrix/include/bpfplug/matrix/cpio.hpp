// Writes an ArchiveLayout as a cpio "newc" archive (the format the kernel unpacks as initramfs):
// per entry a 110-byte ASCII header, the name, the data, each padded to 4 bytes; then TRAILER!!!.
#pragma once

#include <filesystem>
#include <ostream>

#include "bpfplug/matrix/archive_layout.hpp"

namespace bpfplug::matrix {

// Names are written relative ("usr/sbin/ip"), as the kernel and `cpio -idm` expect.
void write_cpio(const ArchiveLayout& layout, std::ostream& out);
void write_cpio(const ArchiveLayout& layout, const std::filesystem::path& archive);

}  // namespace bpfplug::matrix
