// One guest's results: parsed from its serial log, written and read as JSON.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bpfplug/matrix/gtest_outcomes.hpp"

namespace bpfplug::matrix {

struct GuestResult {
  std::string guest;  // "6.1", or "6.18 (host)"
  std::string release;
  nlohmann::json probe;                        // `bpfplug --json probe`; null when absent
  std::map<std::string, std::string> modules;  // name -> loaded | failed | builtin | missing
  std::vector<TestOutcome> tests;
  std::optional<int> command_exit;
  double boot_seconds = 0;  // guest uptime when /init started
  double wall_seconds = 0;  // host time, qemu start to exit
  bool timed_out = false;
  std::vector<std::string> missing_markers;  // expected markers the log lacks
  std::vector<std::string> errors;           // unreadable blocks, kernel panics and warnings
  std::string output;  // the command's console output (not written to the result file)
  std::string dmesg;   // the guest's kernel log (not written to the result file)

  // /init reached its end (the tests may still have failed).
  bool completed() const;
};

// Pure: what a serial log says. Kernel console messages ("[   12.345678] ...\n") may be
// interleaved anywhere, even inside a line of a block; they are removed before decoding, and a
// block must decode to the byte count announced before it. `expect_gtest` is false for a debug
// command that writes no gtest JSON.
GuestResult parse_serial_log(std::string_view log, bool expect_gtest = true);

nlohmann::json to_json(const GuestResult& result);
GuestResult guest_result_from_json(const nlohmann::json& json);

}  // namespace bpfplug::matrix
