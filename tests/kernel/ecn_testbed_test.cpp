// Behaviour on the ECN testbed (testbed/): DCTCP against marking at K, CUBIC against a
// drop-tail buffer, on the same 100 Mbit/s bottleneck.
#include <algorithm>

#include "bpfplug/testbed/bottleneck_path.hpp"
#include "bpfplug/testbed/bulk_flow.hpp"
#include "kernel/kernel_fixture.hpp"

namespace bpfplug::test {
namespace {

using namespace bpfplug::testbed;

constexpr std::uint64_t kRate = 100'000'000;
constexpr std::uint32_t kBuffer = 1'000'000;   // 80 ms at 100 Mbit/s
constexpr std::uint32_t kMarkK = 30'000;       // ~20 full-size packets, 2.4 ms at 100 Mbit/s

// Queueing delay the flow saw: smoothed RTT minus the path's unloaded RTT, per sample.
std::vector<double> queueing_delay_ms(const FlowResult& flow, double skip_seconds) {
  std::uint32_t base = UINT32_MAX;
  for (const auto& s : flow.samples) if (s.min_rtt_us) base = std::min(base, s.min_rtt_us);
  std::vector<double> out;
  for (const auto& s : flow.samples)
    if (s.t >= skip_seconds && s.rtt_us) out.push_back((s.rtt_us - std::min(s.rtt_us, base)) / 1000.0);
  return out;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * (v.size() - 1))];
}

class EcnTestbed : public KernelTest {
 protected:
  FlowResult run(const BottleneckPath& path, const std::string& cc) {
    TcpConnection conn({&path.sender(), cc}, {&path.receiver(), cc}, BottleneckPath::receiver_addr);
    return run_bulk_flow(conn, {std::chrono::milliseconds(4000), std::chrono::microseconds(10000)});
  }
};

TEST_F(EcnTestbed, Explore) {
  REQUIRE_NAME_FREE("bpf_dctcp");
  ASSERT_EQ(cli({"load", "dctcp"}).exit_code, 0);
  ASSERT_EQ(cli({"load", "cubic"}).exit_code, 0);
  for (std::string cc : {"bpf_dctcp", "bpf_cubic", "cubic"}) {
    PathConfig cfg{kRate, kBuffer, cc == "bpf_dctcp" ? std::optional<std::uint32_t>(kMarkK) : std::nullopt, 0.0};
    BottleneckPath path(id_, cfg);
    auto flow = run(path, cc);
    auto q = queueing_delay_ms(flow, 0.5);
    auto m = path.marker_stats();
    std::printf("%-10s goodput %.1f Mbit/s intact %d  qdelay p50 %.2f p95 %.2f p99 %.2f ms  marked %lu/%lu dropped %lu maxbacklog %lu samples %zu retrans %u\n",
                cc.c_str(), flow.goodput_bps() / 1e6, flow.data_intact, percentile(q, .5), percentile(q, .95), percentile(q, .99),
                m.marked, m.packets, m.dropped, m.max_backlog_bytes, flow.samples.size(), flow.samples.empty() ? 0 : flow.samples.back().total_retrans);
  }
  std::printf("%s\n", cli({"status", "dctcp"}).out.c_str());
}

}  // namespace
}  // namespace bpfplug::test
