#include "bpfplug/testbed/tcp_connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

namespace bpfplug::testbed {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

UniqueFd tcp_socket(const std::string& cc) {
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) fail("socket");
  timeval timeout{20, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  if (!cc.empty() && setsockopt(fd.get(), IPPROTO_TCP, TCP_CONGESTION, cc.data(), cc.size()) != 0)
    fail("setsockopt(TCP_CONGESTION, " + cc + ")");
  return fd;
}

void in_namespace(const Netns* ns, const std::function<void()>& fn) {
  if (ns) ns->run_inside(fn);
  else fn();
}

}  // namespace

std::string socket_cc(int fd) {
  char name[32] = {};
  socklen_t len = sizeof name;
  if (getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len) != 0) fail("getsockopt(TCP_CONGESTION)");
  return std::string(name, strnlen(name, len));
}

int try_set_cc(const std::string& cc) {
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return errno;
  return setsockopt(fd.get(), IPPROTO_TCP, TCP_CONGESTION, cc.data(), cc.size()) == 0 ? 0 : errno;
}

TcpConnection::TcpConnection(const TcpEnd& client, const TcpEnd& server, const std::string& server_addr) {
  UniqueFd listener;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  inet_pton(AF_INET, server_addr.c_str(), &addr.sin_addr);
  in_namespace(server.ns, [&] {
    listener = tcp_socket(server.cc);  // accepted sockets inherit the listener's choice
    if (bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) fail("bind " + server_addr);
    socklen_t len = sizeof addr;
    getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    if (listen(listener.get(), 1) != 0) fail("listen");
  });
  in_namespace(client.ns, [&] {
    client_ = tcp_socket(client.cc);
    if (connect(client_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) fail("connect " + server_addr);
  });
  server_.reset(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!server_) fail("accept");
}

std::size_t TcpConnection::transfer(std::size_t bytes) {
  std::thread writer([&] {
    std::vector<char> chunk(64 * 1024, 'b');
    for (std::size_t sent = 0; sent < bytes;) {
      ssize_t n = send(client_.get(), chunk.data(), std::min(chunk.size(), bytes - sent), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;  // SO_SNDTIMEO makes signals interrupt send()
      if (n <= 0) return;
      sent += static_cast<std::size_t>(n);
    }
  });
  std::vector<char> buf(256 * 1024);
  std::size_t received = 0;
  while (received < bytes) {
    ssize_t n = recv(server_.get(), buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;  // SO_RCVTIMEO makes signals interrupt recv()
    if (n <= 0) break;
    received += static_cast<std::size_t>(n);
  }
  writer.join();
  return received;
}

std::string TcpConnection::client_cc() const { return socket_cc(client_.get()); }
std::string TcpConnection::server_cc() const { return socket_cc(server_.get()); }

bool TcpConnection::client_ecn_negotiated() const {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (getsockopt(client_.get(), IPPROTO_TCP, TCP_INFO, &info, &len) != 0) fail("getsockopt(TCP_INFO)");
  return info.tcpi_options & TCPI_OPT_ECN;
}

}  // namespace bpfplug::testbed
