#include "bpfplug/sysctl.hpp"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

#include "bpfplug/error.hpp"

namespace bpfplug {

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::istringstream in{std::string(text)};
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

std::filesystem::path Sysctl::path_of(std::string_view key) const {
  std::string relative(key);
  std::replace(relative.begin(), relative.end(), '.', '/');
  return root_ / relative;
}

std::string Sysctl::read(std::string_view key) const {
  std::ifstream in(path_of(key));
  if (!in) throw Error(Exit::failure, "can't read sysctl " + std::string(key) + ": " + errno_text(errno));
  std::string value((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
  return value;
}

void Sysctl::write(std::string_view key, std::string_view value) const {
  // One write(2) of the whole value, as sysctl(8) does: procfs parses per write.
  std::ofstream out(path_of(key), std::ios::out | std::ios::trunc);
  if (out) {
    out << value << '\n';
    out.flush();
  }
  if (!out) {
    int err = errno;
    throw Error(err == EACCES || err == EPERM ? Exit::permission : Exit::failure,
                "can't set sysctl " + std::string(key) + "=" + std::string(value) + ": " + errno_text(err),
                err == EACCES || err == EPERM ? "run as root" : "");
  }
}

std::vector<std::string> CongestionControlSysctl::available() const {
  return split_words(sysctl_.read("net.ipv4.tcp_available_congestion_control"));
}

std::vector<std::string> CongestionControlSysctl::allowed() const {
  return split_words(sysctl_.read("net.ipv4.tcp_allowed_congestion_control"));
}

std::string CongestionControlSysctl::current_default() const {
  return sysctl_.read("net.ipv4.tcp_congestion_control");
}

bool CongestionControlSysctl::is_available(std::string_view name) const {
  auto names = available();
  return std::find(names.begin(), names.end(), name) != names.end();
}

void CongestionControlSysctl::set_default(std::string_view name) const {
  sysctl_.write("net.ipv4.tcp_congestion_control", name);
}

void CongestionControlSysctl::allow(std::string_view name) const {
  auto names = allowed();
  if (std::find(names.begin(), names.end(), name) != names.end()) return;
  std::string list;
  for (const auto& n : names) list += n + " ";
  sysctl_.write("net.ipv4.tcp_allowed_congestion_control", list + std::string(name));
}

void CongestionControlSysctl::set_allowed(const std::vector<std::string>& names) const {
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : " ") + n;
  sysctl_.write("net.ipv4.tcp_allowed_congestion_control", list);
}

}  // namespace bpfplug
