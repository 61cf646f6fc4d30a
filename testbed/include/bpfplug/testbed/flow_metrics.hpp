// What flows' TCP_INFO samples say about the path they ran on: the queueing delay they saw and
// percentiles of it; how fairly several flows shared the bottleneck (Jain's index) and how long
// staggered flows took to converge. Shared by the kernel tests and (later) `bpfplug bench`.
#pragma once

#include <optional>
#include <vector>

#include "bpfplug/testbed/bulk_flow.hpp"

namespace bpfplug::testbed {

// Queueing delay per sample from `warmup_seconds` on: the smoothed RTT minus the lowest RTT
// the connection ever measured (its unloaded path), in milliseconds.
std::vector<double> queueing_delay_ms(const FlowResult& flow, double warmup_seconds);

// The p-th quantile (0 <= p <= 1) by the nearest-rank-below rule: the sorted element at
// floor(p * (n - 1)). 0 for no values.
double percentile(std::vector<double> values, double p);

// Jain's fairness index of the rates x_1..x_n: (sum x)^2 / (n * sum x^2), 1 when all are equal,
// 1/n when one flow has everything (R. Jain, D. Chiu, W. Hawe, DEC-TR-301, 1984). 0 for no
// rates or when all are 0 (nothing was shared).
double jain_index(const std::vector<double>& rates);

// A flow's delivery rate in fixed bins of `bin_seconds` on a clock common to several flows: the
// flow started `start_offset_seconds` after that clock's zero (its samples' t count from its own
// start). Bin k covers [k * bin, (k + 1) * bin); its rate is the growth of the cumulative
// bytes_acked between the last samples at or before its two edges (0 before the first sample),
// in bit/s.
std::vector<double> binned_rate_bps(const std::vector<TcpSample>& samples, double start_offset_seconds,
                                    double bin_seconds, std::size_t bins);

// Convergence of staggered flows: rates[f][k] is flow f's rate in bin k (binned_rate_bps, one
// clock). The seconds from `last_start_seconds` (when the last flow started) to the start of the
// first bin, at or after it, from which Jain's index over the flows stays >= `threshold` for
// `hold_seconds` (whole bins, at least one); none if that never happens.
std::optional<double> convergence_time_seconds(const std::vector<std::vector<double>>& rates, double bin_seconds,
                                               double last_start_seconds, double threshold = 0.95,
                                               double hold_seconds = 1.0);

// The DCTCP alpha (1/1024 units) the kernel's own dctcp reports for socket `fd`
// (getsockopt TCP_CC_INFO); none when the socket runs anything else, bpf_dctcp included
// (BPF congestion controls cannot implement get_info).
std::optional<std::uint32_t> native_dctcp_alpha(int fd);

}  // namespace bpfplug::testbed
