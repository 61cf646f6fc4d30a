// The two programs of a compression-benchmark transfer, run by `bpfplug bench --comp` as
// `bpfplug comp-peer receive|send` (a hidden verb) in the testbed's namespaces, with or without
// the preload library: to the data path they are ordinary programs that write and read a TCP
// socket with plain libc calls.
//  - receive: listens, prints "listening", accepts one connection, reads it to the end checking
//    every byte against the payload, and prints one JSON line: bytes, seconds (accept to end of
//    stream), wire_bytes (TCP payload received: tcpi_bytes_received), intact.
//  - send: makes its payload, prints "ready" and waits for a line on stdin (so that what the
//    benchmark measures starts after that), connects, writes `bytes` of the payload (repeated)
//    in `write_size` writes, shuts its side down and waits for the receiver's close; prints one
//    JSON line.
// Both report cpu_s: their own CPU time (every thread, user + system) over the transfer alone.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace bpfplug::bench {

inline constexpr const char* kPeerListening = "listening";
inline constexpr const char* kPeerReady = "ready";

struct PeerArgs {
  std::string address;  // send: the receiver's IPv4 address
  std::uint16_t port = 0;
  std::uint64_t bytes = 0;
  std::string payload;  // as payload_block() takes it
  std::size_t write_size = 64 * 1024;
};

// Exit codes: 0 the transfer was whole and intact, 1 otherwise (the JSON line says why).
int run_peer_receive(const PeerArgs& args, std::ostream& out);
int run_peer_send(const PeerArgs& args, std::ostream& out);

}  // namespace bpfplug::bench
