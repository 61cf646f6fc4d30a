#include "bpfplug/atomic_file.hpp"

#include <cerrno>
#include <fstream>

#include "bpfplug/error.hpp"

namespace bpfplug {

void replace_file(const std::filesystem::path& file, std::string_view text) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  auto tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw Error(Exit::failure, "can't write " + tmp.string() + ": " + errno_text(errno));
  }
  std::filesystem::rename(tmp, file, ec);
  if (ec) throw Error(Exit::failure, "can't replace " + file.string() + ": " + ec.message());
}

}  // namespace bpfplug
