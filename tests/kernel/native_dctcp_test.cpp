// bpf_dctcp next to the kernel's own dctcp (tcp_dctcp.ko) on the same ECN-marking bottleneck,
// where the kernel has that module: in the kernel matrix's 6.1 and 6.12 guests (this host's
// kernel has no dctcp, and 5.10 cannot run bpf_dctcp: docs/compatibility.md). Both ends of each
// connection run the algorithm under test, so the receiver's CE state machine is compared too.
//
// The guests emulate their CPU (qemu TCG), so the path is slow enough for them: 5 Mbit/s, K =
// 15 kB (24 ms of queue), a 200 kB drop-tail buffer. The algorithms alternate (bpf, native,
// bpf, native) so that whatever slows the emulator down hits both alike. What is compared, and
// recorded as test properties that the matrix copies into docs/compatibility.md:
// - goodput (its ratio must be within 10 %),
// - the share of packets the bottleneck CE-marked (how far above K each keeps the queue),
// - the mean queue at the bottleneck (TBF's backlog as each packet arrived, in ms at the rate),
// - the median RTT-based queueing delay (RTT samples minus the unloaded RTT), recorded only: it
//   also holds the endpoints' processing time, which depends on how the emulator is scheduled,
// - alpha at the end of each flow (native: TCP_CC_INFO; bpf: the plugin's stat_last_alpha).
// Tolerances are wide enough for TCG's timer noise and tight enough that a different
// reaction (Reno halving, alpha stuck at 0 or 1024, no receiver-side CE echo) fails them.
//
// A round counts only if the flow kept the bottleneck busy (goodput >= 90 % of the rate; the
// headers cap it at ~95.6 %): only then does the algorithm, not the emulator, decide the queue.
// Under TCG the emulated CPU sometimes cannot forward even 10 Mbit/s: packets then wait in the
// namespaces' backlogs before the shaper, unmarked (one CI run at 10 Mbit/s, beside another
// guest: goodput 8.97 Mbit/s, bottleneck queue 4 ms, RTT-based delay 80 ms, 1 % marked, alpha
// 0, while the rounds that kept up had 9.5 Mbit/s, 9-10 ms, 20-27 % and alpha 100-250). Hence
// 5 Mbit/s, and such a round is run again, up to kAttempts times, and reported as not counted
// (with how long the receive window and the send buffer held the sender back). An algorithm
// that cannot fill the pipe in any attempt fails the test.
#include <algorithm>
#include <cstdio>

#include "bpfplug/testbed/bottleneck_path.hpp"
#include "bpfplug/testbed/bulk_flow.hpp"
#include "bpfplug/testbed/flow_metrics.hpp"
#include "kernel/kernel_fixture.hpp"
#include "text_format.hpp"

namespace bpfplug::test {
namespace {

using namespace bpfplug::testbed;

constexpr std::uint64_t kRate = 5'000'000;
constexpr std::uint32_t kBuffer = 200'000;  // 320 ms at 5 Mbit/s
constexpr std::uint32_t kMarkK = 15'000;    // 24 ms at 5 Mbit/s
constexpr auto kFlow = std::chrono::milliseconds(5000);
constexpr double kWarmupSeconds = 1.0;
constexpr int kRounds = 2;
constexpr int kAttempts = 3;        // per counted round
constexpr double kSaturated = 0.90;  // goodput / rate for a round to count (at most ~0.956: headers)

// What one algorithm did over all its rounds.
struct Side {
  std::uint64_t bytes = 0;
  double seconds = 0;
  std::uint64_t packets = 0;
  std::uint64_t marked = 0;
  std::uint64_t backlog_sum = 0;
  std::vector<double> delay_ms;
  std::vector<double> end_alpha;
  bool intact = true;
  std::uint64_t ece_echoed = 0;
  std::uint32_t max_cwnd = 0;  // segments, over all samples
  int not_counted = 0;         // rounds run again because the bottleneck was not kept busy

  double goodput_mbps() const { return seconds > 0 ? bytes * 8.0 / seconds / 1e6 : 0; }
  double marked_pct() const { return packets ? 100.0 * marked / packets : 0; }
  double bottleneck_queue_ms() const { return MarkerStats{packets, marked, 0, 0, backlog_sum}.mean_queueing_delay_ms(kRate); }
  double mean_alpha() const {
    double sum = 0;
    for (double a : end_alpha) sum += a;
    return end_alpha.empty() ? 0 : sum / end_alpha.size();
  }
};

using bench::fixed;

// One flow of one algorithm over a fresh path.
struct Round {
  FlowResult flow;
  MarkerStats marker;
  double end_alpha = 0;

