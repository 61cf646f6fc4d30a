#include "kernel/packet_capture.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace bpfplug::test {

bool TcpSegment::has_comp_option() const {
  for (std::size_t i = 0; i < options.size();) {
    std::uint8_t kind = options[i];
    if (kind == 0) break;            // end of option list
    if (kind == 1) { ++i; continue; }  // no-op
    if (i + 1 >= options.size() || options[i + 1] < 2) break;
    std::uint8_t len = options[i + 1];
    if (kind == 254 && len == 4 && i + 4 <= options.size() && options[i + 2] == 0x79 && options[i + 3] == 0x54)
      return true;
    i += len;
  }
  return false;
}

PacketCapture::PacketCapture(const testbed::Netns& ns, const std::string& dev) {
  std::string error;
  ns.run_inside([&] {
    fd_ = UniqueFd(socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL)));
    if (!fd_) {
      error = std::string("AF_PACKET socket: ") + std::strerror(errno);
      return;
    }
    sockaddr_ll where{};
    where.sll_family = AF_PACKET;
    where.sll_protocol = htons(ETH_P_ALL);
    where.sll_ifindex = static_cast<int>(if_nametoindex(dev.c_str()));
    int big = 32 << 20;  // a whole test transfer's frames between two drains
    setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
    if (where.sll_ifindex == 0 || bind(fd_.get(), reinterpret_cast<sockaddr*>(&where), sizeof(where)) != 0)
      error = "can't bind the capture to " + dev + ": " + std::strerror(errno);
  });
  if (!error.empty()) throw std::runtime_error(error);
}

std::vector<TcpSegment> PacketCapture::drain() {
  std::vector<TcpSegment> segments;
  static thread_local std::vector<std::uint8_t> buffer(70000);  // a 64 KiB GSO segment and its headers
  std::uint8_t* frame = buffer.data();
  for (;;) {
    sockaddr_ll from{};
    socklen_t from_len = sizeof(from);
    ssize_t n = recvfrom(fd_.get(), frame, buffer.size(), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) break;  // EAGAIN: nothing more
    // SOCK_RAW on veth: the frame starts with the Ethernet header.
    const std::uint8_t* ip = frame + 14;
    std::size_t len = static_cast<std::size_t>(n);
    if (from.sll_protocol != htons(ETH_P_IP) || len < 14 + 20 || (ip[0] >> 4) != 4 || ip[9] != IPPROTO_TCP) continue;
    std::size_t ihl = (ip[0] & 0x0f) * 4u;
    std::size_t total = ntohs(*reinterpret_cast<const std::uint16_t*>(ip + 2));
    const std::uint8_t* tcp = ip + ihl;
    if (14 + ihl + 20 > len || total > len - 14) continue;
    std::size_t doff = (tcp[12] >> 4) * 4u;
    if (doff < 20 || ihl + doff > total) continue;
    TcpSegment s;
    s.outgoing = from.sll_pkttype == PACKET_OUTGOING;
    s.source_port = static_cast<std::uint16_t>(tcp[0] << 8 | tcp[1]);
    s.dest_port = static_cast<std::uint16_t>(tcp[2] << 8 | tcp[3]);
    s.flags = tcp[13];
    s.options.assign(tcp + 20, tcp + doff);
    s.payload = total - ihl - doff;
    s.seq = ntohl(*reinterpret_cast<const std::uint32_t*>(tcp + 4));
    s.data.assign(tcp + doff, tcp + doff + s.payload);
    segments.push_back(std::move(s));
  }
  return segments;
}

}  // namespace bpfplug::test
