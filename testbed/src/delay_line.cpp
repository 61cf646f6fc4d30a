#include "bpfplug/testbed/delay_line.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <vector>

#include "bpfplug/testbed/shell.hpp"
#include "bpfplug/testbed/timely_thread.hpp"

namespace bpfplug::testbed {
namespace {

using Clock = std::chrono::steady_clock;

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// A TUN device (IP packets, no extra header) created inside the end's namespace: the device
// lives where the descriptor was opened, and goes away when it is closed.
UniqueFd open_tun(const DelayLineEnd& end) {
  if (!end.ns) throw std::runtime_error("DelayLine: each end needs its own namespace");
  if (end.device.empty() || end.device.size() >= IFNAMSIZ)
    throw std::runtime_error("DelayLine: device name '" + end.device + "' must have 1 to 15 characters");
  int fd = -1;
  end.ns->run_inside([&] {
    fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) throw std::runtime_error(errno_text("open /dev/net/tun (the kernel needs CONFIG_TUN)"));
    ifreq ifr{};
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    std::memcpy(ifr.ifr_name, end.device.c_str(), end.device.size());
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
      std::string text = errno_text("TUNSETIFF " + end.device + " in " + end.ns->name());
      close(fd);
      fd = -1;
      throw std::runtime_error(text);
    }
  });
  return UniqueFd(fd);
}

void configure(const DelayLineEnd& end, const DelayLineEnd& peer) {
  sh_or_throw("ip -n " + end.ns->name() + " addr add " + end.address + " peer " + peer.address + " dev " +
              end.device + " && ip -n " + end.ns->name() + " link set " + end.device + " up");
}

timespec to_timespec(Clock::duration d) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  if (ns < 0) ns = 0;
  return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

}  // namespace

DelayLine::DelayLine(const DelayLineEnd& a, const DelayLineEnd& b, std::chrono::microseconds one_way,
                     std::size_t queue_limit)
    : one_way_(one_way), queue_limit_(queue_limit) {
  if (one_way.count() < 0) throw std::runtime_error("DelayLine: a negative delay");
  tun_a_ = open_tun(a);
  tun_b_ = open_tun(b);
  configure(a, b);
  configure(b, a);
  stop_ = UniqueFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop_) throw std::runtime_error(errno_text("eventfd"));
  a_to_b_ = std::thread([this] { forward(tun_a_.get(), tun_b_.get(), stats_.a_to_b); });
  b_to_a_ = std::thread([this] { forward(tun_b_.get(), tun_a_.get(), stats_.b_to_a); });
}

DelayLine::~DelayLine() {
  stopping_ = true;
  std::uint64_t one = 1;
  if (write(stop_.get(), &one, sizeof one) < 0) {
    // Cannot happen for an eventfd below its maximum; the threads also poll stopping_.
  }
  if (a_to_b_.joinable()) a_to_b_.join();
  if (b_to_a_.joinable()) b_to_a_.join();
}

DelayLineStats DelayLine::stats() const {
  std::lock_guard lock(stats_mutex_);
  return stats_;
}

// One direction: read every packet as it arrives, hold it until `one_way_` after it was read,
// write it to the other device. Packets keep their order (they all wait the same time).
void DelayLine::forward(int from, int to, DelayDirectionStats& out) {
  make_this_thread_timely();  // wake on time, ahead of the flows' threads
  struct Held {
    Clock::time_point due;
    std::vector<char> packet;
  };
  std::deque<Held> queue;
  std::vector<char> buffer(65536);
  pollfd fds[2] = {{from, POLLIN, 0}, {stop_.get(), POLLIN, 0}};
  while (!stopping_) {
    auto now = Clock::now();
    while (!queue.empty() && queue.front().due <= now) {
      const Held& held = queue.front();
      ssize_t written = write(to, held.packet.data(), held.packet.size());
      now = Clock::now();
      double late_us = std::chrono::duration<double, std::micro>(now - held.due).count();
      {
        std::lock_guard lock(stats_mutex_);
        if (written == static_cast<ssize_t>(held.packet.size())) {
          ++out.packets;
          out.bytes += held.packet.size();
          out.lateness_sum_us += late_us;
          out.lateness_max_us = std::max(out.lateness_max_us, late_us);
        } else {
          ++out.dropped;
        }
      }
      queue.pop_front();
    }
    timespec timeout{};
    if (!queue.empty()) timeout = to_timespec(queue.front().due - now);
    if (ppoll(fds, 2, queue.empty() ? nullptr : &timeout, nullptr) < 0 && errno != EINTR) break;
    if (fds[1].revents) break;
    if (!(fds[0].revents & POLLIN)) continue;
    for (;;) {  // everything that has arrived, each stamped when read
      ssize_t n = read(from, buffer.data(), buffer.size());
      if (n <= 0) break;
      if (queue.size() >= queue_limit_) {
        std::lock_guard lock(stats_mutex_);
        ++out.dropped;
        continue;
      }
      queue.push_back({Clock::now() + one_way_, std::vector<char>(buffer.begin(), buffer.begin() + n)});
    }
  }
}

}  // namespace bpfplug::testbed
