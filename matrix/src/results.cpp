#include "bpfplug/matrix/results.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "bpfplug/matrix/markers.hpp"

namespace bpfplug::matrix {
namespace {

using nlohmann::json;

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// Length of a printk timestamp "[   12.345678]" at the start of `s`, or 0.
std::size_t timestamp_length(std::string_view s) {
  std::size_t i = 1;
  if (s.empty() || s[0] != '[') return 0;
  while (i < s.size() && s[i] == ' ') ++i;
  std::size_t digits = i;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (i == digits || i >= s.size() || s[i] != '.') return 0;
  std::size_t fraction = ++i;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (i == fraction || i >= s.size() || s[i] != ']') return 0;
  return i + 1;
}

// The log without carriage returns and without kernel console messages, wherever they landed:
// a message printed in the middle of a line of ours takes its timestamp to its newline with it.
std::string without_kernel_messages(std::string_view log) {
  std::string out;
  out.reserve(log.size());
  for (std::size_t i = 0; i < log.size();) {
    if (log[i] == '[' && timestamp_length(log.substr(i)) > 0) {
      std::size_t eol = log.find('\n', i);
      i = eol == std::string_view::npos ? log.size() : eol + 1;
      continue;
    }
    if (log[i] != '\r') out += log[i];
    ++i;
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  bool padding = false;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    int v = value(c);
    if (v < 0 || padding) return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

struct Marker {
  std::string body;
  std::size_t begin, end;  // of the whole marker in the cleaned log
};

std::vector<Marker> find_markers(const std::string& log) {
  std::vector<Marker> found;
  for (std::size_t at = log.find(markers::kPrefix); at != std::string::npos; at = log.find(markers::kPrefix, at + 1)) {
    std::size_t body = at + markers::kPrefix.size();
    std::size_t close = log.find(markers::kSuffix, body);
    std::size_t eol = log.find('\n', body);
    if (close == std::string::npos || (eol != std::string::npos && eol < close)) continue;
    found.push_back({log.substr(body, close - body), at, close + markers::kSuffix.size()});
  }
  return found;
}

const Marker* first(const std::vector<Marker>& ms, std::string_view body) {
  auto it = std::find_if(ms.begin(), ms.end(), [&](const Marker& m) { return m.body == body; });
  return it == ms.end() ? nullptr : &*it;
}

const Marker* with_prefix(const std::vector<Marker>& ms, std::string_view prefix) {
  auto it = std::find_if(ms.begin(), ms.end(), [&](const Marker& m) { return m.body.starts_with(prefix); });
  return it == ms.end() ? nullptr : &*it;
}

// A block's bytes, checked against the size announced before it; nullopt when absent or damaged
// (the reason is added to `result.errors`, the absent markers to `result.missing_markers`).
std::optional<std::string> block(const std::string& log, const std::vector<Marker>& ms, std::string_view name,
                                 GuestResult& result) {
  std::string n(name);
  const Marker* begin = first(ms, n + ":begin");
  const Marker* end = first(ms, n + ":end");
  if (!begin) result.missing_markers.push_back(n + ":begin");
  if (!end) result.missing_markers.push_back(n + ":end");
  if (!begin || !end || end->begin < begin->end) return std::nullopt;
  auto bytes = base64_decode(std::string_view(log).substr(begin->end, end->begin - begin->end));
  if (!bytes) {
    result.errors.push_back(n + " block: not base64");
    return std::nullopt;
  }
  if (const Marker* size = with_prefix(ms, n + ":bytes:")) {
    std::string announced = size->body.substr(n.size() + 7);
    if (announced != std::to_string(bytes->size())) {
      result.errors.push_back(n + " block: " + std::to_string(bytes->size()) + " bytes decoded, " + announced + " sent");
      return std::nullopt;
    }
  }
  return bytes;
}

std::optional<json> json_block(const std::string& log, const std::vector<Marker>& ms, std::string_view name,
                               GuestResult& result) {
  auto bytes = block(log, ms, name, result);
  if (!bytes) return std::nullopt;
  auto parsed = json::parse(*bytes, nullptr, false);
  if (parsed.is_discarded()) {
    result.errors.push_back(std::string(name) + " block: not JSON");
    return std::nullopt;
  }
  return parsed;
}

// The kernel's last words, if it panicked: "Kernel panic - not syncing: ..." and the oops line.
std::string panic_of(std::string_view raw_log) {
  auto panic = raw_log.find("Kernel panic - not syncing:");
  if (panic == std::string_view::npos) return {};
  std::string what(raw_log.substr(panic, raw_log.find_first_of("\r\n", panic) - panic));
  if (auto oops = raw_log.find("Oops: "); oops != std::string_view::npos && oops < panic)
    what += " (" + std::string(raw_log.substr(oops, raw_log.find_first_of("\r\n", oops) - oops)) + ")";
  return what;
}

}  // namespace

bool GuestResult::completed() const {
  return !timed_out && std::find(missing_markers.begin(), missing_markers.end(), "done") == missing_markers.end();
}

GuestResult parse_serial_log(std::string_view raw_log, bool expect_gtest) {
  GuestResult r;
  std::string log = without_kernel_messages(raw_log);
  auto ms = find_markers(log);

  if (const Marker* m = with_prefix(ms, "boot:")) r.boot_seconds = std::atof(m->body.c_str() + 5);
  else r.missing_markers.push_back("boot");
  if (const Marker* m = with_prefix(ms, "release:")) r.release = m->body.substr(8);
  else r.missing_markers.push_back("release");
  for (const auto& m : ms) {
    if (!m.body.starts_with("module:")) continue;
    auto colon = m.body.rfind(':');
    r.modules[m.body.substr(7, colon - 7)] = m.body.substr(colon + 1);
  }

  if (auto probe = json_block(log, ms, markers::kProbeBlock, r)) r.probe = *probe;
  if (const Marker* m = with_prefix(ms, "exit:"); m && !m->body.substr(5).empty() && is_digit(m->body[5]))
    r.command_exit = std::atoi(m->body.c_str() + 5);
  else r.missing_markers.push_back("exit");
  r.output = block(log, ms, markers::kOutputBlock, r).value_or("");
  std::string panic = panic_of(raw_log);
  if (!panic.empty()) r.errors.push_back(panic);
  if (expect_gtest) {
    if (auto gtest = json_block(log, ms, markers::kGtestBlock, r)) {
      r.tests = tests_from_gtest_json(*gtest, r.output);
    } else if (!r.output.empty()) {  // the test binary died; the guest went on
      std::string exit = r.command_exit ? std::to_string(*r.command_exit) : "?";
      r.tests = tests_from_console(r.output, "the test binary ended during this test (exit " + exit + "): crashed or killed");
      if (!r.tests.empty()) r.errors.push_back("no gtest JSON: outcomes read from the test binary's output");
    } else if (with_prefix(ms, "probe:end")) {  // the guest died while the tests ran
      std::string why = panic.empty() ? "the guest stopped during this test (see the serial log)"
                                      : "the guest kernel died during this test: " + panic;
      r.tests = tests_from_console(log.substr(with_prefix(ms, "probe:end")->end), why);
      if (!r.tests.empty()) r.errors.push_back("no gtest JSON: outcomes read from the serial console");
    }
  }
  // Optional: an older /init did not send it, and a missing one must not fail a run.
  if (first(ms, std::string(markers::kDmesgBlock) + ":begin")) {
    r.dmesg = block(log, ms, markers::kDmesgBlock, r).value_or("");
    std::istringstream lines(r.dmesg);
    for (std::string line; std::getline(lines, line);) {
      if (line.find("WARNING: ") == std::string::npos && line.find("BUG: ") == std::string::npos) continue;
      auto text = line.find("] ");  // after the timestamp
      r.errors.push_back("kernel: " + line.substr(text == std::string::npos ? 0 : text + 2));
    }
  }
  if (!first(ms, "done")) r.missing_markers.push_back("done");
  return r;
}

json to_json(const GuestResult& r) {
  json tests = json::array();
  for (const auto& t : r.tests) {
    json test = {{"name", t.name}, {"status", t.status}, {"message", t.message}};
    if (!t.properties.empty()) test["properties"] = t.properties;
    tests.push_back(std::move(test));
  }
  json j = {{"guest", r.guest},
            {"release", r.release},
            {"probe", r.probe},
            {"modules", r.modules},
            {"tests", tests},
            {"command_exit", r.command_exit ? json(*r.command_exit) : json(nullptr)},
            {"boot_seconds", r.boot_seconds},
            {"wall_seconds", r.wall_seconds},
            {"timed_out", r.timed_out},
            {"missing_markers", r.missing_markers},
            {"errors", r.errors}};
  return j;
}

GuestResult guest_result_from_json(const json& j) {
  GuestResult r;
  r.guest = j.value("guest", "");
  r.release = j.value("release", "");
  r.probe = j.value("probe", json(nullptr));
  r.modules = j.value("modules", std::map<std::string, std::string>{});
  for (const auto& t : j.value("tests", json::array()))
    r.tests.push_back({t.value("name", ""), t.value("status", ""), t.value("message", ""),
                       t.value("properties", std::map<std::string, std::string>{})});
  if (j.contains("command_exit") && j["command_exit"].is_number_integer()) r.command_exit = j["command_exit"].get<int>();
  r.boot_seconds = j.value("boot_seconds", 0.0);
  r.wall_seconds = j.value("wall_seconds", 0.0);
  r.timed_out = j.value("timed_out", false);
  r.missing_markers = j.value("missing_markers", std::vector<std::string>{});
  r.errors = j.value("errors", std::vector<std::string>{});
  return r;
}

}  // namespace bpfplug::matrix
