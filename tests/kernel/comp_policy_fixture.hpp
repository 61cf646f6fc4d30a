// The fixture of the compression-policy kernel tests (comp_policy_test.cpp, comp_cost_test.cpp):
// a cgroup of the test's own for the policy, connections between namespaces with both ends'
// verdicts read by fd, and the handshake as captured on the wire.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bpfplug/comp_contract.hpp"
#include "bpfplug/policy_manager.hpp"
#include "bpfplug/testbed/netns.hpp"
#include "kernel/kernel_fixture.hpp"
#include "kernel/packet_capture.hpp"

namespace bpfplug::test {

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

inline std::string hex(const std::vector<std::uint8_t>& bytes) {
  std::string out;
  char b[4];
  for (auto byte : bytes) {
    std::snprintf(b, sizeof(b), "%02x ", byte);
    out += b;
  }
  return out;
}

// Expects exactly one SYN and one SYN-ACK of `port` (no retransmission, nothing missed).
inline Handshake handshake_of(const std::vector<TcpSegment>& segments, std::uint16_t port) {
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

inline std::string reason(const std::optional<bpfplug_comp_verdict>& v) {
  return v ? comp_reason_name(v->reason) : "no verdict";
}

}  // namespace bpfplug::test
