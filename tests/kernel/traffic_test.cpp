// Connections really run each plugin: over loopback and across a veth pair between two
// namespaces made by the test, with TCP_CONGESTION chosen per socket.
#include "kernel/kernel_fixture.hpp"
#include "bpfplug/testbed/shell.hpp"
#include "bpfplug/testbed/tcp_connection.hpp"

namespace bpfplug::test {
namespace {

using namespace bpfplug::testbed;

constexpr std::size_t kBytes = 8 << 20;

class Traffic : public KernelTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void load_plugin() {
    auto r = cli({"load", GetParam()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::int64_t sockets_in_status() { return cli_json({"status", GetParam()})["sockets"].get<std::int64_t>(); }
};

TEST_P(Traffic, LoopbackConnectionRunsPlugin) {
  const auto& ops = plugin(GetParam()).ops_name;
  REQUIRE_NAME_FREE(ops);
  load_plugin();
  TcpConnection conn({nullptr, ops}, {nullptr, ops}, "127.0.0.1");
  EXPECT_EQ(conn.transfer(kBytes), kBytes);
  EXPECT_EQ(conn.client_cc(), ops);
  EXPECT_EQ(conn.server_cc(), ops);
  EXPECT_EQ(sockets_in_status(), 2) << "both ends run the plugin";
}

TEST_P(Traffic, VethConnectionBetweenNamespacesRunsPlugin) {
  const auto& ops = plugin(GetParam()).ops_name;
  REQUIRE_NAME_FREE(ops);
  load_plugin();
  VethPair net(id_);
  {
    TcpConnection conn({&net.a, ops}, {&net.b, ops}, VethPair::b_addr);
    EXPECT_EQ(conn.transfer(kBytes), kBytes);
    EXPECT_EQ(conn.client_cc(), ops);
    EXPECT_EQ(conn.server_cc(), ops);
    if (GetParam() == "dctcp") {
      EXPECT_TRUE(conn.client_ecn_negotiated()) << "DCTCP needs ECN";
    }
    EXPECT_EQ(sockets_in_status(), 2);
  }
  // Closed: both ends released the plugin (the count follows the kernel's release callback).
  std::int64_t sockets = -1;
  for (int i = 0; i < 100 && sockets != 0; ++i) {
    sockets = sockets_in_status();
    if (sockets) usleep(20000);
  }
  EXPECT_EQ(sockets, 0);
}

INSTANTIATE_TEST_SUITE_P(Plugins, Traffic, ::testing::Values("reno", "dctcp", "cubic"));

class DctcpFallback : public KernelTest {};

// RFC 8257 sec. 3 needs ECN on both ends; like Linux, bpf_dctcp falls back to reno when the
// peer did not negotiate it (here: the server's namespace has net.ipv4.tcp_ecn=0).
TEST_F(DctcpFallback, FallsBackToRenoWhenPeerRefusesEcn) {
  REQUIRE_NAME_FREE("bpf_dctcp");
  ASSERT_EQ(cli({"load", "dctcp"}).exit_code, 0);
  VethPair net(id_);
  ASSERT_EQ(sh("ip netns exec " + net.b.name() + " sh -c 'echo 0 > /proc/sys/net/ipv4/tcp_ecn'"), 0);
  TcpConnection conn({&net.a, "bpf_dctcp"}, {&net.b, "cubic"}, VethPair::b_addr);
  EXPECT_EQ(conn.transfer(1 << 20), 1u << 20);
  EXPECT_FALSE(conn.client_ecn_negotiated());
  EXPECT_EQ(conn.client_cc(), "reno");
  auto status = cli_json({"status", "dctcp"});
  EXPECT_EQ(status["counters"]["stat_fallbacks"], 1);
  EXPECT_EQ(status["sockets"], 0) << "a connection that fell back is not counted as running dctcp";
}

}  // namespace
}  // namespace bpfplug::test
