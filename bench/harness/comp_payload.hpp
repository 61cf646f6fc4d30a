// The bytes the compression benchmark sends: a 16 MiB block that a transfer repeats as often
// as it needs (the codec's window, 128 KiB at most, never sees the repetition), generated the
// same way in every process and on every machine.
#pragma once

#include <string>

namespace bpfplug::bench {

inline constexpr std::size_t kPayloadBlockBytes = 16u << 20;

// "text": JSON request-log lines (the calibration's built-in corpus, comp_calibration.hpp);
// "random": a fixed-seed pseudo-random stream, incompressible; otherwise a file's path, read
// whole. Throws Error(usage) for an empty or unreadable file.
std::string payload_block(const std::string& payload);

}  // namespace bpfplug::bench
