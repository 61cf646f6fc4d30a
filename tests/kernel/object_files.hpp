// BPF objects as files on disk, for `bpfplug swap --object FILE`: the test-only objects built
// in tests/bpf/ and the built-in plugins, written to a temporary file removed afterwards.
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace bpfplug::test {

std::span<const std::byte> clash_cubic_object();       // plugin "clash-cubic", registers "cubic"
std::span<const std::byte> dctcp_user_build_object();  // plugin "dctcp" 9.9.9-user, registers bpf_dctcp
std::span<const std::byte> dctcp_renamed_object();     // plugin "dctcp", registers bpf_dctcp2
std::span<const std::byte> wrong_ops_object();         // plugin "dctcp", implements bpf_dummy_ops
std::span<const std::byte> builtin_object(const std::string& plugin);  // default variant

class TempObjectFile {
 public:
  TempObjectFile(std::span<const std::byte> bytes, const std::string& stem);
  explicit TempObjectFile(const std::string& text, const std::string& stem);
  ~TempObjectFile();
  TempObjectFile(const TempObjectFile&) = delete;
  TempObjectFile& operator=(const TempObjectFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace bpfplug::test
