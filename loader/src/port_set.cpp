#include "bpfplug/port_set.hpp"

#include <bit>

#include "bpfplug/error.hpp"
#include "bpfplug/plugin_metadata.hpp"

namespace bpfplug {
namespace {

std::uint16_t parse_port(std::string_view text, std::string_view element, std::string_view what) {
  auto n = parse_integer(text);
  if (!n || text.starts_with("0x") || text.starts_with("-") || *n < 1 || *n > 65535)
    throw Error(Exit::usage, std::string(what) + ": '" + std::string(element) + "' is not a port or a range of ports",
                "write ports 1-65535 and ranges LOW-HIGH separated by commas, e.g. 8080,9000-9100");
  return static_cast<std::uint16_t>(*n);
}

}  // namespace

PortSet PortSet::parse(std::string_view text, std::string_view what) {
  PortSet set;
  if (text.empty()) return set;
  for (std::size_t start = 0;;) {
    std::size_t end = text.find(',', start);
    std::string_view element = text.substr(start, end == std::string_view::npos ? end : end - start);
    auto dash = element.find('-');
    std::uint16_t low = parse_port(element.substr(0, dash), element, what);
    std::uint16_t high = dash == std::string_view::npos ? low : parse_port(element.substr(dash + 1), element, what);
    if (high < low)
      throw Error(Exit::usage, std::string(what) + ": the range '" + std::string(element) + "' runs backwards",
                  "write it low-high: " + std::to_string(high) + "-" + std::to_string(low));
    for (std::uint32_t p = low; p <= high; ++p) set.add(static_cast<std::uint16_t>(p));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return set;
}

bool PortSet::empty() const {
  for (auto w : words_)
    if (w) return false;
  return true;
}

std::size_t PortSet::size() const {
  std::size_t n = 0;
  for (auto w : words_) n += std::popcount(w);
  return n;
}

std::string PortSet::to_string() const {
  std::string out;
  for (std::uint32_t p = 1; p <= 65535; ++p) {
    if (!contains(static_cast<std::uint16_t>(p))) continue;
    std::uint32_t high = p;
    while (high < 65535 && contains(static_cast<std::uint16_t>(high + 1))) ++high;
    if (!out.empty()) out += ',';
    out += std::to_string(p);
    if (high > p) out += "-" + std::to_string(high);
    p = high;
  }
  return out;
}

}  // namespace bpfplug
