// The rows of the compatibility table: every feature, the tests that prove it, and the kernel
// features (as `bpfplug probe` names them) it needs. The one place a feature row is defined.
#pragma once

#include <string_view>
#include <vector>

namespace bpfplug::matrix {

enum class CellKind { pass, supported, fallback, unsupported, skipped, not_run, fail };

struct FeatureRow {
  std::string_view feature;                 // the row's title
  std::vector<std::string_view> tests;      // gtest name patterns (* and ?); none: the probe decides
  std::vector<std::string_view> requires_features;  // probe features the row needs
  CellKind when_missing = CellKind::unsupported;    // what the row is on a kernel without one
  std::vector<std::string_view> degrades_without;  // probe features whose absence makes a pass a fallback
};

const std::vector<FeatureRow>& feature_rows();

}  // namespace bpfplug::matrix
