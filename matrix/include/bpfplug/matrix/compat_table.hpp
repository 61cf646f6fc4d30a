// The compatibility table: features x kernels, each cell pass / fallback / unsupported (with the
// reason the probe gives) / skipped / not run / FAIL, rendered as docs/compatibility.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "bpfplug/matrix/feature_rows.hpp"
#include "bpfplug/matrix/results.hpp"

namespace bpfplug::matrix {

struct Cell {
  CellKind kind = CellKind::not_run;
  std::string reason;
};

// "pass", "supported", "fallback", "unsupported", "skipped", "not run", "FAIL".
std::string_view kind_name(CellKind kind);
// The inverse, for expectations; throws MatrixError on anything else.
CellKind kind_from_name(std::string_view name);

// gtest-style wildcard match: `*` any run of characters, `?` one character.
bool glob_match(std::string_view pattern, std::string_view text);

// Pure: one feature on one kernel.
Cell evaluate(const FeatureRow& row, const GuestResult& guest);

struct CompatTable {
  std::vector<std::string> guests;    // columns, in the order the results were given
  std::vector<std::string> features;  // rows
  std::vector<std::vector<Cell>> cells;  // [feature][guest]
};

CompatTable compat_table(const std::vector<GuestResult>& guests,
                         const std::vector<FeatureRow>& rows = feature_rows());

// Pure: docs/compatibility.md. `command` is the exact command line that generated it and
// `date` the day (YYYY-MM-DD); both go into the header.
std::string render_markdown(const CompatTable& table, const std::vector<GuestResult>& guests,
                            const std::string& command, const std::string& date);

}  // namespace bpfplug::matrix
