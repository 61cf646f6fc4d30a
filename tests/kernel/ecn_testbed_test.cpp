// Behaviour on the ECN testbed (testbed/): DCTCP against CE marking at K versus CUBIC against a
// drop-tail buffer, on the same 100 Mbit/s bottleneck; tunables that change DCTCP's reaction;
// byte-for-byte bulk transfers for every plugin.
//
// Margins, from repeated runs on the 2-core CI machine (Linux 6.18); the tests print their figures.
// - K = 30 kB is 2.4 ms at 100 Mbit/s. DCTCP's median queueing delay measured 0.7-4.5 ms on a
//   quiet machine (up to 11 ms with other builds running) while the marker modelled the queue,
//   and 2.0-2.2 ms since it reads TBF's backlog (2026-11-22, six flows): its queue oscillates
//   around K, plus the marking round trip. Its p95 is usually ~2.2 ms, but the open issue in
//   docs/algorithms.md ("garbage ssthresh under ECN marking") sometimes lifts it to 30-69 ms,
//   so only medians are asserted: DCTCP's <= 5 x K/rate, CUBIC's >= 4 x DCTCP's.
// - CUBIC without marking fills the 1 MB (80 ms) drop-tail buffer: median 56-73 ms, p95 58-80 ms.
//   bpf_cubic runs with hystart=0 so that slow start overshoots into the buffer every time
//   (with HyStart a jittery early exit leaves CUBIC without W_max, and its convex growth takes
//   longer than the flow to fill the buffer).
// - Goodput >= 90 % of the bottleneck (measured 92-96 %; TBF counts Ethernet headers).
#include <algorithm>
#include <map>

#include "bpfplug/testbed/bottleneck_path.hpp"
#include "bpfplug/testbed/bulk_flow.hpp"
#include "bpfplug/testbed/flow_metrics.hpp"
#include <nlohmann/json.hpp>
#include "kernel/kernel_fixture.hpp"

namespace bpfplug::test {
namespace {

using namespace bpfplug::testbed;

constexpr std::uint64_t kRate = 100'000'000;
constexpr std::uint32_t kBuffer = 1'000'000;  // 80 ms at 100 Mbit/s
constexpr std::uint32_t kMarkK = 30'000;      // ~20 full-size packets
constexpr double kMarkKMs = kMarkK * 8.0 / kRate * 1000;
constexpr auto kFlow = std::chrono::milliseconds(4000);
constexpr double kWarmupSeconds = 0.5;  // slow start is not the steady state being judged

// Relative size of each cwnd decrease between consecutive samples after warm-up.
std::vector<double> cwnd_cuts(const FlowResult& flow) {
  std::vector<double> cuts;
  for (std::size_t i = 1; i < flow.samples.size(); ++i) {
    const auto& a = flow.samples[i - 1];
    const auto& b = flow.samples[i];
    if (b.t >= kWarmupSeconds && b.cwnd < a.cwnd) cuts.push_back(1.0 - static_cast<double>(b.cwnd) / a.cwnd);
  }
  return cuts;
}

struct Measured {
  FlowResult flow;
  MarkerStats marker;
  double p50_ms = 0;
  double p95_ms = 0;
  nlohmann::json counters;  // the plugin's, read before the connection closes

