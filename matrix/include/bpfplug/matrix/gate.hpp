// The CI gate: what each kernel is expected to support (matrix/expectations.json) against what
// the last run measured. A feature that got worse on any kernel fails the run.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bpfplug/matrix/compat_table.hpp"

namespace bpfplug::matrix {

// guest -> feature -> expected kind (pass, supported, fallback or unsupported; never FAIL).
using Expectations = std::map<std::string, std::map<std::string, CellKind>>;

// Throws MatrixError on a kind that is not an outcome a kernel may be expected to have.
Expectations parse_expectations(const nlohmann::json& json);

struct GateFinding {
  std::string guest, feature;
  std::string expected, actual;  // kind names; actual includes the reason
};

struct GateReport {
  std::vector<GateFinding> regressions;   // worse than expected, or not measured: fails CI
  std::vector<GateFinding> improvements;  // better than expected: update the expectations
  bool passed() const { return regressions.empty(); }
};

// Pure. A guest or feature the expectations name but the table lacks is a regression (it was
// not measured); FAIL, skipped and not run are worse than every expectation.
GateReport gate(const Expectations& expected, const CompatTable& table);

// Pure: expectations as measured, for a first matrix/expectations.json or an update after an
// improvement. What failed, skipped or did not run is left out (listed under "_unproven"): a
// FAIL is never recorded as expected.
nlohmann::json observed_expectations(const CompatTable& table);

}  // namespace bpfplug::matrix
