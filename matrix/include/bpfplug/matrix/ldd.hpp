// What `ldd` says an ELF file needs, as paths to copy into the guest.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bpfplug::matrix {

struct SharedLibraries {
  std::vector<std::string> paths;      // libraries and the ELF interpreter, as ldd printed them
  std::vector<std::string> not_found;  // sonames ldd could not resolve (`libx.so => not found`)
  bool is_static = false;              // "not a dynamic executable" / "statically linked"
};

// Parses ldd's output. Pure: kernel-provided objects (linux-vdso.so.1) are left out, the
// interpreter line (`/lib64/ld-linux-x86-64.so.2 (0x...)`) is kept, and unresolved sonames are
// reported in not_found rather than thrown, so the caller names the ELF that needs them.
SharedLibraries parse_ldd(std::string_view ldd_output);

// Runs ldd on `elf` and parses it; throws MatrixError naming the ELF if a library is missing.
SharedLibraries shared_libraries_of(const std::string& elf);

}  // namespace bpfplug::matrix
