#include "bpfplug/testbed/bulk_flow.hpp"

#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

namespace bpfplug::testbed {
namespace {

// splitmix64: a cheap, well-mixed function of the word index.
std::uint64_t stream_word(std::uint64_t index) {
  std::uint64_t z = index * 0x9e3779b97f4a7c15ULL + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

void fill_stream(std::uint64_t offset, std::uint8_t* out, std::size_t n) {
  for (std::size_t i = 0; i < n;) {
    std::uint64_t pos = offset + i;
    std::uint64_t word = stream_word(pos / 8);
    std::size_t in_word = pos % 8;
    std::size_t take = std::min<std::size_t>(8 - in_word, n - i);
    std::memcpy(out + i, reinterpret_cast<const std::uint8_t*>(&word) + in_word, take);  // little endian
    i += take;
  }
}

FlowResult run_bulk_flow(TcpConnection& connection, const BulkFlowOptions& options) {
  FlowResult result;
  std::atomic<bool> sending{true};
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + options.duration;

  std::thread writer([&] {
    std::vector<std::uint8_t> chunk(64 * 1024);
    for (std::uint64_t sent = 0; std::chrono::steady_clock::now() < deadline;) {
      fill_stream(sent, chunk.data(), chunk.size());
      ssize_t n = send(connection.client_fd(), chunk.data(), chunk.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;  // SO_SNDTIMEO makes signals interrupt send()
      if (n <= 0) break;
      sent += static_cast<std::uint64_t>(n);
    }
    sending = false;
    shutdown(connection.client_fd(), SHUT_WR);
  });
  std::thread sampler([&] {
    while (sending) {
      result.samples.push_back(sample_tcp_info(connection.client_fd(), seconds_since(start)));
      std::this_thread::sleep_for(options.sample_every);
    }
  });

  std::vector<std::uint8_t> buf(256 * 1024), expected(buf.size());
  bool intact = true;
  for (;;) {
    ssize_t n = recv(connection.server_fd(), buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;  // SO_RCVTIMEO makes signals interrupt recv()
    if (n <= 0) {
      intact = intact && n == 0;  // a clean end of stream, not an error
      break;
    }
    fill_stream(result.bytes_received, expected.data(), static_cast<std::size_t>(n));
    intact = intact && std::memcmp(buf.data(), expected.data(), static_cast<std::size_t>(n)) == 0;
    result.bytes_received += static_cast<std::uint64_t>(n);
  }
  result.seconds = seconds_since(start);
  writer.join();
  sampler.join();
  result.data_intact = intact && result.bytes_received > 0;
  return result;
}

}  // namespace bpfplug::testbed
