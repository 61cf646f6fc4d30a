// `bpfplug bench` arguments: units as tc writes them, and the configurations it refuses.
#include <gtest/gtest.h>

#include <functional>

#include "bpfplug/error.hpp"
#include "harness/bench_config.hpp"

namespace bpfplug::bench {
namespace {

Exit code_of(const BenchWords& w) {
  try {
    resolve(w);
  } catch (const Error& e) {
    return e.code();
  }
  return Exit::ok;
}

BenchWords words(std::vector<std::string> algos = {"cubic"}) {
  BenchWords w;
  w.algorithms = std::move(algos);
  return w;
}

TEST(BenchConfig, RatesReadAsTcReadsThem) {
  EXPECT_EQ(parse_rate("100mbit"), 100'000'000u);
  EXPECT_EQ(parse_rate("1Gbit"), 1'000'000'000u);
  EXPECT_EQ(parse_rate("2.5mbit"), 2'500'000u);
  EXPECT_EQ(parse_rate("500kbit"), 500'000u);
  EXPECT_EQ(parse_rate("12500000"), 12'500'000u) << "a bare number is bit/s";
  EXPECT_EQ(parse_rate("1mbps"), 8'000'000u) << "bps is bytes per second, as in tc";
  EXPECT_THROW(parse_rate("fast"), Error);
  EXPECT_THROW(parse_rate("10furlongs"), Error);
  EXPECT_THROW(parse_rate("-5mbit"), Error);
}

TEST(BenchConfig, TimesAndSizes) {
  EXPECT_EQ(parse_time("20ms").count(), 20'000);
  EXPECT_EQ(parse_time("1.5s").count(), 1'500'000);
  EXPECT_EQ(parse_time("250us").count(), 250);
  EXPECT_EQ(parse_time("40").count(), 40'000) << "a bare number is milliseconds";
  EXPECT_THROW(parse_time("20 minutes"), Error);
  EXPECT_EQ(parse_size("64kb", 0), 65'536u);
  EXPECT_EQ(parse_size("1mb", 0), 1'048'576u);
  EXPECT_EQ(parse_size("20pkt", 0), 20 * kPacketBytes);
  EXPECT_EQ(parse_size("2bdp", 250'000), 500'000u);
  EXPECT_EQ(parse_size("0.5bdp", 250'000), 125'000u);
  EXPECT_EQ(parse_size("3000", 0), 3000u);
  EXPECT_THROW(parse_size("3 parsecs", 0), Error);
  EXPECT_DOUBLE_EQ(parse_probability("1%"), 0.01);
  EXPECT_DOUBLE_EQ(parse_probability("0.02"), 0.02);
  EXPECT_THROW(parse_probability("150%"), Error);
  EXPECT_THROW(parse_probability("1x"), Error);
}

TEST(BenchConfig, DefaultsGiveOneBdpOfBufferAndStaggerToHalfTheRun) {
  auto w = words({"cubic", "bpf_cubic"});
  w.rate = "100mbit";
  w.rtt = "20ms";
  w.flows = 3;
  w.duration_s = 20;
  BenchConfig c = resolve(w);
  EXPECT_EQ(c.bdp_bytes(), 250'000u);  // 100 Mbit/s x 20 ms
  EXPECT_EQ(c.buffer_bytes, 250'000u);
  EXPECT_DOUBLE_EQ(*c.stagger_s, 5.0) << "3 flows in 20 s: the last starts at 10 s";
  EXPECT_FALSE(c.ecn_k_bytes);
  // A tiny BDP still gets a buffer of ten packets.
  w.rtt = "0";
  EXPECT_EQ(resolve(w).buffer_bytes, 10 * kPacketBytes);
}

TEST(BenchConfig, RefusesWhatTheTestbedCannotEmulateOrWhatMakesNoSense) {
  EXPECT_EQ(code_of(words({})), Exit::usage) << "no algorithm";
  EXPECT_EQ(code_of(words({"cubic", "cubic"})), Exit::usage) << "an algorithm twice";
  struct Case {
    std::function<void(BenchWords&)> change;
    const char* why;
  };
  const std::vector<Case> refused = {
      {[](BenchWords& w) { w.rate = "100kbit"; }, "below 1 Mbit/s"},
      {[](BenchWords& w) { w.rate = "40gbit"; }, "above 10 Gbit/s"},
      {[](BenchWords& w) { w.rtt = "200us"; }, "an RTT the delay line cannot add faithfully"},
      {[](BenchWords& w) { w.buffer = "1pkt"; }, "a buffer below two packets"},
      {[](BenchWords& w) { w.ecn_k = "2bdp"; }, "K above the buffer never marks"},
      {[](BenchWords& w) { w.loss = "60%"; }, "more loss than path"},
      {[](BenchWords& w) { w.flows = 4, w.stagger = "5s", w.duration_s = 10; }, "the last flow starts after half the run"},
      {[](BenchWords& w) { w.sample_every = "500ms"; }, "TCP_INFO must be sampled every 100 ms or finer"},
      {[](BenchWords& w) { w.plot_file = "out.gif"; }, "only png and svg"},
  };
  for (const auto& c : refused) {
    auto w = words();
    c.change(w);
    EXPECT_EQ(code_of(w), Exit::usage) << c.why;
  }
  auto w = words();
  w.ecn_k = "20pkt";
  w.loss = "1%";
  w.plot_file = "x.svg";
  EXPECT_EQ(code_of(w), Exit::ok);
}

TEST(BenchConfig, DescribeNamesThePathAndTraffic) {
  auto w = words();
  w.rate = "10mbit";
  w.rtt = "40ms";
  w.ecn_k = "20pkt";
  w.flows = 2;
  w.runs = 3;
  std::string d = describe(resolve(w));
  EXPECT_NE(d.find("10 Mbit/s, RTT 40 ms, buffer 48.8 KiB (1 BDP), ECN K 29.6 KiB"), std::string::npos) << d;
  EXPECT_NE(d.find("2 bulk flows started 5 s apart"), std::string::npos) << d;
  EXPECT_NE(d.find("x 3 runs"), std::string::npos) << d;
}

}  // namespace
}  // namespace bpfplug::bench
