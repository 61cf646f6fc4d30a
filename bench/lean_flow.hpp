// A timed bulk transfer that costs as little as possible outside the TCP stack: the client
// sends one constant buffer over and over, the server reads and counts (no pattern generation,
// no byte checks), so CPU time per byte measures the stack and its congestion control.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "bpfplug/testbed/tcp_connection.hpp"

namespace bpfplug::bench {

// CPU time of this process (getrusage RUSAGE_SELF, user + sys), of the ksoftirqd threads, which
// do the network softirq work the kernel defers out of this process's context, and of the whole
// machine (/proc/stat, every CPU, tick-sampled; includes whatever else the machine runs).
class CpuMeter {
 public:
  CpuMeter();
  struct Reading {
    double process_s = 0;
    double ksoftirqd_s = 0;
    double machine_busy_s = 0;
    double machine_steal_s = 0;  // taken by the hypervisor from this VM's CPUs
  };
  Reading now() const;

 private:
  std::vector<int> ksoftirqd_pids_;
};

struct FlowFigures {
  std::uint64_t bytes = 0;       // received by the server
  double seconds = 0;            // first send to end of stream at the server
  double process_cpu_s = 0;      // getrusage delta over the flow
  double ksoftirqd_cpu_s = 0;    // ksoftirqd/N sum_exec_runtime delta over the flow
  double machine_cpu_s = 0;      // /proc/stat busy time (all CPUs) delta over the flow
  double steal_s = 0;            // /proc/stat steal time (all CPUs) delta over the flow
  std::uint32_t retransmits = 0; // sender's tcpi_total_retrans at the end
  std::uint32_t cwnd = 0;        // sender's tcpi_snd_cwnd at the end
  int rcvbuf_bytes = 0;          // receiver's SO_RCVBUF at the end (after autotuning)

  double gbit_per_s() const { return seconds > 0 ? bytes * 8.0 / seconds / 1e9 : 0; }
  double cpu_s() const { return process_cpu_s + ksoftirqd_cpu_s; }
  double cpu_s_per_gb() const { return bytes > 0 ? cpu_s() / (bytes / 1e9) : 0; }
  double steal_share(int cpus) const { return seconds > 0 ? steal_s / (seconds * cpus) : 0; }
  double machine_cpu_s_per_gb() const { return bytes > 0 ? machine_cpu_s / (bytes / 1e9) : 0; }
};

struct FlowOptions {
  std::chrono::milliseconds duration{2000};
  // CPUs the sending and the receiving thread are bound to; -1: wherever the scheduler likes.
  int sender_cpu = -1;
  int receiver_cpu = -1;
};

// Sends for `duration`, then closes the sending side; the receiver reads to the end of the stream.
FlowFigures run_lean_flow(testbed::TcpConnection& connection, const CpuMeter& meter, const FlowOptions& options);

}  // namespace bpfplug::bench
