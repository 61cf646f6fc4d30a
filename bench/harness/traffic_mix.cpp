#include "traffic_mix.hpp"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <random>
#include <thread>

#include "bpfplug/testbed/tcp_connection.hpp"

namespace bpfplug::bench {
namespace {

using Clock = std::chrono::steady_clock;
using testbed::BottleneckPath;
using testbed::TcpConnection;

constexpr std::size_t kSendChunk = 64 * 1024;
constexpr int kShortFlowWorkers = 4;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

Clock::time_point at(Clock::time_point t0, double seconds) {
  return t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Sleeps until `t` in steps short enough to notice an interruption; false if interrupted.
bool wait_until(Clock::time_point t, const std::atomic<bool>& interrupted) {
  while (!interrupted && Clock::now() < t)
    std::this_thread::sleep_until(std::min(t, Clock::now() + std::chrono::milliseconds(100)));
  return !interrupted;
}

// Sends until `end` (or an interruption) without ever blocking past it: poll for room, then a
// non-blocking send. Returns why sending stopped early, or nothing.
std::string send_until(int fd, Clock::time_point end, const std::atomic<bool>& interrupted) {
  static const std::vector<char> chunk(kSendChunk, 'b');
  pollfd pfd{fd, POLLOUT, 0};
  for (auto now = Clock::now(); now < end && !interrupted; now = Clock::now()) {
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(end - now).count();
    if (poll(&pfd, 1, static_cast<int>(std::min<long>(wait + 1, 100))) <= 0) continue;
    ssize_t n = send(fd, chunk.data(), chunk.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return std::string("send: ") + (n < 0 ? std::strerror(errno) : "nothing sent");
  }
  return {};
}

// Reads to the end of the stream; counts what arrived before `end`.
void receive_all(int fd, Clock::time_point end, std::uint64_t& in_window) {
  std::vector<char> buf(256 * 1024);
  for (;;) {
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    if (Clock::now() <= end) in_window += static_cast<std::uint64_t>(n);
  }
}

// One bulk flow: connect at its start time, send until the trial ends, sample TCP_INFO while
// it sends and once more at the end.
void run_bulk(const BottleneckPath& path, const TrafficPlan& plan, Clock::time_point t0, double start_s,
              const std::atomic<bool>& interrupted, BulkFlowTrace& trace) {
  const auto end = at(t0, plan.duration_s);
  if (!wait_until(at(t0, start_s), interrupted)) {
    trace.error = "interrupted before it started";
    return;
  }
  trace.start_s = since(t0);
  std::unique_ptr<TcpConnection> conn;
  try {
    conn = std::make_unique<TcpConnection>(testbed::TcpEnd{&path.sender(), plan.cc},
                                           testbed::TcpEnd{&path.receiver(), plan.cc}, BottleneckPath::receiver_addr);
    trace.cc = conn->client_cc();
    trace.ecn = conn->client_ecn_negotiated();
  } catch (const std::exception& e) {
    trace.error = e.what();
    trace.end_s = trace.start_s;
    return;
  }
  const int fd = conn->client_fd();
  std::atomic<bool> sending{true};
  std::thread receiver([&] { receive_all(conn->server_fd(), end, trace.bytes_in_window); });
  std::thread sampler([&] {
    prctl(PR_SET_TIMERSLACK, 1UL);
    for (auto next = Clock::now(); sending; next += plan.sample_every) {
      trace.samples.push_back(testbed::sample_tcp_info(fd, since(t0)));
      std::this_thread::sleep_until(next + plan.sample_every);
    }
  });
  double cpu0 = thread_cpu_seconds();
  trace.error = send_until(fd, end, interrupted);
  trace.sender_cpu_s = thread_cpu_seconds() - cpu0;
  trace.end_s = since(t0);
  sending = false;
  sampler.join();
  trace.samples.push_back(testbed::sample_tcp_info(fd, trace.end_s));
  shutdown(fd, SHUT_WR);
  receiver.join();
}

// Short flows: workers take the next arrival, wait for its time, open a connection and move
// `short_flow_bytes` across it.
void run_short_flows(const BottleneckPath& path, const TrafficPlan& plan, Clock::time_point t0,
                     const std::atomic<bool>& interrupted, std::vector<ShortFlowTrace>& out) {
  auto arrivals = poisson_arrivals(plan.short_flows_per_s, plan.duration_s, plan.seed);
  out.assign(arrivals.size(), {});
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kShortFlowWorkers; ++w)
    workers.emplace_back([&] {
      for (std::size_t i; (i = next++) < arrivals.size() && !interrupted;) {
        if (!wait_until(at(t0, arrivals[i]), interrupted)) break;
        ShortFlowTrace& trace = out[i];
        trace.start_s = since(t0);
        try {
          TcpConnection conn({&path.sender(), plan.cc}, {&path.receiver(), plan.cc}, BottleneckPath::receiver_addr);
          trace.completed = conn.transfer(plan.short_flow_bytes) == plan.short_flow_bytes;
        } catch (const std::exception&) {
          trace.completed = false;
        }
        trace.completion_s = since(t0) - trace.start_s;
      }
    });
  for (auto& w : workers) w.join();
}

}  // namespace

std::vector<double> poisson_arrivals(double rate_per_s, double duration_s, std::uint64_t seed) {
  std::vector<double> times;
  if (rate_per_s <= 0) return times;
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> gap(rate_per_s);
  for (double t = gap(rng); t < duration_s; t += gap(rng)) times.push_back(t);
  return times;
}

TrafficResult run_traffic(const BottleneckPath& path, const TrafficPlan& plan, const std::atomic<bool>& interrupted) {
  TrafficResult result;
  result.bulk.resize(static_cast<std::size_t>(plan.flows));
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int f = 0; f < plan.flows; ++f)
    threads.emplace_back([&, f] { run_bulk(path, plan, t0, f * plan.stagger_s, interrupted, result.bulk[f]); });
  if (plan.short_flows_per_s > 0)
    threads.emplace_back([&] { run_short_flows(path, plan, t0, interrupted, result.short_flows); });
  for (auto& t : threads) t.join();
  return result;
}

}  // namespace bpfplug::bench
