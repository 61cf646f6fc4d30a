// Replacing a small bookkeeping file so that readers see the old or the new text, never half.
#pragma once

#include <filesystem>
#include <string_view>

namespace bpfplug {

// Writes `text` to a temporary file beside `file` and renames it over `file`, creating the
// directory if needed. Throws Error on failure.
void replace_file(const std::filesystem::path& file, std::string_view text);

}  // namespace bpfplug
