// Test outcomes from what gtest writes: its JSON report, or its console output when the test
// binary or the guest died before the report was written.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace bpfplug::matrix {

struct TestOutcome {
  std::string name;     // "Suite.Test", then ` VALUE` for value-parameterised tests: `... "reno"`
  std::string status;   // passed | failed | skipped
  std::string message;  // failure text, or the GTEST_SKIP message
  // What the test recorded with RecordProperty (figures it measured), as text.
  std::map<std::string, std::string> properties = {};
};

// Pure: gtest's --gtest_output=json document as outcomes (tests filtered out are left out).
// gtest 1.12 does not put GTEST_SKIP messages in its JSON; `console_output` (the test binary's
// stdout) supplies them when given.
std::vector<TestOutcome> tests_from_gtest_json(const nlohmann::json& gtest, std::string_view console_output = {});

// Pure: "Suite.Test" -> skip message, from gtest's console output.
std::map<std::string, std::string> skip_messages(std::string_view console_output);

// Pure: outcomes from gtest's console output alone. The test still running at the end of it
// failed, with `why` as its message.
std::vector<TestOutcome> tests_from_console(std::string_view console_output, const std::string& why);

}  // namespace bpfplug::matrix
