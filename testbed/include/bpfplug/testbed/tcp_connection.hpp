// One TCP connection between two endpoints (loopback or two namespaces), each end with the
// congestion control the test chose through setsockopt(TCP_CONGESTION) before connect/listen.
#pragma once

#include <cstddef>
#include <string>

#include "bpfplug/unique_fd.hpp"
#include "bpfplug/testbed/netns.hpp"

namespace bpfplug::testbed {

struct TcpEnd {
  const Netns* ns = nullptr;  // nullptr: the test's own namespace
  std::string cc;             // empty: leave the system default
};

class TcpConnection {
 public:
  // Throws std::runtime_error with the errno text on any failure (e.g. setsockopt refused).
  TcpConnection(const TcpEnd& client, const TcpEnd& server, const std::string& server_addr);

  // Sends `bytes` from client to server; returns how many the server received (bounded: 20 s).
  std::size_t transfer(std::size_t bytes);
  std::string client_cc() const;
  std::string server_cc() const;
  bool client_ecn_negotiated() const;  // TCPI_OPT_ECN in the client's tcp_info
  int client_fd() const { return client_.get(); }
  int server_fd() const { return server_.get(); }

 private:
  UniqueFd client_;
  UniqueFd server_;
};

// The congestion control a socket runs (getsockopt TCP_CONGESTION).
std::string socket_cc(int fd);
// setsockopt(TCP_CONGESTION) on a fresh socket; returns 0 or the errno.
int try_set_cc(const std::string& cc);

}  // namespace bpfplug::testbed
