// The lines the guest's /init prints on the serial console, and the runner looks for.
// Both sides build them here, so they cannot drift apart.
//
//   @@BPFPLUG:boot:SECONDS@@          guest uptime when /init started
//   @@BPFPLUG:release:RELEASE@@       uname -r
//   @@BPFPLUG:module:NAME:STATE@@     loaded | failed | builtin | missing
//   @@BPFPLUG:BLOCK:bytes:N@@         then BLOCK:begin, base64 lines, BLOCK:end
//   @@BPFPLUG:exit:CODE@@             exit status of the command run inside
//   @@BPFPLUG:done@@                  /init reached its end; poweroff follows
#pragma once

#include <string>
#include <string_view>

namespace bpfplug::matrix::markers {

inline constexpr std::string_view kPrefix = "@@BPFPLUG:";
inline constexpr std::string_view kSuffix = "@@";

// Blocks: files the guest sends out base64-encoded (kernel messages may land between lines).
inline constexpr std::string_view kProbeBlock = "probe";    // bpfplug --json probe
inline constexpr std::string_view kGtestBlock = "gtest";    // --gtest_output=json
inline constexpr std::string_view kOutputBlock = "output";  // the command's stdout and stderr
inline constexpr std::string_view kDmesgBlock = "dmesg";    // the kernel log, at the end

inline std::string marker(std::string_view body) {
  return std::string(kPrefix) + std::string(body) + std::string(kSuffix);
}

}  // namespace bpfplug::matrix::markers
