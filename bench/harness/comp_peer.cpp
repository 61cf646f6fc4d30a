#include "comp_peer.hpp"

#include <arpa/inet.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <vector>

#include "bpfplug/error.hpp"
#include "bpfplug/unique_fd.hpp"
#include "comp_payload.hpp"

namespace bpfplug::bench {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// This process's CPU time so far, every thread, user + system.
double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int finish(std::ostream& out, nlohmann::json j, bool ok) {
  j["ok"] = ok;
  out << j.dump() << std::endl;
  return ok ? 0 : 1;
}

int fail(std::ostream& out, nlohmann::json j, const std::string& what) {
  j["error"] = what + ": " + errno_text(errno);
  return finish(out, std::move(j), false);
}

sockaddr_in ipv4(const std::string& address, std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1)
    throw Error(Exit::usage, "'" + address + "' is not an IPv4 address");
  return sa;
}

// Compares `n` received bytes at stream offset `offset` with the repeated payload block.
bool matches(const std::string& block, std::uint64_t offset, const char* data, std::size_t n) {
  while (n > 0) {
    std::size_t at = static_cast<std::size_t>(offset % block.size());
    std::size_t len = std::min(n, block.size() - at);
    if (std::memcmp(block.data() + at, data, len) != 0) return false;
    data += len;
    offset += len;
    n -= len;
  }
  return true;
}

}  // namespace

int run_peer_receive(const PeerArgs& args, std::ostream& out) {
  const std::string block = payload_block(args.payload);
  nlohmann::json j = {{"bytes", 0}, {"expected", args.bytes}};
  UniqueFd listener(socket(AF_INET, SOCK_STREAM, 0));
  if (!listener) return fail(out, j, "socket");
  int one = 1;
  setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa = ipv4("0.0.0.0", args.port);
  if (bind(listener.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) || listen(listener.get(), 4))
    return fail(out, j, "bind/listen on port " + std::to_string(args.port));
  out << kPeerListening << std::endl;

  UniqueFd conn(accept(listener.get(), nullptr, nullptr));
  if (!conn) return fail(out, j, "accept");
  auto start = Clock::now();
  const double cpu_start = cpu_seconds();
  std::vector<char> buf(256 * 1024);
  std::uint64_t received = 0;
  bool intact = true;
  for (;;) {
    ssize_t n = read(conn.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      j["bytes"] = received;
      return fail(out, j, "read after " + std::to_string(received) + " bytes");
    }
    if (n == 0) break;
    if (intact && !matches(block, received, buf.data(), static_cast<std::size_t>(n))) intact = false;
    received += static_cast<std::uint64_t>(n);
  }
  j["seconds"] = since(start);
  j["cpu_s"] = cpu_seconds() - cpu_start;
  j["bytes"] = received;
  j["intact"] = intact;
  tcp_info info{};
  socklen_t len = sizeof info;
  if (getsockopt(conn.get(), IPPROTO_TCP, TCP_INFO, &info, &len) == 0 &&
      len >= offsetof(tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received)
    j["wire_bytes"] = info.tcpi_bytes_received;
  if (!intact) j["error"] = "the bytes received are not the bytes sent";
  else if (received != args.bytes) j["error"] = "received " + std::to_string(received) + " of " + std::to_string(args.bytes) + " bytes";
  return finish(out, std::move(j), intact && received == args.bytes);
}

int run_peer_send(const PeerArgs& args, std::ostream& out) {
  const std::string block = payload_block(args.payload);
  nlohmann::json j = {{"bytes", 0}};
  out << kPeerReady << std::endl;
  std::string go;
  if (!std::getline(std::cin, go)) return fail(out, j, "no go on stdin");
  UniqueFd sock(socket(AF_INET, SOCK_STREAM, 0));
  if (!sock) return fail(out, j, "socket");
  sockaddr_in sa = ipv4(args.address, args.port);
  auto start = Clock::now();
  const double cpu_start = cpu_seconds();
  if (connect(sock.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa))
    return fail(out, j, "connect to " + args.address + ":" + std::to_string(args.port));
  std::uint64_t sent = 0;
  while (sent < args.bytes) {
    std::size_t at = static_cast<std::size_t>(sent % block.size());
    std::size_t len = static_cast<std::size_t>(std::min<std::uint64_t>({args.write_size, block.size() - at, args.bytes - sent}));
    ssize_t n = write(sock.get(), block.data() + at, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      j["bytes"] = sent;
      return fail(out, j, "write after " + std::to_string(sent) + " bytes");
    }
    sent += static_cast<std::uint64_t>(n);
  }
  j["bytes"] = sent;
  if (shutdown(sock.get(), SHUT_WR)) return fail(out, j, "shutdown");
  char c;
  while (read(sock.get(), &c, 1) < 0 && errno == EINTR) {
  }
  j["seconds"] = since(start);
  j["cpu_s"] = cpu_seconds() - cpu_start;
  return finish(out, std::move(j), true);
}

}  // namespace bpfplug::bench
