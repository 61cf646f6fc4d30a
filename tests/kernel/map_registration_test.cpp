// The registration path of kernels without struct_ops links (Linux < 6.4), exercised on this
// kernel: a Host that reports no link support makes bpfplug register through the map alone.
// Everything else is real: the kernel, the pins, a fresh CLI process reading them back.
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>

#include "bpfplug/plugin_manager.hpp"
#include "kernel/kernel_fixture.hpp"
#include "bpfplug/testbed/tcp_connection.hpp"

namespace bpfplug::test {
namespace {

using namespace bpfplug::testbed;

class HostWithoutLinks final : public Host {
 public:
  explicit HostWithoutLinks(const std::filesystem::path& bpffs) : real_(bpffs) {}
  bool privileged() const override { return real_.privileged(); }
  KernelFeatures features() const override {
    auto f = real_.features();
    f.struct_ops_link = false;
    return f;
  }
  void ensure_bpffs(const std::filesystem::path& mount_point) override { real_.ensure_bpffs(mount_point); }
  const Sysctl& sysctl() const override { return real_.sysctl(); }
  void exec_program(const ProgramLaunch& launch) override { real_.exec_program(launch); }

 private:
  LinuxHost real_;
};

class MapRegistration : public KernelTest {};

TEST_F(MapRegistration, PlainRegistrationOutlivesTheLoaderAndUnloads) {
  REQUIRE_NAME_FREE("bpf_reno");
  {
    HostWithoutLinks host(paths_.bpffs());
    PluginManager manager(host, Catalogue::builtin(), paths_);
    auto result = manager.load("reno", {});
    EXPECT_EQ(result.attach, AttachMode::map);
    EXPECT_EQ(result.ids.link_id, 0u);
  }  // every handle of the loading code is gone now

  EXPECT_TRUE(available("bpf_reno"));
  EXPECT_FALSE(std::filesystem::exists(paths_.plugin_dir("reno") / "link"));
  auto status = cli_json({"status", "reno"});
  EXPECT_EQ(status["attach"], "map");
  EXPECT_TRUE(status["registered"].get<bool>());

  {
    TcpConnection conn({nullptr, "bpf_reno"}, {nullptr, "bpf_reno"}, "127.0.0.1");
    EXPECT_EQ(conn.transfer(4 << 20), 4u << 20);
    EXPECT_EQ(conn.client_cc(), "bpf_reno");
  }

  auto unload = cli({"unload", "reno"});
  ASSERT_EQ(unload.exit_code, 0) << unload.err;
  EXPECT_FALSE(available("bpf_reno"));
}

// Without links a swap can't be atomic: the old map is unregistered, then the new one
// registered (docs/lifecycle.md says what that gap means). It still has to end with the new
// implementation registered under the same name and the old one serving its connections.
TEST_F(MapRegistration, SwapUnregistersThenRegistersAndKeepsOldConnections) {
  REQUIRE_NAME_FREE("bpf_reno");
  HostWithoutLinks host(paths_.bpffs());
  PluginManager manager(host, Catalogue::builtin(), paths_);
  manager.load("reno", {});
  TcpConnection before({nullptr, "bpf_reno"}, {nullptr, "bpf_reno"}, "127.0.0.1");

  auto swapped = manager.swap("reno", {});
  EXPECT_FALSE(swapped.atomic);
  EXPECT_NE(swapped.new_ids.ops_map_id, swapped.old_ids.ops_map_id);
  EXPECT_TRUE(available("bpf_reno"));
  TcpConnection after({nullptr, "bpf_reno"}, {nullptr, "bpf_reno"}, "127.0.0.1");
  EXPECT_EQ(before.transfer(1 << 20), 1u << 20);
  EXPECT_EQ(after.transfer(1 << 20), 1u << 20);

  auto status = cli_json({"status", "reno"});
  EXPECT_EQ(status["attach"], "map");
  EXPECT_EQ(status["generation"], 2);
  ASSERT_EQ(status["generations"].size(), 2u) << status.dump(2);
  EXPECT_EQ(status["generations"][0]["sockets"], 2);
  EXPECT_FALSE(status["generations"][0]["current"].get<bool>());
  EXPECT_EQ(status["generations"][1]["sockets"], 2);
  EXPECT_TRUE(status["generations"][1]["current"].get<bool>());
  EXPECT_EQ(status["ops_map_id"], swapped.new_ids.ops_map_id);
}

// The worst moment of a map-mode swap: killed after the old map was unregistered and before
// the new one was registered, the name is gone. Repair must register the new implementation.
TEST_F(MapRegistration, RepairRegistersTheNewImplementationAfterACrashInTheGap) {
  REQUIRE_NAME_FREE("bpf_reno");
  HostWithoutLinks host(paths_.bpffs());
  PluginManager(host, Catalogue::builtin(), paths_).load("reno", {});

  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    setenv("BPFPLUG_CRASH_AT", "swap-unregistered", 1);
    PluginManager manager(host, Catalogue::builtin(), paths_);
    manager.swap("reno", {});
    _exit(0);  // not reached: the crash point kills the process
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) << "the crash point was not reached";
  EXPECT_FALSE(available("bpf_reno")) << "killed in the gap: nothing is registered";

  PluginManager manager(host, Catalogue::builtin(), paths_);
  ASSERT_EQ(manager.diagnose().size(), 1u);
  auto done = manager.repair();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_NE(done[0].find("register the new implementation"), std::string::npos) << done[0];
  EXPECT_TRUE(available("bpf_reno"));
  EXPECT_TRUE(manager.diagnose().empty());
  auto status = manager.status("reno");
  EXPECT_EQ(status.record.generation, 2);
  ASSERT_EQ(status.generations.size(), 1u) << "generation 1 had no connections and was unpinned";
  EXPECT_TRUE(status.generations[0].current);
  TcpConnection conn({nullptr, "bpf_reno"}, {nullptr, "bpf_reno"}, "127.0.0.1");
  EXPECT_EQ(conn.transfer(1 << 20), 1u << 20);
}

}  // namespace
}  // namespace bpfplug::test
