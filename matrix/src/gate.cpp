#include "bpfplug/matrix/gate.hpp"

#include <algorithm>

#include "bpfplug/matrix/error.hpp"

namespace bpfplug::matrix {
namespace {

// How much of a feature a kernel delivers; skipped, not run and FAIL deliver nothing proven.
int rank(CellKind k) {
  switch (k) {
    case CellKind::pass:
    case CellKind::supported: return 3;
    case CellKind::fallback: return 2;
    case CellKind::unsupported: return 1;
    default: return 0;
  }
}

}  // namespace

Expectations parse_expectations(const nlohmann::json& json) {
  Expectations out;
  for (const auto& [guest, features] : json.items()) {
    if (guest.starts_with("_")) continue;  // "_comment" and the like
    for (const auto& [feature, kind] : features.items()) {
      CellKind k = kind_from_name(kind.get<std::string>());
      if (rank(k) == 0)
        throw MatrixError("expectations: " + guest + " / " + feature + " is '" + kind.get<std::string>() +
                          "'; only pass, supported, fallback or unsupported can be expected");
      out[guest][feature] = k;
    }
  }
  return out;
}

GateReport gate(const Expectations& expected, const CompatTable& table) {
  GateReport report;
  for (const auto& [guest, features] : expected) {
    auto column = std::find(table.guests.begin(), table.guests.end(), guest);
    for (const auto& [feature, want] : features) {
      GateFinding finding{guest, feature, std::string(kind_name(want)), "no result for this kernel"};
      auto row = std::find(table.features.begin(), table.features.end(), feature);
      if (row == table.features.end()) {
        finding.actual = "no such feature row";
        report.regressions.push_back(finding);
        continue;
      }
      if (column == table.guests.end()) {
        report.regressions.push_back(finding);
        continue;
      }
      const Cell& cell = table.cells[row - table.features.begin()][column - table.guests.begin()];
      finding.actual = std::string(kind_name(cell.kind)) + (cell.reason.empty() ? "" : ": " + cell.reason);
      if (cell.kind == CellKind::fail || rank(cell.kind) < rank(want)) report.regressions.push_back(finding);
      else if (rank(cell.kind) > rank(want)) report.improvements.push_back(finding);
    }
  }
  return report;
}

nlohmann::json observed_expectations(const CompatTable& table) {
  nlohmann::json out = nlohmann::json::object();
  nlohmann::json unproven = nlohmann::json::object();
  for (std::size_t g = 0; g < table.guests.size(); ++g) {
    for (std::size_t f = 0; f < table.features.size(); ++f) {
      const Cell& cell = table.cells[f][g];
      if (rank(cell.kind) == 0)
        unproven[table.guests[g]][table.features[f]] = std::string(kind_name(cell.kind)) + ": " + cell.reason;
      else
        out[table.guests[g]][table.features[f]] = kind_name(cell.kind);
    }
  }
  if (!unproven.empty()) out["_unproven"] = unproven;
  return out;
}

}  // namespace bpfplug::matrix
