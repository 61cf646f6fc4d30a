// The CI gate: a feature doing worse than matrix/expectations.json says fails the run.
#include <gtest/gtest.h>

#include "bpfplug/matrix/error.hpp"
#include "bpfplug/matrix/gate.hpp"

namespace bpfplug::matrix {
namespace {

CompatTable table() {
  CompatTable t;
  t.guests = {"5.10", "6.1"};
  t.features = {"loads", "swap via link"};
  t.cells = {{{CellKind::fallback, "map mode"}, {CellKind::pass, ""}},
             {{CellKind::fallback, "map mode"}, {CellKind::fail, "Swap.X: boom"}}};
  return t;
}

TEST(MatrixGate, PassesWhenEveryKernelDoesWhatItShould) {
  auto e = parse_expectations(nlohmann::json::parse(
      R"({"_comment": "x", "5.10": {"loads": "fallback", "swap via link": "fallback"}, "6.1": {"loads": "pass"}})"));
  GateReport r = gate(e, table());
  EXPECT_TRUE(r.passed());
  EXPECT_TRUE(r.improvements.empty());
}

TEST(MatrixGate, AFailOrAWorseOutcomeIsARegression) {
  auto e = parse_expectations(nlohmann::json::parse(
      R"({"5.10": {"loads": "pass"}, "6.1": {"swap via link": "unsupported"}})"));
  GateReport r = gate(e, table());
  ASSERT_EQ(r.regressions.size(), 2u);
  EXPECT_EQ(r.regressions[0].guest, "5.10");
  EXPECT_EQ(r.regressions[0].actual, "fallback: map mode");
  EXPECT_EQ(r.regressions[1].actual, "FAIL: Swap.X: boom");
}

TEST(MatrixGate, WhatWasNotMeasuredIsARegressionAndBetterIsANote) {
  auto e = parse_expectations(nlohmann::json::parse(
      R"({"6.12": {"loads": "pass"}, "6.1": {"no such row": "pass"}, "5.10": {"loads": "unsupported"}})"));
  GateReport r = gate(e, table());
  EXPECT_EQ(r.regressions.size(), 2u);
  ASSERT_EQ(r.improvements.size(), 1u);
  EXPECT_EQ(r.improvements[0].guest, "5.10");
}

TEST(MatrixGate, AFailIsNeverAnExpectation) {
  EXPECT_THROW(parse_expectations(nlohmann::json::parse(R"({"6.1": {"loads": "FAIL"}})")), MatrixError);
  EXPECT_THROW(parse_expectations(nlohmann::json::parse(R"({"6.1": {"loads": "skipped"}})")), MatrixError);
  EXPECT_THROW(parse_expectations(nlohmann::json::parse(R"({"6.1": {"loads": "works"}})")), MatrixError);
}

}  // namespace
}  // namespace bpfplug::matrix

namespace bpfplug::matrix {
namespace {

TEST(MatrixGate, ObservedExpectationsNeverRecordAFail) {
  nlohmann::json j = observed_expectations(table());
  EXPECT_EQ(j["5.10"]["loads"], "fallback");
  EXPECT_EQ(j["6.1"]["loads"], "pass");
  EXPECT_FALSE(j["6.1"].contains("swap via link"));
  EXPECT_EQ(j["_unproven"]["6.1"]["swap via link"], "FAIL: Swap.X: boom");
  // What it writes, the gate reads, and the run it came from passes.
  EXPECT_TRUE(gate(parse_expectations(j), table()).passed());
}

}  // namespace
}  // namespace bpfplug::matrix
