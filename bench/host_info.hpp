// Where a benchmark's figures come from: the machine and the moment, for its report's header.
#pragma once

#include <string>

namespace bpfplug::bench {

struct HostInfo {
  std::string kernel;   // uname release
  std::string cpu;      // /proc/cpuinfo "model name", or "unknown CPU"
  long cpus = 0;        // online
  std::string date;     // "YYYY-MM-DD HH:MM UTC"
  std::string loadavg;  // /proc/loadavg as it reads
};

HostInfo host_info();

// "host: Linux RELEASE, CPU, N CPUs, DATE": the line a report's header starts with.
std::string host_line(const HostInfo& h = host_info());

}  // namespace bpfplug::bench
