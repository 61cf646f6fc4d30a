// sysctl access rooted at a directory (/proc/sys in production, a temporary tree in tests),
// and the congestion-control knobs of net.ipv4 on top of it.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace bpfplug {

class Sysctl {
 public:
  explicit Sysctl(std::filesystem::path root = "/proc/sys") : root_(std::move(root)) {}

  // key in dotted form: "net.ipv4.tcp_congestion_control". Throws Error on failure.
  std::string read(std::string_view key) const;
  void write(std::string_view key, std::string_view value) const;
  std::filesystem::path path_of(std::string_view key) const;

 private:
  std::filesystem::path root_;
};

// The congestion controls the kernel offers and which one new sockets use.
class CongestionControlSysctl {
 public:
  explicit CongestionControlSysctl(const Sysctl& sysctl) : sysctl_(sysctl) {}

  std::vector<std::string> available() const;
  std::vector<std::string> allowed() const;
  std::string current_default() const;
  bool is_available(std::string_view name) const;

  void set_default(std::string_view name) const;
  // Adds `name` to net.ipv4.tcp_allowed_congestion_control (no-op if already there).
  void allow(std::string_view name) const;
  // Replaces net.ipv4.tcp_allowed_congestion_control with exactly `names`.
  void set_allowed(const std::vector<std::string>& names) const;

 private:
  const Sysctl& sysctl_;
};

std::vector<std::string> split_words(std::string_view text);

}  // namespace bpfplug
