// The user-space delay line (testbed/delay_line.hpp; this kernel has no netem): between two
// namespaces joined by nothing else, TCP across it sees the round-trip time asked for, never
// less, and every packet of both directions went through it; in the bottleneck path, a bulk
// flow sees the delay and still fills the shaped rate.
#include "bpfplug/testbed/bottleneck_path.hpp"
#include "bpfplug/testbed/delay_line.hpp"
#include "bpfplug/testbed/bulk_flow.hpp"
#include "bpfplug/testbed/tcp_connection.hpp"
#include "kernel/kernel_fixture.hpp"

namespace bpfplug::test {
namespace {

using namespace bpfplug::testbed;
using namespace std::chrono_literals;

class DelayLineTest : public KernelTest {};

TEST_F(DelayLineTest, TcpAcrossItSeesTheRequestedRoundTripTime) {
  Netns a(id_ + "-dla"), b(id_ + "-dlb");
  DelayLine line({&a, "dl0", "198.18.9.1"}, {&b, "dl0", "198.18.9.2"}, 10ms);
  TcpConnection conn({&a, ""}, {&b, ""}, "198.18.9.2");
  ASSERT_EQ(conn.transfer(4 << 20), 4u << 20) << "4 MB through the delay line, intact in length";
  auto tcp = sample_tcp_info(conn.client_fd(), 0);
  auto stats = line.stats();
  RecordProperty("min_rtt_us", static_cast<int>(tcp.min_rtt_us));
  RecordProperty("lateness_mean_us", static_cast<int>(stats.a_to_b.lateness_mean_us()));
  RecordProperty("lateness_max_us", static_cast<int>(stats.a_to_b.lateness_max_us));
  std::printf("delay line 2 x 10 ms: TCP min RTT %.3f ms; a->b %lu packets, lateness mean %.1f us, max %.1f us; "
              "b->a %lu packets, lateness mean %.1f us, max %.1f us\n",
              tcp.min_rtt_us / 1000.0, stats.a_to_b.packets, stats.a_to_b.lateness_mean_us(),
              stats.a_to_b.lateness_max_us, stats.b_to_a.packets, stats.b_to_a.lateness_mean_us(),
              stats.b_to_a.lateness_max_us);

  EXPECT_GE(tcp.min_rtt_us, 20000u) << "a delay line never delivers early";
  // Above the 20 ms: the two threads' wake-up lateness and the stack's own processing.
  EXPECT_LT(tcp.min_rtt_us, 23000u) << "the lowest RTT should be the requested one plus little";
  EXPECT_GT(stats.a_to_b.bytes, 4u << 20) << "the data went through the line";
  EXPECT_GT(stats.b_to_a.packets, 0u) << "so did the ACKs";
  EXPECT_EQ(stats.a_to_b.dropped + stats.b_to_a.dropped, 0u);
}

TEST_F(DelayLineTest, BottleneckPathWithDelayHasThatRttAndFillsTheRate) {
  constexpr std::uint64_t kRate = 10'000'000;
  // BDP at 10 Mbit/s and 40 ms: 50 kB; a buffer of one BDP.
  BottleneckPath path(id_, PathConfig{kRate, 50'000, std::nullopt, 0.0, 20ms, DelayMethod::delay_line});
  ASSERT_NE(path.delay_line(), nullptr);
  TcpConnection conn({&path.sender(), "reno"}, {&path.receiver(), "reno"}, BottleneckPath::receiver_addr);
  auto flow = run_bulk_flow(conn, {std::chrono::milliseconds(4000), std::chrono::milliseconds(10)});
  ASSERT_FALSE(flow.samples.empty());
  std::uint32_t min_rtt = flow.samples.back().min_rtt_us;
  auto stats = path.delay_line()->stats();
  std::printf("10 Mbit/s, 2 x 20 ms: goodput %.2f Mbit/s, min RTT %.3f ms, delay line lateness mean %.1f us max %.1f us "
              "(data), %.1f / %.1f us (ACKs)\n",
              flow.goodput_bps() / 1e6, min_rtt / 1000.0, stats.a_to_b.lateness_mean_us(), stats.a_to_b.lateness_max_us,
              stats.b_to_a.lateness_mean_us(), stats.b_to_a.lateness_max_us);
  RecordProperty("goodput_mbps_at_10", static_cast<int>(flow.goodput_bps() / 1e6));
  EXPECT_TRUE(flow.data_intact);
  EXPECT_GE(min_rtt, 40000u) << "the delay line delays every packet by the full amount";
  EXPECT_LT(min_rtt, 44000u);
  EXPECT_LE(flow.goodput_bps(), kRate) << "the shaper still bounds the flow";
  EXPECT_GE(flow.goodput_bps(), 0.85 * kRate) << "with a BDP of buffer, reno keeps the bottleneck busy";
  EXPECT_EQ(stats.a_to_b.dropped + stats.b_to_a.dropped, 0u);
}

TEST_F(DelayLineTest, RefusesWhatItCannotBuild) {
  Netns a(id_ + "-dla"), b(id_ + "-dlb");
  EXPECT_THROW(DelayLine({&a, "a-name-longer-than-15", "198.18.9.1"}, {&b, "dl0", "198.18.9.2"}, 1ms),
               std::runtime_error);
  EXPECT_THROW(DelayLine({nullptr, "dl0", "198.18.9.1"}, {&b, "dl0", "198.18.9.2"}, 1ms), std::runtime_error);
  EXPECT_THROW(DelayLine({&a, "dl0", "198.18.9.1"}, {&b, "dl0", "198.18.9.2"}, -1ms), std::runtime_error);
}

}  // namespace
}  // namespace bpfplug::test
