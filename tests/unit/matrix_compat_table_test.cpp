// The compatibility table: cells from tests and probe, and docs/compatibility.md.
#include <gtest/gtest.h>

#include "bpfplug/matrix/compat_table.hpp"

namespace bpfplug::matrix {
namespace {

using nlohmann::json;

json probe(bool link, bool kfuncs, bool hdr = true) {
  auto feature = [](bool ok, const char* detail, const char* yes, const char* no) {
    return json{{"supported", ok}, {"detail", detail}, {"consequence", ok ? yes : no}};
  };
  return {{"kernel", "x"},
          {"features",
           {{"struct_ops", feature(true, "BTF type bpf_struct_ops_tcp_congestion_ops", "plugins can register", "")},
            {"struct_ops_link", feature(link, "BTF type bpf_struct_ops_link", "links",
                                        "fallback: plain map registration (Linux < 6.4); no atomic swap")},
            {"cc_kfuncs", feature(kfuncs, "inferred", "kfuncs",
                                  "fallback: plugins use their own BPF implementations (Linux < 5.13)")},
            {"hdr_options", feature(hdr, "enum value BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG", "negotiate",
                                    "compression policies can't negotiate: needs Linux >= 5.10")}}}};
}

GuestResult guest(const std::string& name, json p, std::vector<TestOutcome> tests) {
  GuestResult g;
  g.guest = name;
  g.release = name + ".0";
  g.probe = std::move(p);
  g.tests = std::move(tests);
  g.wall_seconds = 60;
  return g;
}

const FeatureRow kLoads{"reno: loads", {"*LoadUnload.*\"reno\""}, {"struct_ops"}, CellKind::unsupported,
                        {"struct_ops_link", "cc_kfuncs"}};
const FeatureRow kSwap{"swap via link (atomic)", {"Swap.*"}, {"struct_ops_link"}, CellKind::fallback, {}};
const FeatureRow kHdr{"header options", {}, {"hdr_options"}, CellKind::unsupported, {}};

const TestOutcome kRenoPass{"Plugins/LoadUnload.Registers/0 \"reno\"", "passed", ""};
const TestOutcome kCubicFail{"Plugins/LoadUnload.Registers/2 \"cubic\"", "failed", "f.cpp:3\nboom"};

TEST(MatrixCompatTable, GlobMatchesLikeGtestFilters) {
  EXPECT_TRUE(glob_match("*LoadUnload.*\"reno\"", kRenoPass.name));
  EXPECT_FALSE(glob_match("*LoadUnload.*\"reno\"", kCubicFail.name));
  EXPECT_TRUE(glob_match("DefaultCc.*", "DefaultCc.SysctlSelectsALoadedPlugin"));
  EXPECT_FALSE(glob_match("DefaultCc.*", "Plugins/DefaultCc.X"));
  EXPECT_TRUE(glob_match("Swap.?ne", "Swap.One"));
  EXPECT_TRUE(glob_match("*", ""));
}

TEST(MatrixCompatTable, PassOnAKernelWithEverything) {
  Cell c = evaluate(kLoads, guest("6.12", probe(true, true), {kRenoPass, kCubicFail}));
  EXPECT_EQ(c.kind, CellKind::pass);
  EXPECT_EQ(c.reason, "");
}

TEST(MatrixCompatTable, APassThroughFallbacksSaysWhichFromTheProbe) {
  Cell c = evaluate(kLoads, guest("5.10", probe(false, false), {kRenoPass}));
  EXPECT_EQ(c.kind, CellKind::fallback);
  EXPECT_EQ(c.reason,
            "plain map registration (Linux < 6.4); no atomic swap; plugins use their own BPF implementations (Linux < 5.13)");
}

TEST(MatrixCompatTable, ARowNeedingWhatTheKernelLacksIsItsFallback) {
  TestOutcome swap{"Swap.EachSwap", "passed", ""};
  Cell c = evaluate(kSwap, guest("6.1", probe(false, true), {swap}));
  EXPECT_EQ(c.kind, CellKind::fallback);
  EXPECT_EQ(c.reason, "plain map registration (Linux < 6.4); no atomic swap");
}

TEST(MatrixCompatTable, EveryRequirementIsChecked) {
  FeatureRow dctcp{"dctcp: loads", {"*\"dctcp\""}, {"struct_ops", "cc_setsockopt"}, CellKind::unsupported, {}};
  json p = probe(true, true);
  p["features"]["cc_setsockopt"] = {{"supported", false}, {"detail", "x"},
                                    {"consequence", "dctcp can't hand connections without ECN to reno: needs Linux >= 6.0"}};
  TestOutcome skipped{"Plugins/LoadUnload.Registers/1 \"dctcp\"", "skipped", "dctcp needs cc_setsockopt"};
  Cell c = evaluate(dctcp, guest("5.10", p, {skipped}));
  EXPECT_EQ(c.kind, CellKind::unsupported);
  EXPECT_EQ(c.reason, "dctcp can't hand connections without ECN to reno: needs Linux >= 6.0");
}

TEST(MatrixCompatTable, AFailingTestIsNeverHidden) {
  FeatureRow cubic{"cubic: loads", {"*\"cubic\""}, {"struct_ops_link"}, CellKind::fallback, {}};
  Cell c = evaluate(cubic, guest("6.1", probe(false, true), {kCubicFail}));
  EXPECT_EQ(c.kind, CellKind::fail);
  EXPECT_EQ(c.reason, "Registers/2 \"cubic\": boom (f.cpp:3)");
}

TEST(MatrixCompatTable, SkippedNotRunAndProbeOnlyRows) {
  TestOutcome skipped{"Plugins/LoadUnload.Registers/0 \"reno\"", "skipped", "bpf_reno is already registered\nmore"};
  EXPECT_EQ(evaluate(kLoads, guest("h", probe(true, true), {skipped})).kind, CellKind::skipped);
  EXPECT_EQ(evaluate(kLoads, guest("h", probe(true, true), {skipped})).reason, "bpf_reno is already registered");
  EXPECT_EQ(evaluate(kLoads, guest("h", probe(true, true), {})).kind, CellKind::not_run);

  Cell hdr = evaluate(kHdr, guest("6.1", probe(true, true), {}));
  EXPECT_EQ(hdr.kind, CellKind::supported);
  EXPECT_EQ(hdr.reason, "probe: enum value BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG");
  Cell no_hdr = evaluate(kHdr, guest("5.4", probe(false, false, false), {}));
  EXPECT_EQ(no_hdr.kind, CellKind::unsupported);
  EXPECT_EQ(no_hdr.reason, "compression policies can't negotiate: needs Linux >= 5.10");
}

TEST(MatrixCompatTable, AGuestThatDidNotFinishProvesOnlyWhatRanBeforeTheEnd) {
  GuestResult g = guest("6.1", probe(true, true), {kRenoPass});
  g.timed_out = true;
  EXPECT_EQ(evaluate(kLoads, g).kind, CellKind::pass);
  FeatureRow cubic{"cubic: loads", {"*\"cubic\""}, {"struct_ops"}, CellKind::unsupported, {}};
  EXPECT_EQ(evaluate(cubic, g).kind, CellKind::not_run);
  EXPECT_EQ(evaluate(cubic, g).reason, "the guest timed out");
  g.timed_out = false;
  g.missing_markers = {"done"};
  EXPECT_EQ(evaluate(cubic, g).reason, "the guest did not finish (see its serial log)");
}

TEST(MatrixCompatTable, MarkdownSaysHowItWasMadeAndHasOneColumnPerKernel) {
  std::vector<GuestResult> gs = {guest("5.10", probe(false, false), {kRenoPass}),
                                 guest("6.18 (host)", probe(true, true), {kRenoPass})};
  CompatTable t = compat_table(gs, {kLoads, kSwap, kHdr});
  ASSERT_EQ(t.cells.size(), 3u);
  std::string md = render_markdown(t, gs, "bpfplug-matrix table --out docs/compatibility.md a.json b.json", "2026-11-22");
  EXPECT_NE(md.find("bpfplug-matrix table --out docs/compatibility.md a.json b.json"), std::string::npos);
  EXPECT_NE(md.find("2026-11-22"), std::string::npos);
  EXPECT_NE(md.find("never edited by hand"), std::string::npos);
  EXPECT_NE(md.find("| feature | 5.10 | 6.18 (host) |"), std::string::npos) << md;
  EXPECT_NE(md.find("| reno: loads | fallback: plain map registration"), std::string::npos) << md;
  EXPECT_NE(md.find("| swap via link (atomic) | fallback: plain map registration (Linux < 6.4); no atomic swap | not run"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| 5.10 | 5.10.0 | 1 / 0 / 0 |"), std::string::npos) << md;
  EXPECT_EQ(md.find("Figures the tests measured"), std::string::npos) << "no test recorded a figure";
}

TEST(MatrixCompatTable, FiguresTestsRecordedGetATablePerTestWithAColumnPerKernelThatHasThem) {
  TestOutcome native61{"NativeDctcp.Agrees", "passed", "", {{"goodput_mbps", "9.54 / 9.55"}, {"end_alpha", "227 / 188"}}};
  TestOutcome native612{"NativeDctcp.Agrees", "failed", "x", {{"goodput_mbps", "9.1 / 9.6"}}};
  TestOutcome skipped{"NativeDctcp.Agrees", "skipped", "no native dctcp"};
  std::vector<GuestResult> gs = {guest("6.1", probe(false, true), {native61}),
                                 guest("6.12", probe(true, true), {native612}),
                                 guest("6.18 (host)", probe(true, true), {skipped})};
  std::string md = render_markdown(compat_table(gs, {kLoads}), gs, "cmd", "2026-11-22");
  EXPECT_NE(md.find("## Figures the tests measured"), std::string::npos) << md;
  EXPECT_NE(md.find("### NativeDctcp.Agrees\n\n| figure | 6.1 | 6.12 (failed) |\n|---|---|---|\n"), std::string::npos)
      << md;
  // Rows in the order the first kernel recorded them (std::map: by name), "-" where one lacks it.
  EXPECT_NE(md.find("| end_alpha | 227 / 188 | - |\n| goodput_mbps | 9.54 / 9.55 | 9.1 / 9.6 |"), std::string::npos)
      << md;
}

}  // namespace
}  // namespace bpfplug::matrix
