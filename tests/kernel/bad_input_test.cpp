// Bad input against the real kernel: each gets one clear line, a documented exit code, and
// leaves the host exactly as it was.
#include <filesystem>

#include "bpfplug/error.hpp"
#include "bpfplug/plugin_manager.hpp"
#include "clash_cubic.skel.h"
#include "kernel/kernel_fixture.hpp"
#include "bpfplug/testbed/shell.hpp"
#include "bpfplug/testbed/tcp_connection.hpp"

namespace fs = std::filesystem;

namespace bpfplug::test {
namespace {

using namespace bpfplug::testbed;

// Everything a bpfplug command could change on the host.
struct HostSnapshot {
  std::string available, allowed, current;
  std::vector<std::string> pins;
  bool operator==(const HostSnapshot&) const = default;
};

class BadInput : public KernelTest {
 protected:
  HostSnapshot snapshot() const {
    HostSnapshot s{proc_sys("net/ipv4/tcp_available_congestion_control"),
                   proc_sys("net/ipv4/tcp_allowed_congestion_control"),
                   proc_sys("net/ipv4/tcp_congestion_control"), {}};
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(paths_.pin_root, ec)) s.pins.push_back(e.path());
    std::sort(s.pins.begin(), s.pins.end());
    return s;
  }
  // Runs the CLI, expects `code` and a one-line error containing `text`, and no change.
  void expect_refused(const std::vector<std::string>& args, int code, const std::string& text,
                      std::optional<unsigned> uid = std::nullopt) {
    auto before = snapshot();
    auto r = cli(args, uid);
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
    EXPECT_NE(r.err.find(text), std::string::npos) << r.err;
    EXPECT_TRUE(snapshot() == before) << "the host changed";
  }
};

TEST_F(BadInput, UnknownPlugin) { expect_refused({"load", "dctpc"}, 2, "did you mean 'dctcp'"); }

TEST_F(BadInput, MalformedSet) {
  expect_refused({"load", "dctcp", "--set", "shift_g"}, 2, "malformed --set");
  expect_refused({"load", "dctcp", "--set", "shift_g=99"}, 2, "outside [0, 10]");
  expect_refused({"load", "dctcp", "--set", "shift=3"}, 2, "did you mean 'shift_g'");
}

TEST_F(BadInput, LoadingTwice) {
  REQUIRE_NAME_FREE("bpf_reno");
  ASSERT_EQ(cli({"load", "reno"}).exit_code, 0);
  expect_refused({"load", "reno"}, 5, "already loaded");
}

TEST_F(BadInput, UnloadingWhatIsNotLoaded) { expect_refused({"unload", "reno"}, 5, "not loaded"); }

TEST_F(BadInput, NotRoot) {
  expect_refused({"load", "reno"}, 3, "run as root", 65534);
  expect_refused({"unload", "reno"}, 3, "run as root", 65534);
}

TEST_F(BadInput, BpffsCannotBeMounted) {
  paths_.pin_root = "/nonexistent-bpfplug-test/pins";
  expect_refused({"load", "reno"}, 4, "mounting it failed");
  EXPECT_FALSE(fs::exists("/nonexistent-bpfplug-test"));
}

TEST_F(BadInput, NameClashWithBuiltinAlgorithm) {
  // A plugin registering as "cubic", which this kernel has built in; through the library, as
  // `bpfplug load --object` will do.
  Catalogue catalogue({Catalogue::describe(skeleton_elf(&clash_cubic_bpf__elf_bytes))});
  LinuxHost host(paths_.bpffs());
  PluginManager manager(host, catalogue, paths_);
  auto before = snapshot();
  try {
    manager.load("clash-cubic", {});
    FAIL() << "loading a plugin named cubic succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::conflict);
    EXPECT_NE(std::string(e.what()).find("already has a congestion control named cubic"), std::string::npos);
  }
  EXPECT_TRUE(snapshot() == before);
}

TEST_F(BadInput, NameClashWithAnotherRegistration) {
  REQUIRE_NAME_FREE("bpf_reno");
  // Another party (here: a second bpfplug with its own pins) registered bpf_reno first.
  Command other{{BPFPLUG_CLI, "load", "reno"},
                {{"BPFPLUG_PIN_ROOT", paths_.pin_root.string() + "-other"},
                 {"BPFPLUG_STATE_DIR", paths_.state_dir.string() + "-other"}},
                std::nullopt};
  ASSERT_EQ(run(other).exit_code, 0);
  expect_refused({"load", "reno"}, 5, "already has a congestion control named bpf_reno");
  other.argv = {BPFPLUG_CLI, "unload", "reno"};
  EXPECT_EQ(run(other).exit_code, 0);
  fs::remove_all(paths_.state_dir.string() + "-other");
}

TEST_F(BadInput, UnloadingWhatConnectionsUse) {
  REQUIRE_NAME_FREE("bpf_reno");
  ASSERT_EQ(cli({"load", "reno"}).exit_code, 0);
  TcpConnection conn({nullptr, "bpf_reno"}, {nullptr, "bpf_reno"}, "127.0.0.1");
  expect_refused({"unload", "reno"}, 5, "2 connection(s) still use bpf_reno");

  auto forced = cli({"unload", "reno", "--force"});
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_NE(forced.out.find("keep running bpf_reno"), std::string::npos) << forced.out;
  EXPECT_FALSE(available("bpf_reno"));
  // The kernel keeps the old ops alive for the connections that run them.
  EXPECT_EQ(conn.transfer(1 << 20), 1u << 20);
  EXPECT_EQ(conn.client_cc(), "bpf_reno");
}

// bpffs is not mounted at boot on this platform: load mounts it. Run in a private mount
// namespace so the host's own bpffs mounts are untouched.
TEST_F(BadInput, BpffsIsMountedWhenMissing) {
  std::string env = "BPFPLUG_PIN_ROOT=" + paths_.pin_root.string() + " BPFPLUG_STATE_DIR=" + paths_.state_dir.string();
  std::string script =
      "while grep -q ' /sys/fs/bpf bpf ' /proc/mounts; do umount /sys/fs/bpf || exit 90; done; " +
      env + " " BPFPLUG_CLI " load reno >/dev/null || exit 91; "
      "grep -q ' /sys/fs/bpf bpf ' /proc/mounts || exit 92; " +
      env + " " BPFPLUG_CLI " unload reno >/dev/null || exit 93";
  REQUIRE_NAME_FREE("bpf_reno");
  EXPECT_EQ(sh("unshare --mount --propagation private sh -c \"" + script + "\""), 0);
  EXPECT_FALSE(available("bpf_reno"));
}

// On a kernel without what dctcp needs (Linux 5.10: no bpf_setsockopt from BPF congestion
// control) load says so and why, exit code 4, and changes nothing. Runs in the matrix guests.
TEST_F(BadInput, PluginNeedingWhatThisKernelLacks) {
  if (features_.cc_setsockopt) GTEST_SKIP() << "this kernel has everything dctcp needs";
  expect_refused({"load", "dctcp"}, 4, "not supported on this kernel");
  EXPECT_FALSE(available("bpf_dctcp"));
}

}  // namespace
}  // namespace bpfplug::test