  bool saturated() const { return flow.goodput_bps() >= kSaturated * kRate; }
  // Share of the sending time the receive window / send buffer held the sender back.
  double limited_pct(std::uint64_t TcpSample::*field) const {
    if (flow.samples.empty() || flow.samples.back().busy_us == 0) return 0;
    return 100.0 * flow.samples.back().*field / flow.samples.back().busy_us;
  }
};

class NativeDctcp : public KernelTest {
 protected:
  void run_round(const std::string& cc, Round& round) {
    BottleneckPath path(id_, PathConfig{kRate, kBuffer, kMarkK, 0.0});
    TcpConnection conn({&path.sender(), cc}, {&path.receiver(), cc}, BottleneckPath::receiver_addr);
    ASSERT_EQ(conn.client_cc(), cc);
    ASSERT_TRUE(conn.client_ecn_negotiated()) << cc << " should have negotiated ECN";
    round.flow = run_bulk_flow(conn, {kFlow, std::chrono::microseconds(10000)});
    // Alpha before the connection closes (closing runs a last, unmarked window).
    if (cc == "dctcp") {
      auto alpha = native_dctcp_alpha(conn.client_fd());
      ASSERT_TRUE(alpha.has_value()) << "TCP_CC_INFO of a dctcp socket";
      round.end_alpha = *alpha;
    } else {
      round.end_alpha = cli_json({"status", "dctcp"})["counters"]["stat_last_alpha"].get<double>();
    }
    round.marker = path.marker_stats();
  }

