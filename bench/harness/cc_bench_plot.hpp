// `bpfplug bench --plot FILE`: one image (PNG or SVG, by FILE's extension) drawn by gnuplot with
// four panels: goodput against 95th-percentile RTT for every run of every algorithm (Pantheon's
// view: up and to the right is better), and, from each algorithm's first run, cwnd, smoothed RTT
// and delivery rate per flow over time.
#pragma once

#include <string>
#include <vector>

#include "cc_bench_report.hpp"

namespace bpfplug::bench {

// Throws Error(unsupported) when gnuplot is missing, naming the package to install.
void require_gnuplot();
// Throws Error(failure) if gnuplot fails (its own message goes to stderr).
void plot_report(const BenchReport& report, const std::string& file);

}  // namespace bpfplug::bench
