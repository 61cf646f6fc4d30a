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

}  // namespace
}  // namespace bpfplug::testbed
