// A propagation delay in user space, for kernels without netem (this CI kernel has none), the
// way Mahimahi emulates links: a TUN device in each of two namespaces and, per direction, a
// thread that writes every packet read from one device into the other `one_way` after it was
// read. The devices get point-to-point addresses; routes through them are the caller's.
//
// Accuracy is what the kernel and the scheduler give a user-space thread: the added delay is
// never shorter than asked, and how much longer it is, per packet, is in stats() (lateness).
// It is a delay, not a rate limit: the link between the two devices is as fast as the threads
// can move packets; put the shaper elsewhere (BottleneckPath's TBF).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "bpfplug/testbed/netns.hpp"
#include "bpfplug/unique_fd.hpp"

namespace bpfplug::testbed {

struct DelayLineEnd {
  const Netns* ns = nullptr;  // where the TUN device is created
  std::string device;         // its name (at most 15 characters)
  std::string address;        // its IPv4 address; the other end's address is its peer
};

// What one direction did (a -> b or b -> a).
struct DelayDirectionStats {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::uint64_t dropped = 0;         // more than the queue limit in flight
  double lateness_sum_us = 0;        // written this much after the due time, summed
  double lateness_max_us = 0;

  double lateness_mean_us() const { return packets ? lateness_sum_us / static_cast<double>(packets) : 0; }
};

struct DelayLineStats {
  DelayDirectionStats a_to_b;
  DelayDirectionStats b_to_a;
};

class DelayLine {
 public:
  // Creates and configures both devices and starts forwarding; throws std::runtime_error naming
  // what failed. `queue_limit` bounds the packets in flight per direction (beyond it, drops).
  DelayLine(const DelayLineEnd& a, const DelayLineEnd& b, std::chrono::microseconds one_way,
            std::size_t queue_limit = 100000);
  ~DelayLine();  // stops the threads; the devices go with their descriptors
  DelayLine(const DelayLine&) = delete;
  DelayLine& operator=(const DelayLine&) = delete;

  std::chrono::microseconds one_way() const { return one_way_; }
  DelayLineStats stats() const;

 private:
  void forward(int from, int to, DelayDirectionStats& stats);

  std::chrono::microseconds one_way_;
  std::size_t queue_limit_;
  UniqueFd tun_a_;
  UniqueFd tun_b_;
  UniqueFd stop_;  // eventfd that wakes the threads to end
  std::atomic<bool> stopping_{false};
  mutable std::mutex stats_mutex_;
  DelayLineStats stats_;
  std::thread a_to_b_;
  std::thread b_to_a_;
};

}  // namespace bpfplug::testbed
