// comp-cost's model (struct_ops/bpfplug_comp_cost.h, the same C the BPF policy runs) against
// the formula in double precision, and the calibration math (loader/src/comp_calibration.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "bpfplug/comp_calibration.hpp"
#include "bpfplug_comp_cost.h"

namespace bpfplug {
namespace {

bpfplug_comp_model_in inputs(double ratio, double vc, double vd, double bw, unsigned headroom, unsigned min_headroom = 10) {
  return {static_cast<__u64>(bw), static_cast<__u64>(vc), static_cast<__u64>(vd),
          static_cast<__u32>(std::lround(ratio * BPFPLUG_COMP_ONE)), headroom, min_headroom, 1};
}

__u8 decide(const bpfplug_comp_model_in& in, double* cost = nullptr) {
  __u64 q = 0;
  __u8 r = bpfplug_comp_cost_decide(&in, &q);
  if (cost) *cost = q == BPFPLUG_COMP_COST_INFINITE ? INFINITY : static_cast<double>(q) / BPFPLUG_COMP_ONE;
  return r;
}

// The seed's worked example: zstd 1.3.4 level 1, ratio 2.877, Vc 470 MB/s, Vd 1380 MB/s:
// 0.35 + N * 0.00285 < 1, i.e. compression pays below N = 228 MB/s.
TEST(CompCostModel, SeedsWorkedExampleBreaksEvenAt228MBps) {
  Calibration c;
  c.ratio = 1 / 2.877;
  c.vc_bytes_per_s = 470e6;
  c.vd_bytes_per_s = 1380e6;
  EXPECT_NEAR(c.break_even_bytes_per_s() / 1e6, 228, 1);
  auto m = c.to_map_value();
  bpfplug_comp_model_in below{227'000'000, m.vc_bps, m.vd_bps, m.ratio_q, 100, 10, 1};
  bpfplug_comp_model_in above = below;
  above.bw_bps = 230'000'000;
  EXPECT_EQ(decide(below), BPFPLUG_COMP_YES);
  EXPECT_EQ(decide(above), BPFPLUG_COMP_COST_HIGHER);
  // Half a CPU halves Vc: break-even falls to 0.652 / (2/470 + 1/1380) MB/s = 131 MB/s.
  EXPECT_NEAR(c.break_even_bytes_per_s(50) / 1e6, 131, 1);
}

// Fixed point against doubles over a grid of inputs: the same verdict wherever the cost is not
// within 1e-4 of 1 (the fixed point's resolution is 1/65536 per term).
TEST(CompCostModel, FixedPointAgreesWithTheFormulaInDoublePrecision) {
  int compared = 0, near_the_edge = 0;
  for (double ratio : {0.1, 0.25, 0.35, 0.5, 0.8, 0.95, 1.0, 1.2})
    for (double vc : {20e6, 150e6, 470e6, 2e9})
      for (double vd : {100e6, 1380e6, 5e9})
        for (double bw : {1e3, 125e3, 1.25e6, 12.5e6, 50e6, 125e6, 228e6, 1.25e9, 12.5e9})
          for (unsigned headroom : {0u, 5u, 10u, 35u, 100u, 250u}) {
            auto in = inputs(ratio, vc, vd, bw, headroom);
            double cost_q = 0;
            __u8 got = decide(in, &cost_q);
            double h = std::min(headroom, 100u) / 100.0;
            double r = static_cast<double>(in.ratio_q) / BPFPLUG_COMP_ONE;
            double cost = h > 0 ? r + bw / (vc * h) + bw / vd : INFINITY;
            double full = r + bw / vc + bw / vd;
            __u8 want = headroom < 10          ? BPFPLUG_COMP_CPU_BUSY
                        : cost < 1             ? BPFPLUG_COMP_YES
                        : full < 1             ? BPFPLUG_COMP_CPU_BUSY
                                               : BPFPLUG_COMP_COST_HIGHER;
            if (std::isfinite(cost)) {
              EXPECT_NEAR(cost_q, cost, 1e-4 * std::max(1.0, cost));
            }
            if (std::abs(cost - 1) < 1e-4 || std::abs(full - 1) < 1e-4) {
              ++near_the_edge;
              continue;
            }
            EXPECT_EQ(got, want) << "R " << ratio << " Vc " << vc << " Vd " << vd << " N " << bw << " headroom "
                                 << headroom << ": cost " << cost;
            ++compared;
          }
  EXPECT_GT(compared, 5000);
  EXPECT_LT(near_the_edge, compared / 50) << "the grid should mostly test clear verdicts";
}

TEST(CompCostModel, MissingInputsAndCpuBusyHaveTheirOwnReasons) {
  auto in = inputs(0.35, 470e6, 1380e6, 10e6, 100);
  EXPECT_EQ(decide(in), BPFPLUG_COMP_YES);
  auto uncalibrated = in;
  uncalibrated.calibrated = 0;
  EXPECT_EQ(decide(uncalibrated), BPFPLUG_COMP_NOT_CALIBRATED);
  auto unknown = in;
  unknown.bw_bps = 0;
  EXPECT_EQ(decide(unknown), BPFPLUG_COMP_NO_ESTIMATE);
  auto huge = in;
  huge.bw_bps = 1ULL << 50;  // beyond what N << 16 holds: treated as no estimate, never wraps
  EXPECT_EQ(decide(huge), BPFPLUG_COMP_NO_ESTIMATE);
  auto busy = in;
  busy.headroom_pct = 9;
  EXPECT_EQ(decide(busy), BPFPLUG_COMP_CPU_BUSY);
  busy.headroom_pct = 10;  // at min_headroom: the scaled model decides, and 10 MB/s pays
  EXPECT_EQ(decide(busy), BPFPLUG_COMP_YES);
  auto no_cpu = in;
  no_cpu.headroom_pct = 0;
  no_cpu.min_headroom_pct = 0;
  double cost = 0;
  EXPECT_EQ(decide(no_cpu, &cost), BPFPLUG_COMP_CPU_BUSY);
  EXPECT_TRUE(std::isinf(cost));
  auto incompressible = inputs(1.0, 470e6, 1380e6, 1e3, 100);
  EXPECT_EQ(decide(incompressible), BPFPLUG_COMP_COST_HIGHER);
}

TEST(CompCostModel, ScaledVcIsExactAndDoesNotOverflow) {
  EXPECT_EQ(bpfplug_comp_scaled_vc(470'000'000, 50), 235'000'000u);
  EXPECT_EQ(bpfplug_comp_scaled_vc(199, 50), 99u);
  EXPECT_EQ(bpfplug_comp_scaled_vc(~0ULL, 100), ~0ULL);
  EXPECT_EQ(bpfplug_comp_scaled_vc(1000, 400), 1000u);  // clamped to a whole CPU
}

TEST(CompCalibration, MapValueRoundTripsAndTheBuiltInCorpusIsTheSameEverywhere) {
  Calibration c;
  c.ratio = 0.278;
  c.vc_bytes_per_s = 260.8e6;
  c.vd_bytes_per_s = 912.6e6;
  c.level = 1;
  auto back = Calibration::from_map_value(c.to_map_value());
  EXPECT_NEAR(back.ratio, c.ratio, 1.0 / BPFPLUG_COMP_ONE);
  EXPECT_EQ(back.vc_bytes_per_s, 260.8e6);
  EXPECT_EQ(c.to_map_value().codec, static_cast<__u32>(BPFPLUG_COMP_CODEC_ZSTD_STREAM));
  auto a = builtin_corpus(1 << 20), b = builtin_corpus(1 << 20);
  EXPECT_EQ(a.size(), 1u << 20);
  EXPECT_EQ(std::hash<std::string>{}(a), std::hash<std::string>{}(b));
  EXPECT_EQ(a.substr(0, 7), "{\"ts\":1");
}

TEST(CompCalibration, MeasuresARatioBelowOneAndPositiveSpeeds) {
  auto corpus = builtin_corpus(1 << 20);
  auto cal = calibrate_zstd(corpus, 1, 0.02);
  EXPECT_GT(cal.ratio, 0.05);
  EXPECT_LT(cal.ratio, 0.6) << "JSON logs compress well";
  EXPECT_GT(cal.vc_bytes_per_s, 1e6);
  EXPECT_GT(cal.vd_bytes_per_s, cal.vc_bytes_per_s) << "zstd decompresses faster than it compresses";
  // Random bytes do not compress: R is about 1 (stream overhead makes it a little more).
  std::string noise(1 << 18, '\0');
  std::uint64_t x = 88172645463325252ULL;
  for (auto& ch : noise) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    ch = static_cast<char>(x);
  }
  EXPECT_GT(calibrate_zstd(noise, 1, 0.01).ratio, 0.99);
}

}  // namespace
}  // namespace bpfplug
