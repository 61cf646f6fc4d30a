// Flow metrics against hand-worked inputs.
#include <gtest/gtest.h>

#include "bpfplug/testbed/flow_metrics.hpp"

namespace bpfplug::testbed {
namespace {

TEST(FlowMetrics, PercentileTakesTheSortedElementAtFloorPTimesNMinusOne) {
  std::vector<double> v = {9, 1, 5, 3, 7};  // sorted: 1 3 5 7 9
  EXPECT_EQ(percentile(v, 0.0), 1);
  EXPECT_EQ(percentile(v, 0.5), 5);   // index 2
  EXPECT_EQ(percentile(v, 0.95), 7);  // index floor(3.8) = 3
  EXPECT_EQ(percentile(v, 1.0), 9);
  EXPECT_EQ(percentile(v, 2.0), 9) << "p is clamped to [0, 1]";
  EXPECT_EQ(percentile({}, 0.5), 0);
}

TEST(FlowMetrics, QueueingDelayIsSmoothedRttAboveTheLowestRttAfterWarmup) {
  FlowResult flow;
  auto sample = [](double t, std::uint32_t rtt, std::uint32_t min_rtt) {
    TcpSample s;
    s.t = t;
    s.rtt_us = rtt;
    s.min_rtt_us = min_rtt;
    return s;
  };
  // min_rtt drops to 1000 us only in the last sample: the base is the lowest the flow ever saw.
  flow.samples = {sample(0.1, 9000, 2000), sample(0.6, 4000, 2000), sample(0.7, 0, 0), sample(0.8, 1500, 1000)};
  EXPECT_EQ(queueing_delay_ms(flow, 0.5), (std::vector<double>{3.0, 0.5})) << "warm-up and RTT-less samples are left out";
  EXPECT_EQ(queueing_delay_ms(flow, 0.0), (std::vector<double>{8.0, 3.0, 0.5}));
  flow.samples = {sample(1.0, 500, 1000)};  // an RTT below the minimum counts as no queue, not negative
  EXPECT_EQ(queueing_delay_ms(flow, 0.0), (std::vector<double>{0.0}));
}

TEST(FlowMetrics, JainIndexIsOneForEqualSharesAndOneOverNForAMonopoly) {
  EXPECT_DOUBLE_EQ(jain_index({7, 7, 7, 7}), 1.0);
  EXPECT_DOUBLE_EQ(jain_index({1, 0, 0, 0}), 0.25);
  EXPECT_DOUBLE_EQ(jain_index({3, 1}), 0.8);  // 4^2 / (2 * (9 + 1))
  EXPECT_DOUBLE_EQ(jain_index({}), 0.0);
  EXPECT_DOUBLE_EQ(jain_index({0, 0}), 0.0) << "nothing was shared";
}

TEST(FlowMetrics, BinnedRateIsTheGrowthOfBytesAckedBetweenBinEdgesOnTheCommonClock) {
  auto sample = [](double t, std::uint64_t acked) {
    TcpSample s;
    s.t = t;
    s.bytes_acked = acked;
    return s;
  };
  // The flow started 0.5 s after the common clock's zero: its samples sit at 0.5, 1.0, ... 2.5.
  std::vector<TcpSample> samples = {sample(0.0, 0), sample(0.5, 1000), sample(1.0, 3000), sample(1.5, 3000),
                                    sample(2.0, 7000)};
  EXPECT_EQ(binned_rate_bps(samples, 0.5, 1.0, 4), (std::vector<double>{8000, 16000, 32000, 0}))
      << "bins [0,1) [1,2) [2,3) [3,4): 1000, 2000, 4000 and 0 bytes";
  EXPECT_EQ(binned_rate_bps(samples, 0.0, 0.5, 2), (std::vector<double>{16000, 32000}));
  EXPECT_EQ(binned_rate_bps({}, 0.0, 1.0, 2), (std::vector<double>{0, 0}));
}

TEST(FlowMetrics, ConvergenceIsWhenJainsIndexStaysAboveTheThresholdForTheHoldTime) {
  // Bins of 0.5 s; flow b starts at 1.5 s (bin 3). Jain from bin 3 on: (5,1) 0.69, (6,3) 0.90,
  // then (5,5) 1.0 for three bins.
  std::vector<std::vector<double>> rates = {{10, 10, 10, 5, 6, 5, 5, 5}, {0, 0, 0, 1, 3, 5, 5, 5}};
  // >= 0.95 for 1 s (two bins) first holds over bins 5-6: bin 5 starts at 2.5 s, 1.0 s after b.
  EXPECT_DOUBLE_EQ(*convergence_time_seconds(rates, 0.5, 1.5, 0.95, 1.0), 1.0);
  // >= 0.85: bins 4-5, from 2.0 s.
  EXPECT_DOUBLE_EQ(*convergence_time_seconds(rates, 0.5, 1.5, 0.85, 1.0), 0.5);
  // A hold longer than what is left, or a flow that never catches up: no convergence.
  EXPECT_FALSE(convergence_time_seconds(rates, 0.5, 1.5, 0.95, 2.0).has_value());
  EXPECT_FALSE(convergence_time_seconds({{5, 5, 5}, {1, 1, 1}}, 0.5, 0.0).has_value());
  // The bins before the last start do not count, however fair they are.
  EXPECT_DOUBLE_EQ(*convergence_time_seconds({{5, 5, 9, 5, 5}, {5, 5, 1, 5, 5}}, 1.0, 2.0, 0.95, 1.0), 1.0);
  EXPECT_FALSE(convergence_time_seconds({}, 0.5, 0.0).has_value());
}

}  // namespace
}  // namespace bpfplug::testbed
