// Separate from the other sources: <linux/tcp.h> (the kernel's complete struct tcp_info) and
// glibc's <netinet/tcp.h> cannot share a translation unit.
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "bpfplug/testbed/bulk_flow.hpp"

namespace bpfplug::testbed {

TcpSample sample_tcp_info(int fd, double t) {
  tcp_info info{};
  socklen_t len = sizeof info;
  TcpSample s;
  s.t = t;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return s;
  s.cwnd = info.tcpi_snd_cwnd;
  s.ssthresh = info.tcpi_snd_ssthresh;
  s.rtt_us = info.tcpi_rtt;
  s.min_rtt_us = info.tcpi_min_rtt;
  s.total_retrans = info.tcpi_total_retrans;
  s.delivered_ce = info.tcpi_delivered_ce;
  s.ca_state = info.tcpi_ca_state;
  s.delivery_rate_bps = info.tcpi_delivery_rate * 8;
  s.bytes_acked = info.tcpi_bytes_acked;
  return s;
}

}  // namespace bpfplug::testbed
