// `bpfplug bench --comp`: the compression data path measured end to end. For every path
// (bottleneck rates on the namespace testbed, and the bare veth) and payload, a sender and a
// receiver program (`bpfplug comp-peer`) move the same bytes with no compression (no data
// path at all), with comp-ports (everything on the port) and with comp-cost (the model, after
// a warm-up transfer that lets it learn the path, as it would on a host that has talked to the
// destination before), each policy loaded into a private pin root and a cgroup of the
// benchmark's own and unloaded after. Reports time, goodput, bytes on the wire, CPU per GB,
// comp-cost against the best of the other two, and the codec against `zstd -b1`.
#pragma once

#include <filesystem>
#include <ostream>

#include "comp_bench_config.hpp"

namespace bpfplug::bench {

// `preload`: libbpfplug_preload.so. Prints the report on `out` (JSON instead with `json_out`),
// progress on `progress`. Throws Error for what the user must fix (not root, no cgroup v2) and
// when a transfer failed (after the report).
int run_comp_bench(const CompBenchConfig& config, const std::filesystem::path& preload, std::ostream& out,
                   std::ostream& progress, bool json_out);

}  // namespace bpfplug::bench
