#include "bpfplug/matrix/ldd.hpp"

#include "bpfplug/matrix/error.hpp"
#include "bpfplug/matrix/subprocess.hpp"

namespace bpfplug::matrix {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// "/lib/x/libc.so.6 (0x00007f...)" -> "/lib/x/libc.so.6"
std::string_view without_address(std::string_view s) {
  auto paren = s.rfind(" (0x");
  return trim(paren == std::string_view::npos ? s : s.substr(0, paren));
}

}  // namespace

SharedLibraries parse_ldd(std::string_view output) {
  SharedLibraries libs;
  while (!output.empty()) {
    auto eol = output.find('\n');
    std::string_view line = trim(output.substr(0, eol));
    output.remove_prefix(eol == std::string_view::npos ? output.size() : eol + 1);

    if (line.find("not a dynamic executable") != std::string_view::npos ||
        line.find("statically linked") != std::string_view::npos) {
      libs.is_static = true;
      continue;
    }
    if (auto arrow = line.find(" => "); arrow != std::string_view::npos) {
      std::string_view soname = trim(line.substr(0, arrow));
      std::string_view target = trim(line.substr(arrow + 4));
      if (target.starts_with("not found")) {
        libs.not_found.emplace_back(soname);
        continue;
      }
      target = without_address(target);
      if (target.starts_with("/")) libs.paths.emplace_back(target);  // "=>  (0x...)": kernel-provided
      continue;
    }
    // The interpreter: "/lib64/ld-linux-x86-64.so.2 (0x...)". Anything else without a path
    // (linux-vdso.so.1, linux-gate.so.1) lives in the kernel.
    if (line.starts_with("/")) libs.paths.emplace_back(without_address(line));
  }
  return libs;
}

SharedLibraries shared_libraries_of(const std::string& elf) {
  Captured ldd = run_capture({"ldd", elf});
  SharedLibraries libs = parse_ldd(ldd.out);
  if (!libs.not_found.empty()) {
    std::string names;
    for (const auto& n : libs.not_found) names += (names.empty() ? "" : ", ") + n;
    throw MatrixError("ldd " + elf + ": shared libraries not found: " + names);
  }
  if (ldd.exit_code != 0 && !libs.is_static)
    throw MatrixError("ldd " + elf + " failed (exit " + std::to_string(ldd.exit_code) + "): " + ldd.out);
  return libs;
}

}  // namespace bpfplug::matrix
