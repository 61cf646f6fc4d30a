#include "kernel/object_files.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "bpfplug/catalogue.hpp"
#include "clash_cubic.skel.h"
#include "dctcp_renamed.skel.h"
#include "dctcp_user.skel.h"
#include "wrong_ops.skel.h"

namespace bpfplug::test {

std::span<const std::byte> clash_cubic_object() { return skeleton_elf(&clash_cubic_bpf__elf_bytes); }
std::span<const std::byte> dctcp_user_build_object() { return skeleton_elf(&dctcp_user_bpf__elf_bytes); }
std::span<const std::byte> dctcp_renamed_object() { return skeleton_elf(&dctcp_renamed_bpf__elf_bytes); }
std::span<const std::byte> wrong_ops_object() { return skeleton_elf(&wrong_ops_bpf__elf_bytes); }

std::span<const std::byte> builtin_object(const std::string& plugin) {
  static const Catalogue catalogue = Catalogue::builtin();
  return catalogue.get(plugin).elf;
}

TempObjectFile::TempObjectFile(std::span<const std::byte> bytes, const std::string& stem)
    : path_("/tmp/bpfplug-test-" + std::to_string(getpid()) + "-" + stem + ".bpf.o") {
  std::ofstream(path_, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

TempObjectFile::TempObjectFile(const std::string& text, const std::string& stem)
    : TempObjectFile(std::as_bytes(std::span(text.data(), text.size())), stem) {}

TempObjectFile::~TempObjectFile() {
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

}  // namespace bpfplug::test