  double marked_fraction() const { return marker.packets ? double(marker.marked) / marker.packets : 0; }
};

class EcnTestbed : public KernelTest {
 protected:
  void load(const std::vector<std::string>& args) {
    auto r = cli(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // `plugin`: read its counters after the transfer but before the connection closes (closing
  // runs a last, unmarked window on both ends).
  Measured run(const std::string& cc, std::optional<std::uint32_t> mark_k, const std::string& plugin = "") {
    BottleneckPath path(id_, PathConfig{kRate, kBuffer, mark_k, 0.0});
    TcpConnection conn({&path.sender(), cc}, {&path.receiver(), cc}, BottleneckPath::receiver_addr);
    Measured m{run_bulk_flow(conn, {kFlow, std::chrono::microseconds(10000)}), {}, 0, 0, {}};
    m.marker = path.marker_stats();
    if (!plugin.empty()) m.counters = cli_json({"status", plugin})["counters"];
    auto q = queueing_delay_ms(m.flow, kWarmupSeconds);
    m.p50_ms = percentile(q, 0.5);
    m.p95_ms = percentile(q, 0.95);
    std::printf("%-10s K=%-6s goodput %.1f Mbit/s  queueing delay p50 %.2f p95 %.2f ms  CE-marked %lu of %lu  "
                "retrans %u  intact %d\n",
                cc.c_str(), mark_k ? std::to_string(*mark_k).c_str() : "none", m.flow.goodput_bps() / 1e6,
                m.p50_ms, m.p95_ms, m.marker.marked, m.marker.packets,
                m.flow.samples.empty() ? 0 : m.flow.samples.back().total_retrans, m.flow.data_intact);
    return m;
  }
};

TEST_F(EcnTestbed, DctcpHoldsTheQueueNearKWhereCubicFillsTheBuffer) {
  REQUIRE_NAME_FREE("bpf_dctcp");
  REQUIRE_NAME_FREE("bpf_cubic");
  load({"load", "dctcp"});
  load({"load", "cubic", "--set", "hystart=0"});

  auto dctcp = run("bpf_dctcp", kMarkK, "dctcp");
  EXPECT_TRUE(dctcp.flow.data_intact);
  EXPECT_GT(dctcp.marker.marked, 0u) << "no CE marks at the bottleneck";
  EXPECT_GT(dctcp.flow.samples.back().delivered_ce, 0u) << "CE marks never came back as ECE";
  EXPECT_LE(dctcp.p50_ms, 5 * kMarkKMs) << "DCTCP's queue is not held near K";

  const auto& counters = dctcp.counters;
  EXPECT_GT(counters["stat_alpha_updates"].get<std::int64_t>(), 0);
  EXPECT_GT(counters["stat_last_alpha"].get<std::int64_t>(), 0) << "alpha is 0 under marking";
  EXPECT_GT(counters["stat_reductions"].get<std::int64_t>(), 0);
  std::printf("dctcp counters: %s\n", counters.dump().c_str());
  // In proportion to alpha, not Reno's halving: the typical cut is far below 50 %.
  auto cuts = cwnd_cuts(dctcp.flow);
  ASSERT_FALSE(cuts.empty());
  EXPECT_LT(percentile(cuts, 0.5), 0.25) << "median cwnd cut";

  std::map<std::string, double> goodput = {{"bpf_dctcp", dctcp.flow.goodput_bps()}};
  for (std::string cubic : {"bpf_cubic", "cubic"}) {
    auto m = run(cubic, std::nullopt);
    EXPECT_TRUE(m.flow.data_intact);
    EXPECT_GE(m.p50_ms, 4 * dctcp.p50_ms) << cubic << " should fill the drop-tail buffer";
    goodput[cubic] = m.flow.goodput_bps();
  }
  // Each keeps the bottleneck busy: within 10 % of the best of the three in this run (side by
  // side, because a machine short of CPU slows TBF for all of them alike: 88-90 Mbit/s each in
  // one CI run, 95.6-95.7 on a quiet one: docs/testbed.md), and at 80 % of the rate at least.
  double best = 0;
  for (const auto& [cc, bps] : goodput) best = std::max(best, bps);
  for (const auto& [cc, bps] : goodput) {
    EXPECT_GE(bps, 0.9 * best) << cc << " leaves the bottleneck idle where another does not";
    EXPECT_GE(bps, 0.8 * kRate) << cc;
  }
}

// shift_g is the EWMA gain g = 1/2^shift_g, and the direct effect of changing it is on alpha.
// Linux's integer update (alpha -= alpha >> g, or all of alpha once that rounds to 0; then
// + F * g, truncated) keeps alpha at 0 or 1 with g = 1/1024 (any alpha < 1024 rounds away and
// at most 1 is added back), while with g = 1/16 under marking alpha follows the marked fraction:
// measured 105-208 (1/1024) at the end of 4 s flows. With alpha ~0 DCTCP hardly reduces and its
// queue sits above K: most packets get marked (measured 98-100 % against 8-53 % since the marker
// reads TBF's backlog, 2026-11-22; the 53 % was a flow with the garbage ssthresh; printed).
TEST_F(EcnTestbed, ShiftGChangesHowDctcpReacts) {
  REQUIRE_NAME_FREE("bpf_dctcp");
  load({"load", "dctcp"});
  auto fast = run("bpf_dctcp", kMarkK, "dctcp");
  ASSERT_EQ(cli({"unload", "dctcp"}).exit_code, 0);
  load({"load", "dctcp", "--set", "shift_g=10"});
  auto slow = run("bpf_dctcp", kMarkK, "dctcp");
  EXPECT_GE(fast.counters["stat_last_alpha"].get<std::int64_t>(), 16) << "g = 1/16 should track the marks";
  EXPECT_LE(slow.counters["stat_last_alpha"].get<std::int64_t>(), 1) << "g = 1/1024 keeps alpha at 0 or 1";
  EXPECT_GT(slow.marked_fraction(), fast.marked_fraction());
}

class TestbedTransfer : public KernelTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(TestbedTransfer, BulkDataArrivesByteForByte) {
  const auto& ops = plugin(GetParam()).ops_name;
  REQUIRE_NAME_FREE(ops);
  ASSERT_EQ(cli({"load", GetParam()}).exit_code, 0);
  BottleneckPath path(id_, PathConfig{kRate, kBuffer, std::nullopt, 0.001});  // and some random loss
  TcpConnection conn({&path.sender(), ops}, {&path.receiver(), ops}, BottleneckPath::receiver_addr);
  auto flow = run_bulk_flow(conn, {std::chrono::milliseconds(2000), std::chrono::microseconds(50000)});
  EXPECT_TRUE(flow.data_intact);
  EXPECT_GT(flow.bytes_received, 5'000'000u);
  auto marker = path.marker_stats();
  EXPECT_GT(marker.dropped, 0u) << "the path should have dropped some packets";
  EXPECT_EQ(marker.unread, 0u) << "the marker could not read TBF's backlog";
  EXPECT_GT(marker.max_backlog_bytes, 0u) << "the marker never saw a queue at TBF";
  EXPECT_GT(flow.samples.back().total_retrans, 0u) << "and the plugin recovered from it";
  EXPECT_EQ(conn.client_cc(), ops);
}

INSTANTIATE_TEST_SUITE_P(Plugins, TestbedTransfer, ::testing::Values("reno", "dctcp", "cubic"));

}  // namespace
}  // namespace bpfplug::test
