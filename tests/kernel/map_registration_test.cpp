// The registration path of kernels without struct_ops links (Linux < 6.4), exercised on this
// kernel: a Host that reports no link support makes bpfplug register through the map alone.
// Everything else is real: the kernel, the pins, a fresh CLI process reading them back.
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

}  // namespace
}  // namespace bpfplug::test
