// The testbed's propagation delay with netem, where the kernel has it (the matrix guests load
// sch_netem; this CI host has none, and there the test is skipped): the whole RTT is added on
// the way back to the sender, and TCP across the path sees it.
#include "bpfplug/testbed/bottleneck_path.hpp"
#include "bpfplug/testbed/bulk_flow.hpp"
#include "bpfplug/testbed/tcp_connection.hpp"
#include "kernel/kernel_fixture.hpp"

namespace bpfplug::test {
namespace {

using namespace bpfplug::testbed;
using namespace std::chrono_literals;

class NetemPath : public KernelTest {};

TEST_F(NetemPath, TcpSeesTheRequestedRoundTripTime) {
  std::unique_ptr<BottleneckPath> path;
  try {
    path = std::make_unique<BottleneckPath>(id_, PathConfig{10'000'000, 100'000, std::nullopt, 0.0, 10ms, DelayMethod::netem});
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).find("no netem") != std::string::npos) GTEST_SKIP() << e.what();
    throw;
  }
  EXPECT_STREQ(path->delay_method(), "netem");
  EXPECT_EQ(path->delay_line(), nullptr);
  TcpConnection conn({&path->sender(), "reno"}, {&path->receiver(), "reno"}, BottleneckPath::receiver_addr);
  ASSERT_EQ(conn.transfer(1 << 20), 1u << 20);
  auto tcp = sample_tcp_info(conn.client_fd(), 0);
  std::printf("netem 20 ms RTT: TCP min RTT %.3f ms\n", tcp.min_rtt_us / 1000.0);
  EXPECT_GE(tcp.min_rtt_us, 20000u) << "netem adds the whole RTT";
  // Generous above: in an emulated (TCG) guest every packet costs tens of microseconds more.
  EXPECT_LT(tcp.min_rtt_us, 30000u);
}

}  // namespace
}  // namespace bpfplug::test
