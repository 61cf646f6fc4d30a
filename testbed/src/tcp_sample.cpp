// Separate from the other sources: <linux/tcp.h> (the kernel's complete struct tcp_info) and
// glibc's <netinet/tcp.h> cannot share a translation unit.
#include <linux/inet_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

#include "bpfplug/testbed/bulk_flow.hpp"
#include "bpfplug/testbed/flow_metrics.hpp"

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
  s.busy_us = info.tcpi_busy_time;
  s.rwnd_limited_us = info.tcpi_rwnd_limited;
  s.sndbuf_limited_us = info.tcpi_sndbuf_limited;
  return s;
}

std::optional<std::uint32_t> native_dctcp_alpha(int fd) {
  // The kernel fills TCP_CC_INFO through the algorithm's get_info; dctcp's writes a
  // tcp_dctcp_info with dctcp_enabled set only while it runs DCTCP (not after its fallback).
  tcp_dctcp_info info{};
  socklen_t len = sizeof info;
  if (getsockopt(fd, IPPROTO_TCP, TCP_CC_INFO, &info, &len) != 0 || len < sizeof info || !info.dctcp_enabled)
    return std::nullopt;
  return info.dctcp_alpha;
}

std::string describe_tcp_socket(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return "(no TCP_INFO)";
  char cc[16] = {};
  socklen_t cc_len = sizeof cc - 1;
  if (getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &cc_len) != 0) cc[0] = '?';
  return std::string("cc=") + cc + " state=" + std::to_string(info.tcpi_state) +
         " ca_state=" + std::to_string(info.tcpi_ca_state) + " cwnd=" + std::to_string(info.tcpi_snd_cwnd) +
         " ssthresh=" + std::to_string(info.tcpi_snd_ssthresh) + " unacked=" + std::to_string(info.tcpi_unacked) +
         " bytes_sent=" + std::to_string(info.tcpi_bytes_sent) + " bytes_acked=" +
         std::to_string(info.tcpi_bytes_acked) + " bytes_received=" + std::to_string(info.tcpi_bytes_received) +
         " notsent=" + std::to_string(info.tcpi_notsent_bytes) + " retrans=" + std::to_string(info.tcpi_total_retrans) +
         " probes=" + std::to_string(info.tcpi_probes) + " backoff=" + std::to_string(info.tcpi_backoff) +
         " rto_us=" + std::to_string(info.tcpi_rto) + " snd_wnd=" + std::to_string(info.tcpi_snd_wnd) +
         " options=" + std::to_string(info.tcpi_options);
}

}  // namespace bpfplug::testbed
