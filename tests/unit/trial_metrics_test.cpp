// `bpfplug bench` figures from hand-made traffic: two staggered flows whose shares, RTTs and
// counters are chosen so that every figure can be worked out on paper (see the comments).
#include <gtest/gtest.h>

#include "harness/trial_metrics.hpp"

namespace bpfplug::bench {
namespace {

using testbed::TcpSample;

TcpSample sample(double t, double acked, std::uint32_t rtt_us, std::uint32_t retrans) {
  TcpSample s;
  s.t = t;
  s.bytes_acked = static_cast<std::uint64_t>(acked);
  s.rtt_us = rtt_us;
  s.min_rtt_us = 10'000;
  s.total_retrans = retrans;
  return s;
}

// 10 Mbit/s = 1.25 MB/s for 4 s. Flow A alone in [0, 1); B starts at 1 and gets a quarter of
// the link until 2, half after. Samples every 0.5 s.
TrafficResult two_staggered_flows() {
  TrafficResult r;
  BulkFlowTrace a, b;
  a.start_s = 0, a.end_s = 4, a.cc = b.cc = "reno", a.sender_cpu_s = b.sender_cpu_s = 0.5;
  b.start_s = 1, b.end_s = 4;
  a.bytes_in_window = 3'000'000, b.bytes_in_window = 1'800'000;
  for (double t = 0; t <= 4; t += 0.5) {
    double acked = t <= 1 ? 1.25e6 * t : t <= 2 ? 1.25e6 + 0.9375e6 * (t - 1) : 2.1875e6 + 0.625e6 * (t - 2);
    a.samples.push_back(sample(t, acked, 12'000, t == 4 ? 3 : 0));
  }
  for (double t = 1; t <= 4; t += 0.5) {
    double acked = t <= 2 ? 0.3125e6 * (t - 1) : 0.3125e6 + 0.625e6 * (t - 2);
    b.samples.push_back(sample(t, acked, 14'000, t == 4 ? 2 : 0));
  }
  r.bulk = {a, b};
  return r;
}

BenchConfig ten_mbit_four_seconds() {
  BenchConfig c;
  c.algorithms = {"reno"};
  c.rate_bps = 10'000'000;
  c.rtt = std::chrono::milliseconds(10);
  c.duration_s = 4;
  c.flows = 2;
  return c;
}

ProbeResult probes(int near, int far, double far_rtt_ms, int lost = 0) {
  ProbeResult p;
  for (int i = 0; i < near; ++i) p.rtt_ms.push_back(10.2);
  for (int i = 0; i < far; ++i) p.rtt_ms.push_back(far_rtt_ms);
  p.sent = near + far + lost;
  p.lost = lost;
  return p;
}

TEST(TrialMetrics, TwoStaggeredFlowsWorkedByHand) {
  TrialCounters counters;
  counters.marker_packets = 1000;
  counters.backlog_sum_bytes = 1'250'000;
  counters.machine_cpu_s = 2.0;
  counters.bpf_calls = 1000;
  counters.bpf_run_time_ns = 150'000;
  auto m = compute_trial("reno", 1, ten_mbit_four_seconds(), two_staggered_flows(), counters, probes(100, 0, 0));

  EXPECT_TRUE(m.all_flows_ran);
  EXPECT_DOUBLE_EQ(m.goodput_bps, 9.6e6);  // 4.8 MB in 4 s
  EXPECT_DOUBLE_EQ(m.share, 0.96);
  ASSERT_EQ(m.flow_goodput_bps.size(), 2u);
  EXPECT_DOUBLE_EQ(m.flow_goodput_bps[0], 6e6);    // 3 MB over its 4 s
  EXPECT_DOUBLE_EQ(m.flow_goodput_bps[1], 4.8e6);  // 1.8 MB over its 3 s
  // 9 samples of 12 ms and 7 of 14 ms: sorted index 7 is 12, index 14 is 14.
  EXPECT_DOUBLE_EQ(m.rtt_p50_ms, 12);
  EXPECT_DOUBLE_EQ(m.rtt_p95_ms, 14);
  EXPECT_DOUBLE_EQ(m.qdelay_p50_ms, 2);  // srtt minus the 10 ms min RTT
  EXPECT_DOUBLE_EQ(m.qdelay_p95_ms, 4);
  EXPECT_DOUBLE_EQ(m.bottleneck_qdelay_ms, 1.0);  // 1250 bytes ahead on average at 10 Mbit/s
  EXPECT_EQ(m.retransmits, 5u);
  EXPECT_NEAR(m.retransmit_share, 5 / (5e6 / 1448), 1e-12);  // 5 MB acked in 1448-byte segments
  EXPECT_DOUBLE_EQ(m.sender_cpu_s_per_gb, 200);   // 1 s of sender CPU for 0.005 GB
  EXPECT_DOUBLE_EQ(m.machine_cpu_s_per_gb, 400);
  ASSERT_TRUE(m.bpf_ns_per_call);
  EXPECT_DOUBLE_EQ(*m.bpf_ns_per_call, 150);
  // While both ran (1..4 s), A got 2.1875 MB and B 1.5625 MB: (3.75)^2 / (2 (2.1875^2 + 1.5625^2)).
  ASSERT_TRUE(m.jain);
  EXPECT_NEAR(*m.jain, 14.0625 / 14.453125, 1e-12);
  // Bins of 0.5 s: 3:1 in [1, 2) (Jain 0.8), equal from 2 s on: converged 1 s after B started.
  ASSERT_TRUE(m.convergence_s);
  EXPECT_DOUBLE_EQ(*m.convergence_s, 1.0);
  EXPECT_TRUE(m.fidelity.faithful);
}

TEST(TrialMetrics, AFlowOnAnotherAlgorithmOrWithoutDataIsAFailure) {
  auto traffic = two_staggered_flows();
  traffic.bulk[1].cc = "cubic";
  auto m = compute_trial("reno", 1, ten_mbit_four_seconds(), traffic, {}, probes(100, 0, 0));
  EXPECT_FALSE(m.all_flows_ran);
  EXPECT_FALSE(m.jain) << "no fairness figure over flows that did not all run";
  traffic = two_staggered_flows();
  traffic.bulk[0].error = "connect: Connection refused";
  m = compute_trial("reno", 1, ten_mbit_four_seconds(), traffic, {}, probes(100, 0, 0));
  EXPECT_FALSE(m.all_flows_ran);
  ASSERT_EQ(m.flow_errors.size(), 1u);
  EXPECT_EQ(m.flow_errors[0], "connect: Connection refused");
}

TEST(TrialMetrics, FidelityJudgesTheNinetyFifthPercentileAndLosses) {
  // 10 ms requested: tolerance max(1 ms, 0.25 ms). 5 % of probes 2 ms late: p95 is index 94 of
  // 100, still on time.
  auto f = judge_fidelity(probes(95, 5, 12.0), 10);
  EXPECT_TRUE(f.faithful) << f.why;
  EXPECT_NEAR(f.excess_p50_ms, 0.2, 1e-9);
  EXPECT_NEAR(f.excess_p99_ms, 2.0, 1e-9);
  EXPECT_DOUBLE_EQ(f.tolerance_ms, 1.0);
  f = judge_fidelity(probes(90, 10, 12.0), 10);
  EXPECT_FALSE(f.faithful);
  EXPECT_NE(f.why.find("95th percentile"), std::string::npos) << f.why;
  f = judge_fidelity(probes(98, 0, 0, 2), 10);
  EXPECT_FALSE(f.faithful) << "2 % of probes lost";
  f = judge_fidelity(probes(100, 0, 0), 0);
  EXPECT_FALSE(f.applicable) << "no delay asked, nothing to judge";
  EXPECT_TRUE(f.faithful);
  EXPECT_DOUBLE_EQ(judge_fidelity(probes(100, 0, 0), 1).tolerance_ms, 0.25) << "the floor for short RTTs";
}

TEST(TrialMetrics, SummaryTakesMediansAndRanges) {
  std::vector<TrialMetrics> trials(3);
  double goodputs[] = {9.6e6, 8e6, 9e6};
  double p95s[] = {14, 20, 11};
  for (int i = 0; i < 3; ++i) {
    trials[i].algorithm = "reno";
    trials[i].goodput_bps = goodputs[i];
    trials[i].rtt_p95_ms = p95s[i];
  }
  trials[1].jain = 0.9;
  TrialMetrics other;
  other.algorithm = "cubic";
  other.goodput_bps = 1;
  trials.push_back(other);
  auto s = summarize("reno", trials);
  EXPECT_EQ(s.runs, 3);
  EXPECT_DOUBLE_EQ(s.goodput_bps, 9e6);
  EXPECT_DOUBLE_EQ(s.goodput_min_bps, 8e6);
  EXPECT_DOUBLE_EQ(s.goodput_max_bps, 9.6e6);
  EXPECT_DOUBLE_EQ(s.rtt_p95_ms, 14);
  EXPECT_DOUBLE_EQ(s.rtt_p95_min_ms, 11);
  EXPECT_DOUBLE_EQ(s.rtt_p95_max_ms, 20);
  ASSERT_TRUE(s.jain);
  EXPECT_DOUBLE_EQ(*s.jain, 0.9) << "the median of the runs that have one";
  EXPECT_DOUBLE_EQ(median({4, 1, 3, 2}), 2.5);
}

TEST(TrafficMix, PoissonArrivalsAreReproducibleAndInRange) {
  auto a = poisson_arrivals(10, 100, 7);
  EXPECT_EQ(a, poisson_arrivals(10, 100, 7)) << "the same seed, the same arrivals";
  EXPECT_NE(a, poisson_arrivals(10, 100, 8));
  EXPECT_GT(a.size(), 850u);  // mean 1000, standard deviation about 32
  EXPECT_LT(a.size(), 1150u);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_LT(a.back(), 100);
  EXPECT_TRUE(poisson_arrivals(0, 100, 7).empty());
}

}  // namespace
}  // namespace bpfplug::bench
