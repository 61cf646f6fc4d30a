#include "bpfplug/testbed/connection_churn.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "bpfplug/testbed/bulk_flow.hpp"

namespace bpfplug::testbed {
namespace {

constexpr char kReply = 'k';

sockaddr_in address(const std::string& ip, std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  return addr;
}

void set_timeouts(int fd, int seconds) {
  timeval timeout{seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
}

bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Reads exactly `size` bytes; false on EOF, error or timeout.
bool recv_all(int fd, char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = recv(fd, data, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

ConnectionChurn::ConnectionChurn(const Netns& client_ns, const Netns& server_ns, const std::string& server_addr,
                                 std::string client_cc, const std::string& server_cc, std::size_t request_bytes,
                                 std::uint64_t max_connections)
    : client_ns_(client_ns),
      server_addr_(server_addr),
      client_cc_(std::move(client_cc)),
      request_bytes_(request_bytes),
      max_connections_(max_connections) {
  std::string error;
  server_ns.run_inside([&] {
    listener_.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    auto addr = address(server_addr_, 0);
    socklen_t len = sizeof addr;
    if (!listener_ ||
        (!server_cc.empty() &&
         setsockopt(listener_.get(), IPPROTO_TCP, TCP_CONGESTION, server_cc.data(), server_cc.size()) != 0) || bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listener_.get(), 512) != 0 || getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len))
      error = std::string("churn server on ") + server_addr_ + ": " + std::strerror(errno);
    port_ = ntohs(addr.sin_port);
  });
  if (!error.empty()) throw std::runtime_error(error);
  server_ = std::thread([this] { serve(); });
  client_ = std::thread([this] { client_ns_.run_inside([this] { run_client(); }); });
}

ConnectionChurn::~ConnectionChurn() { stop(); }

ChurnStats ConnectionChurn::stop() {
  // The client finishes the connection it has open; the server answers until it has, so the
  // last connection is not left waiting for an answer that never comes.
  stop_ = true;
  if (client_.joinable()) client_.join();
  client_done_ = true;
  if (server_.joinable()) server_.join();
  std::lock_guard lock(mutex_);
  stats_.completed = completed_.load();
  return stats_;
}

void ConnectionChurn::note_error(std::uint64_t ChurnStats::*counter, const std::string& what, int fd) {
  std::string message = what + ": " + std::strerror(errno);  // before getsockopt may change errno
  if (fd >= 0) message += " [" + describe_tcp_socket(fd) + "]";
  std::lock_guard lock(mutex_);
  if (counter) ++(stats_.*counter);
  if (stats_.errors.size() < 5) stats_.errors.push_back(message);
}

void ConnectionChurn::serve() {
  std::vector<char> request(request_bytes_);
  while (!client_done_) {
    pollfd p{listener_.get(), POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    UniqueFd conn(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) {
      note_error(nullptr, "server accept", -1);
      continue;
    }
    ++accepted_;
    set_timeouts(conn.get(), 5);
    // The client counts what goes wrong; the server answers complete requests and describes,
    // for the test's message, the state of a connection whose request did not arrive.
    if (!recv_all(conn.get(), request.data(), request.size()) || !send_all(conn.get(), &kReply, 1))
      note_error(nullptr, "server end", conn.get());
  }
}

void ConnectionChurn::run_client() {
  std::vector<char> request(request_bytes_);
  for (std::size_t i = 0; i < request.size(); ++i) request[i] = static_cast<char>('a' + i % 26);
  auto addr = address(server_addr_, port_);
  for (std::uint64_t n = 0; n < max_connections_ && !stop_; ++n) {
    {
      std::lock_guard lock(mutex_);
      ++stats_.attempted;
    }
    UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd || setsockopt(fd.get(), IPPROTO_TCP, TCP_CONGESTION, client_cc_.data(), client_cc_.size()) != 0) {
      note_error(&ChurnStats::failed_setup, "setsockopt(TCP_CONGESTION, " + client_cc_ + ")");
      continue;
    }
    set_timeouts(fd.get(), 5);
    if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      note_error(&ChurnStats::failed_connect, "connect");
      continue;
    }
    char reply = 0;
    if (!send_all(fd.get(), request.data(), request.size()) || !recv_all(fd.get(), &reply, 1) || reply != kReply) {
      int err = errno;  // describing the listener below may change errno
      std::string what = "request/reply (connection " + std::to_string(n + 1) + ", server accepted " +
                         std::to_string(accepted_.load()) + ", listener: " + describe_tcp_socket(listener_.get()) + ")";
      errno = err;
      note_error(&ChurnStats::failed_data, what, fd.get());
      continue;
    }
    ++completed_;
  }
}

}  // namespace bpfplug::testbed
