#include "path_probe.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "bpfplug/testbed/timely_thread.hpp"

namespace bpfplug::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Probe {
  std::uint64_t seq;
  std::int64_t sent_ns;  // steady clock
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

UniqueFd udp_socket() {
  UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) throw std::runtime_error(std::string("probe socket: ") + std::strerror(errno));
  return fd;
}

}  // namespace

PathProbe::PathProbe(const testbed::Netns& near, const testbed::Netns& far, const std::string& far_addr,
                     std::chrono::microseconds every)
    : every_(every) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  inet_pton(AF_INET, far_addr.c_str(), &addr.sin_addr);
  far.run_inside([&] {
    server_ = udp_socket();
    if (bind(server_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("probe bind " + far_addr + ": " + std::strerror(errno));
    socklen_t len = sizeof addr;
    getsockname(server_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  });
  near.run_inside([&] {
    client_ = udp_socket();
    if (connect(client_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("probe connect " + far_addr + ": " + std::strerror(errno));
  });
  echo_thread_ = std::thread([this] { echo(); });
  probe_thread_ = std::thread([this] { probe(); });
}

PathProbe::~PathProbe() { finish(); }

ProbeResult PathProbe::finish() {
  stop_ = true;
  if (probe_thread_.joinable()) probe_thread_.join();
  stop_echo_ = true;
  if (echo_thread_.joinable()) echo_thread_.join();
  return std::move(result_);
}

// Sends every probe straight back; wakes every 50 ms to see whether it should stop.
void PathProbe::echo() {
  testbed::make_this_thread_timely();
  char buf[64];
  pollfd pfd{server_.get(), POLLIN, 0};
  while (!stop_echo_) {
    if (poll(&pfd, 1, 50) <= 0) continue;
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(server_.get(), buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
    if (n > 0) sendto(server_.get(), buf, static_cast<std::size_t>(n), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), len);
  }
}

// One probe every `every_`; each answer's RTT is taken from the send time the probe carries. Probes still unanswered a second after the last one are lost.
void PathProbe::probe() {
  testbed::make_this_thread_timely();
  std::uint64_t seq = 0;
  int answered = 0;
  auto next = Clock::now();
  auto stop_at = Clock::time_point::max();
  pollfd pfd{client_.get(), POLLIN, 0};
  for (;;) {
    auto now = Clock::now();
    if (stop_ && stop_at == Clock::time_point::max()) stop_at = now + std::chrono::seconds(1);
    if (now >= stop_at || (stop_ && answered == result_.sent)) break;
    if (!stop_ && now >= next) {
      Probe p{seq++, now_ns()};
      if (send(client_.get(), &p, sizeof p, MSG_DONTWAIT) == sizeof p) ++result_.sent;
      next += every_;
      if (next < now) next = now + every_;  // fell behind: do not send a burst
    }
    auto wait = std::min<Clock::duration>(std::min(next, stop_at) - Clock::now(), std::chrono::milliseconds(50));
    auto wait_ns = std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count());
    timespec timeout{static_cast<time_t>(wait_ns / 1'000'000'000), static_cast<long>(wait_ns % 1'000'000'000)};
    if (ppoll(&pfd, 1, &timeout, nullptr) <= 0) continue;
    Probe back{};
    if (recv(client_.get(), &back, sizeof back, MSG_DONTWAIT) != sizeof back) continue;
    result_.rtt_ms.push_back(static_cast<double>(now_ns() - back.sent_ns) / 1e6);
    ++answered;
  }
  result_.lost = result_.sent - answered;
}

}  // namespace bpfplug::bench
