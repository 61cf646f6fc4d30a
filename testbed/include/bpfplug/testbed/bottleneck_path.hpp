// The ECN testbed: sender -- bottleneck -- receiver, three network namespaces joined by veth
// pairs. The bottleneck shapes traffic towards the receiver with TBF (rate, drop-tail buffer)
// and, in front of it, a tc BPF program marks CE when TBF holds more than K bytes and may drop
// at random (testbed/ecn_marker.bpf.c). Everything disappears with the object.
//
//   sender 198.18.1.1 --veth-- 198.18.1.2 [bottleneck] 198.18.2.1 --veth-- 198.18.2.2 receiver
//                                        egress: marker -> TBF
//
// A propagation delay comes from netem where the kernel has it: the whole round trip is added
// on the bottleneck's way back to the sender (b0 egress), so that nothing delays packets in the
// sender's own qdisc, where TCP small queues would see them. Without netem (this CI kernel), a
// DelayLine (two TUN devices, delay_line.hpp) joins the sender and the bottleneck instead of the
// first veth pair: packets wait one_way_delay in each direction.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "bpfplug/testbed/delay_line.hpp"
#include "bpfplug/testbed/netns.hpp"

namespace bpfplug::testbed {

enum class DelayMethod { automatic, netem, delay_line };

struct PathConfig {
  std::uint64_t rate_bps = 100'000'000;       // bottleneck rate, bits per second
  std::uint32_t buffer_bytes = 1'000'000;     // TBF queue limit; beyond it packets are dropped
  std::optional<std::uint32_t> ecn_k_bytes;   // mark CE above this backlog; none: never mark
  double loss = 0.0;                          // probability of a random drop at the bottleneck
  std::chrono::microseconds one_way_delay{0};  // sender <-> bottleneck, each way; 0: plain veth
  DelayMethod delay_method = DelayMethod::automatic;  // automatic: netem if the kernel has it
};

struct MarkerStats {
  std::uint64_t packets = 0;
  std::uint64_t marked = 0;
  std::uint64_t dropped = 0;
  std::uint64_t max_backlog_bytes = 0;  // the most TBF held ahead of a packet
  std::uint64_t backlog_sum_bytes = 0;  // bytes TBF held ahead of each packet, summed
  std::uint64_t unread = 0;             // packets for which the marker could not read the backlog

  // The mean time a packet waited at the bottleneck, from TBF's backlog at its arrival: what
  // the path itself added, without the endpoints' processing that RTT samples also contain.
  double mean_queueing_delay_ms(std::uint64_t rate_bps) const {
    return packets && rate_bps ? backlog_sum_bytes * 8.0 / rate_bps / packets * 1000 : 0;
  }
};

class BottleneckPath {
 public:
  // `prefix` names the namespaces (prefix-snd, prefix-btl, prefix-rcv). Throws
  // std::runtime_error if any step of the setup fails (already-made parts are removed).
  BottleneckPath(const std::string& prefix, const PathConfig& config);
  ~BottleneckPath();
  BottleneckPath(const BottleneckPath&) = delete;
  BottleneckPath& operator=(const BottleneckPath&) = delete;

  const Netns& sender() const { return sender_; }
  const Netns& bottleneck() const { return bottleneck_; }
  const Netns& receiver() const { return receiver_; }
  const PathConfig& config() const { return config_; }
  MarkerStats marker_stats() const;
  const DelayLine* delay_line() const { return delay_.get(); }  // nullptr unless it is the delay
  // How the delay is made: "none", "netem" or "delay line".
  const char* delay_method() const;

  static constexpr const char* sender_addr = "198.18.1.1";
  static constexpr const char* bottleneck_near_addr = "198.18.1.2";  // reached without the shaper
  static constexpr const char* receiver_addr = "198.18.2.2";

 private:
  struct Marker;
  PathConfig config_;
  Netns sender_;
  Netns bottleneck_;
  Netns receiver_;
  std::unique_ptr<DelayLine> delay_;
  bool netem_ = false;
  std::unique_ptr<Marker> marker_;
};

}  // namespace bpfplug::testbed
