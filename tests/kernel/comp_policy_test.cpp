// Compression policies (policies/, struct_ops/bpfplug_policy.h) in the kernel: the tcp_comp
// option FE 04 79 54 on the wire exactly where the policies say so, and verdicts by fd.
//
// Each test attaches the policy to a cgroup of its own and moves this process into it while it
// creates sockets (a socket belongs to the cgroup of the task that created it), so nothing
// outside the test's cgroup and namespaces ever meets the policy. Connections run between two
// namespaces joined by veth (198.18.0.1 -> 198.18.0.2) or on loopback inside one; the server's
// end of the veth is captured with an AF_PACKET socket.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <optional>

#include "bpfplug/comp_contract.hpp"
#include "bpfplug/policy_manager.hpp"
#include "bpfplug/testbed/netns.hpp"
#include "kernel/kernel_fixture.hpp"
#include "kernel/packet_capture.hpp"

namespace bpfplug::test {
namespace {

namespace fs = std::filesystem;
using testbed::Netns;
using testbed::VethPair;

// A cgroup v2 directory for this test; enter() moves this whole process into it, and the
// destructor moves it back where it was and removes the directory (also after a failure).
class TestCgroup {
 public:
  explicit TestCgroup(const std::string& name) {
    fs::path mount = cgroup2_mount();
    if (mount.empty()) return;
    std::ifstream self("/proc/self/cgroup");
    for (std::string line; std::getline(self, line);)
      if (line.starts_with("0::")) original_ = mount / fs::path(line.substr(3)).relative_path();
    path_ = mount / name;
    fs::create_directories(path_);
  }
  ~TestCgroup() {
    if (path_.empty()) return;
    leave();
    std::error_code ec;
    fs::remove(path_, ec);
  }
  bool available() const { return !path_.empty(); }
  const fs::path& path() const { return path_; }
  void enter() const { move_to(path_); }
  void leave() const { move_to(original_); }

 private:
  static void move_to(const fs::path& cgroup) {
    std::ofstream procs(cgroup / "cgroup.procs");
    procs << getpid() << std::flush;
    if (!procs) throw std::runtime_error("can't move this process into " + cgroup.string());
  }
  fs::path path_, original_;
};

struct Sides {
  UniqueFd client, server;  // server: the accepted connection
  std::optional<bpfplug_comp_verdict> client_verdict, server_verdict;
};

// What to mark ready, and where the two ends' sockets are created.
struct Ends {
  bool mark_client = true;
  bool mark_server = true;
  const TestCgroup* client_cgroup = nullptr;  // nullptr: wherever the process is
  const TestCgroup* server_cgroup = nullptr;
};

class CompPolicy : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped()) return;
    cgroup_ = std::make_unique<TestCgroup>(id_ + "-cg");
    if (!cgroup_->available()) GTEST_SKIP() << "cgroup v2 is not mounted";
    if (!features_.hdr_options) GTEST_SKIP() << "this kernel has no BPF TCP header options (5.10+)";
  }
  void TearDown() override {
    KernelTest::TearDown();  // unloads the policy before the cgroup goes
    cgroup_.reset();
  }

  void load(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"load"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--cgroup", cgroup_->path().string()});
    auto r = cli(argv);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // One connection from `client_ns` to `server_addr`:`port` in `server_ns`, with a few data
  // segments each way, and both verdicts read by fd.
  Sides connect(const Netns& client_ns, const Netns& server_ns, const char* server_addr, std::uint16_t port,
                const Ends& setup = {}) {
    CompContract contract(paths_.pin_root);
    Sides s;
    UniqueFd listener;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    inet_pton(AF_INET, server_addr, &addr.sin_addr);
    (setup.server_cgroup ? setup.server_cgroup : cgroup_.get())->enter();
    server_ns.run_inside([&] {
      listener = UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      int one = 1;
      setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      if (setup.mark_server) contract.mark_ready(listener.get());
      if (bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) || listen(listener.get(), 8))
        listener = UniqueFd();
    });
    (setup.client_cgroup ? setup.client_cgroup : cgroup_.get())->enter();
    client_ns.run_inside([&] {
      s.client = UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (setup.mark_client) contract.mark_ready(s.client.get());
      if (::connect(s.client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr))) s.client = UniqueFd();
    });
    cgroup_->leave();
    if (!listener || !s.client) {
      ADD_FAILURE() << "connection to " << server_addr << ":" << port << " failed: " << std::strerror(errno);
      return s;
    }
    s.server = UniqueFd(accept(listener.get(), nullptr, nullptr));
    char buf[1000] = {};
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(write(s.client.get(), buf, sizeof(buf)), static_cast<ssize_t>(sizeof(buf)));
      EXPECT_EQ(recv(s.server.get(), buf, sizeof(buf), MSG_WAITALL), static_cast<ssize_t>(sizeof(buf)));
      EXPECT_EQ(write(s.server.get(), buf, sizeof(buf)), static_cast<ssize_t>(sizeof(buf)));
      EXPECT_EQ(recv(s.client.get(), buf, sizeof(buf), MSG_WAITALL), static_cast<ssize_t>(sizeof(buf)));
    }
    s.client_verdict = contract.verdict(s.client.get());
    s.server_verdict = contract.verdict(s.server.get());
    return s;
  }

  std::unique_ptr<TestCgroup> cgroup_;
};

// The handshake of `port` as captured: whether the SYN and the SYN-ACK carried the option, and
// that no other segment did.
struct Handshake {
  bool syn_has_option = false;
  bool synack_has_option = false;
  int syns = 0, synacks = 0, others_with_option = 0, data_segments = 0;
  std::string syn_options, synack_options;  // hex, for the log
};

std::string hex(const std::vector<std::uint8_t>& bytes) {
  std::string out;
  char b[4];
  for (auto byte : bytes) {
    std::snprintf(b, sizeof(b), "%02x ", byte);
    out += b;
  }
  return out;
}

// Expects exactly one SYN and one SYN-ACK of `port` (no retransmission, nothing missed).
Handshake handshake_of(const std::vector<TcpSegment>& segments, std::uint16_t port) {
  Handshake h;
  for (const auto& s : segments) {
    if (s.source_port != port && s.dest_port != port) continue;
    if (s.syn() && !s.ack()) {
      ++h.syns;
      h.syn_has_option = s.has_comp_option();
      h.syn_options = hex(s.options);
    } else if (s.syn() && s.ack()) {
      ++h.synacks;
      h.synack_has_option = s.has_comp_option();
      h.synack_options = hex(s.options);
    } else {
      if (s.has_comp_option()) ++h.others_with_option;
      if (s.payload) ++h.data_segments;
    }
  }
  EXPECT_EQ(h.syns, 1) << "SYNs of port " << port << " captured";
  EXPECT_EQ(h.synacks, 1) << "SYN-ACKs of port " << port << " captured";
  EXPECT_GE(h.data_segments, 6) << "data segments of port " << port << " captured (3 each way)";
  std::printf("port %u: SYN options [%s], SYN-ACK options [%s], %d data segments\n", port, h.syn_options.c_str(),
              h.synack_options.c_str(), h.data_segments);
  return h;
}

std::string reason(const std::optional<bpfplug_comp_verdict>& v) {
  return v ? comp_reason_name(v->reason) : "no verdict";
}

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

}  // namespace
}  // namespace bpfplug::test
