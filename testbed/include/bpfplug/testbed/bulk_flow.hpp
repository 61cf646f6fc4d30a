// A timed bulk transfer over a TcpConnection: the client sends a deterministic byte stream,
// the server checks every byte, and a sampler reads the sender's TCP_INFO at a fixed interval.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "bpfplug/testbed/tcp_connection.hpp"

namespace bpfplug::testbed {

// One reading of the sender's struct tcp_info (Linux's, not glibc's shorter copy).
struct TcpSample {
  double t = 0;                 // seconds since the flow started
  std::uint32_t cwnd = 0;       // segments
  std::uint32_t ssthresh = 0;   // segments; >= 0x7fffffff while in initial slow start
  std::uint32_t rtt_us = 0;     // smoothed RTT
  std::uint32_t min_rtt_us = 0;
  std::uint32_t total_retrans = 0;
  std::uint32_t delivered_ce = 0;  // packets delivered with CE echoed back
  std::uint8_t ca_state = 0;
  std::uint64_t delivery_rate_bps = 0;
  std::uint64_t bytes_acked = 0;
  // What limited sending so far (Linux >= 4.10, tcp_chrono): time with data in flight, and
  // the parts of it the receive window or the send buffer held the sender back.
  std::uint64_t busy_us = 0;
  std::uint64_t rwnd_limited_us = 0;
  std::uint64_t sndbuf_limited_us = 0;
};

TcpSample sample_tcp_info(int fd, double t);
// One line with what TCP_INFO says about a socket (state, windows, bytes, retransmissions),
// for a test's message when a connection did not do what it should.
std::string describe_tcp_socket(int fd);

struct BulkFlowOptions {
  std::chrono::milliseconds duration{3000};
  std::chrono::microseconds sample_every{10000};
};

struct FlowResult {
  std::uint64_t bytes_received = 0;
  double seconds = 0;        // from the first byte sent to the last byte received
  bool data_intact = false;  // every received byte matched the stream that was sent
  std::vector<TcpSample> samples;

  double goodput_bps() const { return seconds > 0 ? bytes_received * 8.0 / seconds : 0; }
};

FlowResult run_bulk_flow(TcpConnection& connection, const BulkFlowOptions& options);

// The stream's bytes at [offset, offset + n): what the sender sends and the receiver expects.
void fill_stream(std::uint64_t offset, std::uint8_t* out, std::size_t n);

}  // namespace bpfplug::testbed
