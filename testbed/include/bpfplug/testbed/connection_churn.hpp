// Short connections opened back to back, as a busy host's clients do, to check that something
// happening meanwhile (a plugin swap) fails none of them. A server in one namespace answers
// each connection after reading its request; a client in another opens them one after another
// with the congestion control the test names, and counts every failure and why.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bpfplug/testbed/netns.hpp"
#include "bpfplug/unique_fd.hpp"

namespace bpfplug::testbed {

struct ChurnStats {
  std::uint64_t attempted = 0;
  std::uint64_t completed = 0;       // request sent, reply received intact
  std::uint64_t failed_setup = 0;    // socket() or setsockopt(TCP_CONGESTION) refused
  std::uint64_t failed_connect = 0;
  std::uint64_t failed_data = 0;     // short write, short or wrong reply, timeout
  std::vector<std::string> errors;   // the first few failures (either end's view), for the message
  std::uint64_t failed() const { return failed_setup + failed_connect + failed_data; }
};

class ConnectionChurn {
 public:
  // Starts at once. The listener uses `server_cc` (empty: the namespace's default; accepted
  // connections inherit it), each client socket `client_cc`. Each connection sends
  // `request_bytes` and reads a 1-byte reply; at most `max_connections` are opened (a bound,
  // so a test cannot run away).
  ConnectionChurn(const Netns& client_ns, const Netns& server_ns, const std::string& server_addr,
                  std::string client_cc, const std::string& server_cc, std::size_t request_bytes = 2048,
                  std::uint64_t max_connections = 50000);
  ~ConnectionChurn();
  ConnectionChurn(const ConnectionChurn&) = delete;
  ConnectionChurn& operator=(const ConnectionChurn&) = delete;

  std::uint64_t completed() const { return completed_.load(); }
  // Stops both sides and returns the totals.
  ChurnStats stop();

 private:
  void serve();
  void run_client();
  // Counts a failure under `counter` (none: the server's view, kept only as a message) and keeps
  // its description, with the socket's TCP state when `fd` is given.
  void note_error(std::uint64_t ChurnStats::*counter, const std::string& what, int fd = -1);

  const Netns& client_ns_;
  std::string server_addr_;
  std::uint16_t port_ = 0;
  std::string client_cc_;
  std::size_t request_bytes_;
  std::uint64_t max_connections_;
  UniqueFd listener_;
  std::atomic<bool> stop_{false};         // the client opens no further connection
  std::atomic<bool> client_done_{false};  // the client has finished; the server may stop
  std::atomic<std::uint64_t> completed_{0};
  std::atomic<std::uint64_t> accepted_{0};
  std::mutex mutex_;
  ChurnStats stats_;
  std::thread server_;
  std::thread client_;
};

}  // namespace bpfplug::testbed
