// `bpfplug bench`: runs every named congestion control over the same emulated path, the
// algorithms interleaved run by run, and reports goodput, delay, loss, fairness, convergence,
// CPU and BPF cost side by side. Plugins not yet registered are loaded for the benchmark only
// (under a private pin root) and unloaded when it ends, however it ends.
#pragma once

#include <atomic>
#include <ostream>
#include <string>

#include "bench_config.hpp"

namespace bpfplug::bench {

// Set from a signal handler to stop early; the testbed and loaded plugins are still removed.
extern std::atomic<bool> bench_interrupted;
// Throws Error(failure) once it is set, saying that the testbed and the `loaded` ("plugins",
// "policies") go with it; called between steps.
void throw_if_interrupted(const std::string& loaded);

// Prints the report on `out` (JSON there instead when `json_out`), progress on `progress`.
// Throws bpfplug::Error for anything the user must fix (not root, unknown algorithm, a path
// the delay line cannot emulate faithfully on this machine, gnuplot missing).
int run_cc_bench(const BenchConfig& config, std::ostream& out, std::ostream& progress, bool json_out);

}  // namespace bpfplug::bench
