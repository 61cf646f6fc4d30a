// The BPF fallbacks of struct_ops/bpfplug_compat.h, i.e. what kernels without the congestion-
// control kfuncs (Linux < 5.13) run, exercised on this kernel: every plugin built with the
// kfuncs compiled out (-DBPFPLUG_FORCE_BPF_FALLBACKS, tests/CMakeLists.txt) loads, grows its
// window, recovers from loss and delivers the data intact over the testbed.
#include <algorithm>

#include "bpfplug/bpf_object_view.hpp"
#include "bpfplug/plugin_manager.hpp"
#include "bpfplug/testbed/bottleneck_path.hpp"
#include "bpfplug/testbed/bulk_flow.hpp"
#include "cubic_fallback.skel.h"
#include "dctcp_fallback.skel.h"
#include "kernel/kernel_fixture.hpp"
#include "reno_fallback.skel.h"

namespace bpfplug::test {
namespace {

using namespace bpfplug::testbed;

Catalogue fallback_catalogue() {
  return Catalogue({Catalogue::describe(skeleton_elf(&reno_fallback_bpf__elf_bytes)),
                    Catalogue::describe(skeleton_elf(&dctcp_fallback_bpf__elf_bytes)),
                    Catalogue::describe(skeleton_elf(&cubic_fallback_bpf__elf_bytes))});
}

// Whether the object calls the kernel's tcp_slow_start (a kfunc declared in its BTF).
bool references_kfunc(std::span<const std::byte> elf, const char* kfunc) {
  auto obj = open_object(elf, "probe");
  return btf__find_by_name_kind(bpf_object__btf(obj.get()), kfunc, BTF_KIND_FUNC) >= 0;
}

class KfuncFallback : public KernelTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(KfuncFallback, PluginRunsOnItsOwnBpfImplementation) {
  Catalogue catalogue = fallback_catalogue();
  const auto& entry = catalogue.get(GetParam());
  REQUIRE_NAME_FREE(entry.ops_name);
  // The regular build calls the kfunc, the fallback build does not: this test runs the BPF code.
  EXPECT_TRUE(references_kfunc(plugin(GetParam()).elf, "tcp_slow_start") ||
              references_kfunc(plugin(GetParam()).elf, "tcp_reno_cong_avoid"));
  EXPECT_FALSE(references_kfunc(entry.elf, "tcp_slow_start"));
  EXPECT_FALSE(references_kfunc(entry.elf, "tcp_reno_cong_avoid"));

  LinuxHost host(paths_.bpffs());
  PluginManager manager(host, catalogue, paths_);
  manager.load(GetParam(), {});

  constexpr std::uint64_t rate = 100'000'000;
  BottleneckPath path(id_, PathConfig{rate, 500'000, std::nullopt, 0.001});
  TcpConnection conn({&path.sender(), entry.ops_name}, {&path.receiver(), entry.ops_name},
                     BottleneckPath::receiver_addr);
  auto flow = run_bulk_flow(conn, {std::chrono::milliseconds(2000), std::chrono::microseconds(10000)});
  std::uint32_t max_cwnd = 0;
  for (const auto& s : flow.samples) max_cwnd = std::max(max_cwnd, s.cwnd);
  std::printf("%s (BPF fallbacks): goodput %.1f Mbit/s, max cwnd %u, retransmits %u\n", entry.ops_name.c_str(),
              flow.goodput_bps() / 1e6, max_cwnd, flow.samples.back().total_retrans);
  EXPECT_TRUE(flow.data_intact);
  EXPECT_GT(max_cwnd, 20u) << "the window never grew beyond the initial 10";
  EXPECT_GT(flow.samples.back().total_retrans, 0u);
  EXPECT_GE(flow.goodput_bps(), 0.5 * rate) << "did not recover from random loss";
  EXPECT_EQ(conn.client_cc(), entry.ops_name);
}

INSTANTIATE_TEST_SUITE_P(Plugins, KfuncFallback, ::testing::Values("reno", "dctcp", "cubic"));

}  // namespace
}  // namespace bpfplug::test