  // Runs rounds of `cc` until one keeps the bottleneck busy, and adds that one to `side`.
  void run_counted_round(const std::string& cc, Side& side) {
    for (int attempt = 1; attempt <= kAttempts; ++attempt) {
      Round round;
      ASSERT_NO_FATAL_FAILURE(run_round(cc, round));
      const auto& flow = round.flow;
      auto delay = queueing_delay_ms(flow, kWarmupSeconds);
      std::uint32_t max_cwnd = 0;
      for (const auto& sample : flow.samples) max_cwnd = std::max(max_cwnd, sample.cwnd);
      std::printf("%-9s goodput %.2f Mbit/s  bottleneck queue %.1f ms  RTT-based queueing delay p50 %.1f ms  "
                  "CE-marked %lu of %lu  end alpha %.0f  max cwnd %u  rwnd-limited %.0f %%  sndbuf-limited %.0f %%%s\n",
                  cc.c_str(), flow.goodput_bps() / 1e6, round.marker.mean_queueing_delay_ms(kRate),
                  percentile(delay, 0.5), round.marker.marked, round.marker.packets, round.end_alpha, max_cwnd,
                  round.limited_pct(&TcpSample::rwnd_limited_us), round.limited_pct(&TcpSample::sndbuf_limited_us),
                  round.saturated() ? "" : "  -> not counted: the bottleneck was not kept busy, run again");
      if (!round.saturated()) {
        ++side.not_counted;
        continue;
      }
      side.bytes += flow.bytes_received;
      side.seconds += flow.seconds;
      side.packets += round.marker.packets;
      side.marked += round.marker.marked;
      side.backlog_sum += round.marker.backlog_sum_bytes;
      side.intact = side.intact && flow.data_intact;
      if (!flow.samples.empty()) side.ece_echoed += flow.samples.back().delivered_ce;
      side.max_cwnd = std::max(side.max_cwnd, max_cwnd);
      side.delay_ms.insert(side.delay_ms.end(), delay.begin(), delay.end());
      side.end_alpha.push_back(round.end_alpha);
      return;
    }
    FAIL() << cc << " did not keep the " << kRate / 1'000'000 << " Mbit/s bottleneck busy (goodput >= "
           << kSaturated * 100 << " % of it) in any of " << kAttempts << " attempts (rounds above)";
  }
};

TEST_F(NativeDctcp, BpfDctcpAgreesWithTheKernelsDctcp) {
  if (!available("dctcp"))
    GTEST_SKIP() << "this kernel has no native dctcp to compare with (tcp_dctcp not built in or loaded); "
                    "the kernel matrix runs it in its 6.1 and 6.12 guests (scripts/matrix.sh)";
  REQUIRE_NAME_FREE("bpf_dctcp");  // also skips where bpf_dctcp cannot run (5.10), saying why
  ASSERT_EQ(cli({"load", "dctcp"}).exit_code, 0);

  Side bpf, native;
  for (int round = 0; round < kRounds; ++round) {
    ASSERT_NO_FATAL_FAILURE(run_counted_round("bpf_dctcp", bpf));
    ASSERT_NO_FATAL_FAILURE(run_counted_round("dctcp", native));
  }

  double bpf_p50 = percentile(bpf.delay_ms, 0.5), native_p50 = percentile(native.delay_ms, 0.5);
  std::printf("over %d rounds: goodput bpf %.2f native %.2f Mbit/s; CE-marked bpf %.1f %% native %.1f %%; "
              "bottleneck queue bpf %.1f native %.1f ms; RTT-based delay p50 bpf %.1f native %.1f ms; "
              "end alpha bpf %.0f native %.0f; max cwnd bpf %u native %u\n",
              kRounds, bpf.goodput_mbps(), native.goodput_mbps(), bpf.marked_pct(), native.marked_pct(),
              bpf.bottleneck_queue_ms(), native.bottleneck_queue_ms(), bpf_p50, native_p50, bpf.mean_alpha(),
              native.mean_alpha(), bpf.max_cwnd, native.max_cwnd);
  RecordProperty("values", "bpf_dctcp / the kernel's dctcp");
  RecordProperty("path", "5 Mbit/s, K 15 kB, buffer 200 kB, " + std::to_string(kRounds) + " x 5 s per algorithm");
  RecordProperty("goodput_mbps", fixed(bpf.goodput_mbps(), 2) + " / " + fixed(native.goodput_mbps(), 2));
  RecordProperty("ce_marked_pct", fixed(bpf.marked_pct(), 1) + " / " + fixed(native.marked_pct(), 1));
  RecordProperty("bottleneck_queue_mean_ms", fixed(bpf.bottleneck_queue_ms(), 1) + " / " +
                                                fixed(native.bottleneck_queue_ms(), 1));
  RecordProperty("rtt_queueing_delay_p50_ms", fixed(bpf_p50, 1) + " / " + fixed(native_p50, 1));
  RecordProperty("max_cwnd_segments", std::to_string(bpf.max_cwnd) + " / " + std::to_string(native.max_cwnd));
  RecordProperty("end_alpha", fixed(bpf.mean_alpha(), 0) + " / " + fixed(native.mean_alpha(), 0));
  RecordProperty("rounds_not_counted", std::to_string(bpf.not_counted) + " / " + std::to_string(native.not_counted));

  for (const Side* side : {&bpf, &native}) {
    EXPECT_TRUE(side->intact);
    EXPECT_GT(side->marked, 0u) << "the bottleneck never marked";
    EXPECT_GT(side->ece_echoed, 0u) << "CE marks never came back as ECE";
    EXPECT_GT(side->mean_alpha(), 0) << "alpha stayed 0 under marking";
    // The path holds ~140 segments (BDP + buffer); the open "garbage ssthresh" issue in
    // docs/algorithms.md shows as a cwnd of ~10^8.
    EXPECT_LT(side->max_cwnd, 1000u) << "cwnd far beyond what the path can hold";
  }
  EXPECT_NEAR(bpf.goodput_mbps() / native.goodput_mbps(), 1.0, 0.10) << "goodput";
  EXPECT_NEAR(bpf.marked_pct(), native.marked_pct(), std::max(5.0, 0.35 * native.marked_pct()))
      << "share of packets marked: how far above K each keeps the queue";
  EXPECT_NEAR(bpf.bottleneck_queue_ms(), native.bottleneck_queue_ms(),
              std::max(2.0, 0.35 * native.bottleneck_queue_ms()))
      << "mean queue at the bottleneck (ms)";
  // The RTT-based delay is recorded, not asserted: RTT samples also hold the endpoints'
  // processing, which under TCG depends on how the emulator is scheduled (with a second guest
  // beside it, one round of either algorithm measured 29-34 ms while the bottleneck queue,
  // asserted above, stayed at 9-10 ms for both).
  EXPECT_NEAR(bpf.mean_alpha(), native.mean_alpha(), std::max(80.0, 0.5 * native.mean_alpha()))
      << "alpha at the end of the flows (1/1024)";
}

}  // namespace
}  // namespace bpfplug::test
