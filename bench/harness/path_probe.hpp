// How much delay the emulated path really adds, measured while a trial runs: small UDP probes
// from the sender to the near side of the bottleneck (across the delay line, not through the
// shaper's queue) and back, every few milliseconds. Their RTT minus the requested RTT is the
// emulation's error under that load, including the probes' own wake-ups (an upper bound).
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "bpfplug/testbed/netns.hpp"
#include "bpfplug/unique_fd.hpp"

namespace bpfplug::bench {

struct ProbeResult {
  std::vector<double> rtt_ms;  // one per answered probe, in sending order
  int sent = 0;
  int lost = 0;  // not answered within a second
};

class PathProbe {
 public:
  // Echo server in `far` bound to far_addr; prober in `near`. Throws std::runtime_error.
  PathProbe(const testbed::Netns& near, const testbed::Netns& far, const std::string& far_addr,
            std::chrono::microseconds every);
  ~PathProbe();  // stops both threads
  PathProbe(const PathProbe&) = delete;
  PathProbe& operator=(const PathProbe&) = delete;

  // Stops probing and returns what was measured (once).
  ProbeResult finish();

 private:
  void echo();
  void probe();

  std::chrono::microseconds every_;
  UniqueFd server_;
  UniqueFd client_;
  std::atomic<bool> stop_{false};       // prober: send no more, collect the answers still due
  std::atomic<bool> stop_echo_{false};  // echo server: after the prober is done
  ProbeResult result_;
  std::thread echo_thread_;
  std::thread probe_thread_;
};

}  // namespace bpfplug::bench
