#include "bpfplug/matrix/gtest_outcomes.hpp"

#include <cctype>
#include <optional>
#include <set>
#include <sstream>

namespace bpfplug::matrix {
namespace {

using nlohmann::json;

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> lines;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

// "[  SKIPPED ] Suite.Test (0 ms)" -> "Suite.Test" when the line has `tag`.
std::optional<std::string> tagged_name(const std::string& line, std::string_view tag) {
  if (!line.starts_with(tag)) return std::nullopt;
  std::string rest = line.substr(tag.size());
  if (auto paren = rest.find(" ("); paren != std::string::npos) rest.resize(paren);
  if (auto comma = rest.find(", where "); comma != std::string::npos) rest.resize(comma);
  return rest;
}

std::string trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(s.begin());
  return s;
}

// The members gtest itself writes for a test case; anything else is a RecordProperty.
bool is_gtest_member(const std::string& key) {
  static const std::set<std::string> members = {"name",  "status",    "result",     "timestamp", "time",
                                                "classname", "failures", "value_param", "type_param",
                                                "file",  "line"};
  return members.contains(key);
}

constexpr std::string_view kRun = "[ RUN      ] ";
constexpr std::string_view kOk = "[       OK ] ";
constexpr std::string_view kFailed = "[  FAILED  ] ";
constexpr std::string_view kSkipped = "[  SKIPPED ] ";

}  // namespace

// When the test binary (or the guest) died before the JSON was sent: what the console output
// says. The test running at the end failed, for `why`.
std::vector<TestOutcome> tests_from_console(std::string_view output, const std::string& why) {
  std::vector<TestOutcome> tests;
  auto skips = skip_messages(output);
  std::optional<std::string> running;
  std::string said;  // what the running test printed: gtest's failure text is in there
  for (const auto& line : lines_of(output)) {
    if (auto name = tagged_name(line, kRun)) {
      running = name;
      said.clear();
    } else if (running && tagged_name(line, kOk) == running) {
      tests.push_back({*running, "passed", {}});
      running.reset();
    } else if (running && tagged_name(line, kSkipped) == running) {
      tests.push_back({*running, "skipped", skips[*running]});
      running.reset();
    } else if (running && tagged_name(line, kFailed) == running) {
      tests.push_back({*running, "failed", trimmed(said)});
      running.reset();
    } else if (running && said.size() < 4000) {
      said += line + "\n";
    }
  }
  if (running) tests.push_back({*running, "failed", why});
  return tests;
}

std::map<std::string, std::string> skip_messages(std::string_view console_output) {
  std::map<std::string, std::string> messages;
  std::optional<std::string> running;
  std::optional<std::string> message;  // collecting after "FILE:LINE: Skipped"
  for (const auto& line : lines_of(console_output)) {
    if (auto name = tagged_name(line, kRun)) {
      running = name;
      message.reset();
    } else if (auto skipped = tagged_name(line, kSkipped); skipped && running == skipped) {
      messages[*running] = trimmed(message.value_or(""));
      running.reset();
      message.reset();
    } else if (running && !message && line.ends_with(": Skipped")) {
      message = "";
    } else if (message) {
      *message += (message->empty() ? "" : "\n") + line;
    }
  }
  return messages;
}

std::vector<TestOutcome> tests_from_gtest_json(const json& gtest, std::string_view console_output) {
  auto skips = skip_messages(console_output);
  std::vector<TestOutcome> tests;
  for (const auto& suite : gtest.value("testsuites", json::array())) {
    std::string suite_name = suite.value("name", "");
    for (const auto& tc : suite.value("testsuite", json::array())) {
      if (tc.value("status", "RUN") == "NOTRUN") continue;
      std::string key = suite_name + "." + tc.value("name", "");
      TestOutcome t{key, "passed", {}};
      if (tc.contains("value_param")) t.name += " " + tc["value_param"].get<std::string>();
      for (const auto& [k, v] : tc.items())
        if (!is_gtest_member(k)) t.properties[k] = v.is_string() ? v.get<std::string>() : v.dump();
      if (tc.contains("failures") && !tc["failures"].empty()) {
        t.status = "failed";
        for (const auto& f : tc["failures"]) t.message += (t.message.empty() ? "" : "\n") + f.value("failure", "");
      } else if (tc.value("result", "") == "SKIPPED") {
        t.status = "skipped";
        if (auto it = skips.find(key); it != skips.end()) t.message = it->second;
      }
      tests.push_back(std::move(t));
    }
  }
  return tests;
}

}  // namespace bpfplug::matrix
