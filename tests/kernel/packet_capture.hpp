// Captures the TCP segments that cross one interface of a test's namespace (an AF_PACKET
// socket bound to it), so tests can check bytes on the wire: options in SYN, SYN-ACK and data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bpfplug/testbed/netns.hpp"
#include "bpfplug/unique_fd.hpp"

namespace bpfplug::test {

struct TcpSegment {
  bool outgoing = false;  // sent by this namespace
  std::uint16_t source_port = 0;
  std::uint16_t dest_port = 0;
  std::uint8_t flags = 0;  // FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10
  std::vector<std::uint8_t> options;
  std::size_t payload = 0;
  std::uint32_t seq = 0;
  std::vector<std::uint8_t> data;  // the payload's bytes (all of them: the capture takes whole frames)

  bool syn() const { return flags & 0x02; }
  bool ack() const { return flags & 0x10; }
  // The option list holds exactly FE 04 79 54 somewhere (walked option by option).
  bool has_comp_option() const;
};

class PacketCapture {
 public:
  // Starts capturing IPv4 TCP on `dev` inside `ns`.
  PacketCapture(const testbed::Netns& ns, const std::string& dev);
  // Every segment captured since the last call.
  std::vector<TcpSegment> drain();

 private:
  UniqueFd fd_;
};

}  // namespace bpfplug::test
