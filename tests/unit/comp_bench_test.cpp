// `bpfplug bench --comp` in user space: its arguments (paths, payloads, policies, sizes) and the
// report's arithmetic (medians over runs, comp-cost against the best of the others).
#include <gtest/gtest.h>

#include <functional>
#include <sstream>

#include "bpfplug/error.hpp"
#include "harness/comp_bench_config.hpp"
#include "harness/comp_bench_report.hpp"
#include "harness/comp_payload.hpp"

namespace bpfplug::bench {
namespace {

Exit code_of(const CompBenchWords& w) {
  try {
    resolve_comp(w);
  } catch (const Error& e) {
    return e.code();
  }
  return Exit::ok;
}

TEST(CompBenchConfig, DefaultsAreTheIssuesFourPathsTwoPayloadsThreePolicies) {
  auto c = resolve_comp(CompBenchWords{});
  ASSERT_EQ(c.paths.size(), 4u);
  EXPECT_EQ(c.paths[0].label(), "10 Mbit/s");
  EXPECT_EQ(c.paths[2].label(), "1 Gbit/s");
  EXPECT_EQ(c.paths[3].label(), "unshaped");
  EXPECT_EQ(c.payloads, (std::vector<std::string>{"text", "random"}));
  EXPECT_EQ(c.policies, kCompPolicies);
  EXPECT_EQ(c.rtt.count(), 0);
  // Sizes: --duration seconds at the path's rate, uncompressed.
  EXPECT_EQ(c.transfer_bytes(c.paths[0]), 5'000'000u);
  EXPECT_EQ(c.transfer_bytes(c.paths[3]), kUnshapedAssumedBps / 8 * 4);
  CompBenchWords w;
  w.size = "3mb";
  c = resolve_comp(w);
  EXPECT_EQ(c.transfer_bytes(c.paths[0]), 3u << 20);
}

TEST(CompBenchConfig, PoliciesRunInTheirOwnOrderAndAFileIsAPayload) {
  CompBenchWords w;
  w.policies = {"comp-cost", "none"};
  w.payload_file = "/etc/hostname";
  auto c = resolve_comp(w);
  EXPECT_EQ(c.policies, (std::vector<std::string>{"none", "comp-cost"}));
  EXPECT_EQ(c.payloads, (std::vector<std::string>{"text", "random", "file"}));
}

TEST(CompBenchConfig, RefusesWhatItCannotRun) {
  auto bad = [](const std::function<void(CompBenchWords&)>& change) {
    CompBenchWords w;
    change(w);
    return code_of(w);
  };
  EXPECT_EQ(bad([](auto& w) { w.rates = {}; }), Exit::usage);
  EXPECT_EQ(bad([](auto& w) { w.rates = {"fast"}; }), Exit::usage);
  EXPECT_EQ(bad([](auto& w) { w.rates = {"100kbit"}; }), Exit::usage);
  EXPECT_EQ(bad([](auto& w) { w.rates = {"10mbit", "10mbit"}; }), Exit::usage);
  EXPECT_EQ(bad([](auto& w) { w.payloads = {"json"}; }), Exit::usage);
  EXPECT_EQ(bad([](auto& w) { w.payloads = {"file"}; }), Exit::usage);  // without --payload-file
  EXPECT_EQ(bad([](auto& w) { w.policies = {"comp-lz4"}; }), Exit::usage);
  EXPECT_EQ(bad([](auto& w) { w.size = "0"; }), Exit::usage);
  EXPECT_EQ(bad([](auto& w) { w.seconds = 0; }), Exit::usage);
  EXPECT_EQ(bad([](auto& w) { w.runs = 0; }), Exit::usage);
  EXPECT_EQ(bad([](auto& w) { w.rtt = "20ms"; }), Exit::usage);  // the unshaped path has no delay line
  EXPECT_EQ(bad([](auto& w) {
              w.rtt = "20ms";
              w.rates = {"10mbit"};
            }),
            Exit::ok);
  EXPECT_EQ(bad([](auto& w) { w.buffer = "1pkt"; }), Exit::usage);
}

TEST(CompPayload, BlocksAreDeterministicAndCompressAsNamed) {
  auto text = payload_block("text"), random = payload_block("random");
  EXPECT_EQ(text.size(), kPayloadBlockBytes);
  EXPECT_EQ(random.size(), kPayloadBlockBytes);
  EXPECT_EQ(text, payload_block("text"));
  EXPECT_EQ(random, payload_block("random"));
  EXPECT_EQ(text.front(), '{');
  EXPECT_NE(random.substr(0, 64), random.substr(64, 64));
  EXPECT_THROW(payload_block("/nonexistent/payload"), Error);
}

Transfer transfer(const std::string& path, const std::string& payload, const std::string& policy, double seconds,
                  bool ok = true) {
  Transfer t;
  t.path = path;
  t.payload = payload;
  t.policy = policy;
  t.ok = ok;
  t.bytes = 1'000'000'000;
  t.wire_bytes = policy == "none" ? t.bytes : t.bytes / 4;
  t.seconds = seconds;
  t.program_cpu_s = 2;
  t.negotiated = policy != "none";
  return t;
}

TEST(CompBenchReport, CellsTakeMediansOfTheRunsThatCompletedAndJudgeCompCostAgainstTheBest) {
  CompBenchReport r;
  CompBenchWords w;
  w.rates = {"10mbit"};
  w.payloads = {"text"};
  w.runs = 3;
  r.config = resolve_comp(w);
  for (double s : {4.0, 4.4, 4.2}) r.transfers.push_back(transfer("10 Mbit/s", "text", "none", s));
  for (double s : {1.0, 1.2, 9.0}) r.transfers.push_back(transfer("10 Mbit/s", "text", "comp-ports", s));
  r.transfers.push_back(transfer("10 Mbit/s", "text", "comp-cost", 1.08));
  r.transfers.push_back(transfer("10 Mbit/s", "text", "comp-cost", 1.02));
  r.transfers.push_back(transfer("10 Mbit/s", "text", "comp-cost", 0, false));
  auto cells = r.cells();
  ASSERT_EQ(cells.size(), 3u);
  EXPECT_DOUBLE_EQ(cells[0].seconds, 4.2);
  EXPECT_DOUBLE_EQ(cells[1].seconds, 1.2);
  EXPECT_DOUBLE_EQ(cells[2].seconds, 1.05);  // two completed runs: their mean
  EXPECT_EQ(cells[2].failed, 1);
  EXPECT_EQ(cells[2].negotiated, 2);
  EXPECT_DOUBLE_EQ(cells[0].wire_ratio, 1.0);
  EXPECT_DOUBLE_EQ(cells[1].wire_ratio, 0.25);
  EXPECT_DOUBLE_EQ(cells[0].cpu_s_per_gb, 2.0);

  auto j = to_json(r);
  const auto& cost = j["cells"][2];
  EXPECT_EQ(cost["best"], "comp-ports");
  EXPECT_NEAR(cost["over_best"].get<double>(), 1.05 / 1.2 - 1, 1e-9);
  EXPECT_NEAR(cost["speedup_over_none"].get<double>(), 4.2 / 1.05, 1e-9);
  std::ostringstream table;
  print_comp_report(r, table);
  EXPECT_NE(table.str().find("within 5 % of the best: 1 of 1 cells"), std::string::npos) << table.str();
  EXPECT_NE(table.str().find("(1 failed)"), std::string::npos) << table.str();
  EXPECT_NE(table.str().find("failed: 10 Mbit/s text comp-cost run 0"), std::string::npos) << table.str();
}

TEST(CompBenchReport, ACompCostSlowerThanTheBestByMoreThanFivePercentIsFlagged) {
  CompBenchReport r;
  CompBenchWords w;
  w.rates = {"unshaped"};
  w.payloads = {"random"};
  r.config = resolve_comp(w);
  r.transfers = {transfer("unshaped", "random", "none", 1.0), transfer("unshaped", "random", "comp-ports", 3.0),
                 transfer("unshaped", "random", "comp-cost", 1.1)};
  std::ostringstream table;
  print_comp_report(r, table);
  EXPECT_NE(table.str().find("+10.0 % vs none, 0.91x none's speed  (outside 5 %)"), std::string::npos) << table.str();
  EXPECT_NE(table.str().find("within 5 % of the best: 0 of 1 cells"), std::string::npos) << table.str();
}

}  // namespace
}  // namespace bpfplug::bench
