// Compression policies (policies/, struct_ops/bpfplug_policy.h) in the kernel: the tcp_comp
// option FE 04 79 54 on the wire exactly where the policies say so, and verdicts by fd.
//
// Each test attaches the policy to a cgroup of its own and moves this process into it while it
// creates sockets (a socket belongs to the cgroup of the task that created it), so nothing
// outside the test's cgroup and namespaces ever meets the policy. Connections run between two
// namespaces joined by veth (198.18.0.1 -> 198.18.0.2) or on loopback inside one; the server's
// end of the veth is captured with an AF_PACKET socket.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bpfplug/catalogue.hpp"
#include "bpfplug/host.hpp"
#include "bpfplug/policy_manager.hpp"
#include "bpfplug/unique_fd.hpp"
#include "kernel/comp_policy_fixture.hpp"

namespace bpfplug::test {
namespace {

TEST_F(CompPolicy, PortsInTheSetNegotiateOthersDoNotAndDataNeverCarriesTheOption) {
  load({"comp-ports", "--set", "ports=5001,6000-6010"});
  VethPair veth(id_);
  PacketCapture capture(veth.b, "veth0");

  for (std::uint16_t port : {5001, 6005}) {
    auto s = connect(veth.a, veth.b, VethPair::b_addr, port);
    auto h = handshake_of(capture.drain(), port);
    EXPECT_TRUE(h.syn_has_option) << port;
    EXPECT_TRUE(h.synack_has_option) << port;
    EXPECT_EQ(h.others_with_option, 0) << "the option appeared after the handshake";
    ASSERT_TRUE(s.client_verdict && s.server_verdict);
    EXPECT_TRUE(s.client_verdict->on && s.server_verdict->on) << reason(s.client_verdict) << " / " << reason(s.server_verdict);
    EXPECT_EQ(s.client_verdict->role, BPFPLUG_COMP_CLIENT);
    EXPECT_EQ(s.server_verdict->role, BPFPLUG_COMP_SERVER);
    EXPECT_TRUE(s.client_verdict->established && s.server_verdict->established);
  }

  auto s = connect(veth.a, veth.b, VethPair::b_addr, 5002);
  auto h = handshake_of(capture.drain(), 5002);
  EXPECT_FALSE(h.syn_has_option);
  EXPECT_FALSE(h.synack_has_option);
  EXPECT_EQ(h.others_with_option, 0);
  ASSERT_TRUE(s.client_verdict && s.server_verdict);
  EXPECT_FALSE(s.client_verdict->on || s.server_verdict->on);
  EXPECT_EQ(s.client_verdict->reason, BPFPLUG_COMP_PORT_NOT_IN_SET) << reason(s.client_verdict);
  EXPECT_EQ(s.server_verdict->reason, BPFPLUG_COMP_PEER_DID_NOT_ASK) << reason(s.server_verdict);

  auto status = cli_json({"status", "comp-ports"});
  EXPECT_EQ(status["portsets"]["ports"], "5001,6000-6010");
  EXPECT_EQ(status["cgroup"], cgroup_->path().string());
  EXPECT_EQ(status["counters"]["stat_offered"], 2);
  EXPECT_EQ(status["counters"]["stat_echoed"], 2);
  EXPECT_EQ(status["counters"]["stat_negotiated"], 4);  // both ends of two connections
}

TEST_F(CompPolicy, UnmarkedSocketsNeverNegotiate) {
  load({"comp-ports", "--set", "ports=5001"});
  VethPair veth(id_);
  PacketCapture capture(veth.b, "veth0");

  // The client cannot compress: no option, and no verdict for it.
  auto s = connect(veth.a, veth.b, VethPair::b_addr, 5001, {.mark_client = false});
  auto h = handshake_of(capture.drain(), 5001);
  EXPECT_FALSE(h.syn_has_option);
  EXPECT_FALSE(h.synack_has_option);
  EXPECT_FALSE(s.client_verdict.has_value());
  ASSERT_TRUE(s.server_verdict);
  EXPECT_FALSE(s.server_verdict->on);
  EXPECT_EQ(s.server_verdict->reason, BPFPLUG_COMP_PEER_DID_NOT_ASK) << reason(s.server_verdict);

  // The server cannot: the client asks, nobody echoes.
  s = connect(veth.a, veth.b, VethPair::b_addr, 5001, {.mark_server = false});
  h = handshake_of(capture.drain(), 5001);
  EXPECT_TRUE(h.syn_has_option);
  EXPECT_FALSE(h.synack_has_option);
  ASSERT_TRUE(s.client_verdict);
  EXPECT_FALSE(s.client_verdict->on);
  EXPECT_EQ(s.client_verdict->reason, BPFPLUG_COMP_PEER_DECLINED) << reason(s.client_verdict);
  EXPECT_FALSE(s.server_verdict.has_value());
}

TEST_F(CompPolicy, ASideOutsideThePolicysCgroupNeverNegotiates) {
  load({"comp-ports", "--set", "ports=5001"});
  TestCgroup elsewhere(id_ + "-other");
  VethPair veth(id_);
  PacketCapture capture(veth.b, "veth0");

  // Server without the policy: the SYN asks, no SYN-ACK echoes.
  auto s = connect(veth.a, veth.b, VethPair::b_addr, 5001, {.server_cgroup = &elsewhere});
  auto h = handshake_of(capture.drain(), 5001);
  EXPECT_TRUE(h.syn_has_option);
  EXPECT_FALSE(h.synack_has_option);
  ASSERT_TRUE(s.client_verdict);
  EXPECT_FALSE(s.client_verdict->on);
  EXPECT_FALSE(s.server_verdict.has_value()) << "no policy ran for the server";

  // Client without the policy: nothing on the wire.
  s = connect(veth.a, veth.b, VethPair::b_addr, 5001, {.client_cgroup = &elsewhere});
  h = handshake_of(capture.drain(), 5001);
  EXPECT_FALSE(h.syn_has_option);
  EXPECT_FALSE(h.synack_has_option);
  EXPECT_FALSE(s.client_verdict.has_value());
  ASSERT_TRUE(s.server_verdict);
  EXPECT_FALSE(s.server_verdict->on);
}

TEST_F(CompPolicy, LoopbackIsExcludedUnlessLocalIsSet) {
  Netns ns(id_ + "-lo");
  ns.run_inside([] { (void)system("ip link set lo up"); });
  load({"comp-ports", "--set", "ports=5001"});
  auto s = connect(ns, ns, "127.0.0.1", 5001);
  ASSERT_TRUE(s.client_verdict && s.server_verdict);
  EXPECT_FALSE(s.client_verdict->on);
  EXPECT_EQ(s.client_verdict->reason, BPFPLUG_COMP_LOCAL_EXCLUDED) << reason(s.client_verdict);

  ASSERT_EQ(cli({"unload", "comp-ports"}).exit_code, 0);
  load({"comp-ports", "--set", "ports=5001", "--set", "local=1"});
  s = connect(ns, ns, "127.0.0.1", 5001);
  ASSERT_TRUE(s.client_verdict && s.server_verdict);
  EXPECT_TRUE(s.client_verdict->on && s.server_verdict->on) << reason(s.client_verdict) << " / " << reason(s.server_verdict);
}

TEST_F(CompPolicy, SynCookiesKeepCompressionOff) {
  load({"comp-ports", "--set", "ports=5001"});
  VethPair veth(id_);
  veth.b.set_sysctl("net.ipv4.tcp_syncookies", "2");  // answer every SYN with a cookie
  PacketCapture capture(veth.b, "veth0");
  auto s = connect(veth.a, veth.b, VethPair::b_addr, 5001);
  auto h = handshake_of(capture.drain(), 5001);
  EXPECT_TRUE(h.syn_has_option);
  EXPECT_FALSE(h.synack_has_option) << "a SYN cookie cannot remember the agreement";
  ASSERT_TRUE(s.client_verdict && s.server_verdict);
  EXPECT_FALSE(s.client_verdict->on || s.server_verdict->on);
  EXPECT_EQ(s.client_verdict->reason, BPFPLUG_COMP_PEER_DECLINED) << reason(s.client_verdict);
  EXPECT_EQ(s.server_verdict->reason, BPFPLUG_COMP_SYN_COOKIE) << reason(s.server_verdict);
  EXPECT_EQ(cli_json({"status", "comp-ports"})["counters"]["stat_syn_cookies"], 1);
}

TEST_F(CompPolicy, BadArgumentsAreRefusedAndChangeNothing) {
  for (const auto& ports : {"ports=70000", "ports=9000-8000", "ports=80,", "ports=http"}) {
    auto r = cli({"load", "comp-ports", "--set", ports, "--cgroup", cgroup_->path().string()});
    EXPECT_EQ(r.exit_code, 2) << ports << ": " << r.err;
    EXPECT_NE(r.err.find("port"), std::string::npos) << r.err;
  }
  auto r = cli({"load", "comp-ports", "--set", "ports=80", "--cgroup", "/nonexistent-cgroup"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = cli({"load", "comp-ports", "--set", "ports=80", "--default"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(fs::exists(paths_.pin_root / "_policies" / "comp-ports"));

  load({"comp-ports", "--set", "ports=80"});
  r = cli({"load", "comp-ports", "--set", "ports=81", "--cgroup", cgroup_->path().string()});
  EXPECT_EQ(r.exit_code, 5) << r.err;  // conflict
  EXPECT_EQ(cli_json({"status", "comp-ports"})["portsets"]["ports"], "80") << "the loaded policy is untouched";
  r = cli({"swap", "comp-ports"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = cli({"status", "comp-ports"}, 65534);
  EXPECT_EQ(r.exit_code, 3) << r.err;
}

// The sock_ops programs attached to `cgroup` (any attach flags), as the kernel lists them.
std::uint32_t sock_ops_programs(const fs::path& cgroup) {
  UniqueFd fd(open(cgroup.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  __u32 ids[8], count = 8, flags = 0;
  if (!fd || bpf_prog_query(fd.get(), BPF_CGROUP_SOCK_OPS, 0, &flags, ids, &count)) {
    ADD_FAILURE() << "can't query " << cgroup << ": " << std::strerror(errno);
    return 0;
  }
  return count;
}

// A process that loads and unloads policies and goes on running (bpfplug bench --comp, a
// daemon built on the library) must not keep an unloaded policy attached through an fd of its
// own: the pin was the link's only holder.
TEST_F(CompPolicy, UnloadDetachesThePolicyEvenWhileTheLoadingProcessRuns) {
  LinuxHost host;
  const Catalogue catalogue = Catalogue::builtin();
  PolicyManager manager(host, catalogue, paths_);
  PolicyLoadOptions options;
  options.cgroup = cgroup_->path().string();
  options.mechanism = CompMechanism::user;
  options.assignments = {"ports=5201"};
  manager.load("comp-ports", options);
  EXPECT_EQ(sock_ops_programs(cgroup_->path()), 1u);
  manager.unload("comp-ports");
  EXPECT_EQ(sock_ops_programs(cgroup_->path()), 0u) << "comp-ports stays attached after unload";
  manager.load("comp-ports", options);
  EXPECT_EQ(sock_ops_programs(cgroup_->path()), 1u) << "one policy attached, not two";
  manager.unload("comp-ports");
  EXPECT_EQ(sock_ops_programs(cgroup_->path()), 0u);
}

}  // namespace
}  // namespace bpfplug::test
