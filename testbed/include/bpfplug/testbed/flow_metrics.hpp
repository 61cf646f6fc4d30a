// What a flow's TCP_INFO samples say about the path it ran on: the queueing delay it saw and
// percentiles of it. Shared by the kernel tests and (later) `bpfplug bench`.
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

// The DCTCP alpha (1/1024 units) the kernel's own dctcp reports for socket `fd`
// (getsockopt TCP_CC_INFO); none when the socket runs anything else, bpf_dctcp included
// (BPF congestion controls cannot implement get_info).
std::optional<std::uint32_t> native_dctcp_alpha(int fd);

}  // namespace bpfplug::testbed
