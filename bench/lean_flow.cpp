#include "lean_flow.hpp"

#include <netinet/in.h>
#include <sched.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

namespace bpfplug::bench {
namespace {

constexpr std::size_t kSendChunk = 128 * 1024;
constexpr std::size_t kRecvChunk = 256 * 1024;

double seconds_of(const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; }

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return seconds_of(usage.ru_utime) + seconds_of(usage.ru_stime);
}

// First field of /proc/PID/schedstat: time on the CPU in ns (exact, not tick-sampled).
double thread_cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/schedstat");
  double ns = 0;
  in >> ns;
  return ns / 1e9;
}

// The "cpu" line of /proc/stat (all CPUs): busy time (without idle, iowait and steal) and steal.
void read_machine_cpu(CpuMeter::Reading& r) {
  std::ifstream in("/proc/stat");
  std::string label;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> label >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  r.machine_busy_s = (user + nice + system + irq + softirq) / tick;
  r.machine_steal_s = steal / tick;
}

tcp_info sender_info(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len);
  return info;
}

int receive_buffer(int fd) {
  int bytes = 0;
  socklen_t len = sizeof bytes;
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, &len);
  return bytes;
}

void pin_this_thread(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0)
    throw std::runtime_error("can't bind a flow thread to CPU " + std::to_string(cpu) + ": " + std::strerror(errno));
}

void send_until(int fd, std::chrono::steady_clock::time_point deadline) {
  static const std::vector<char> chunk(kSendChunk, 'b');
  while (std::chrono::steady_clock::now() < deadline) {
    ssize_t n = send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
  }
  shutdown(fd, SHUT_WR);
}

// Reads to the end of the stream; returns the byte count. Throws if the stream breaks.
std::uint64_t receive_all(int fd) {
  std::vector<char> buf(kRecvChunk);
  std::uint64_t received = 0;
  for (;;) {
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(std::string("recv during the bulk flow: ") + std::strerror(errno));
    if (n == 0) return received;
    received += static_cast<std::uint64_t>(n);
  }
}

}  // namespace

CpuMeter::CpuMeter() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    std::ifstream comm(entry.path() / "comm");
    std::string name;
    if (std::getline(comm, name) && name.starts_with("ksoftirqd/"))
      ksoftirqd_pids_.push_back(std::stoi(entry.path().filename().string()));
  }
}

CpuMeter::Reading CpuMeter::now() const {
  Reading r;
  r.process_s = process_cpu_seconds();
  for (int pid : ksoftirqd_pids_) r.ksoftirqd_s += thread_cpu_seconds(pid);
  read_machine_cpu(r);
  return r;
}

FlowFigures run_lean_flow(testbed::TcpConnection& connection, const CpuMeter& meter, const FlowOptions& options) {
  FlowFigures figures;
  std::exception_ptr send_failure, receive_failure;
  auto cpu_before = meter.now();
  auto start = std::chrono::steady_clock::now();
  std::thread sender([&] {
    try {
      pin_this_thread(options.sender_cpu);
      send_until(connection.client_fd(), start + options.duration);
    } catch (...) {
      send_failure = std::current_exception();
      shutdown(connection.client_fd(), SHUT_WR);  // ends the receiver's stream
    }
  });
  std::thread receiver([&] {
    try {
      pin_this_thread(options.receiver_cpu);
      figures.bytes = receive_all(connection.server_fd());
    } catch (...) {
      receive_failure = std::current_exception();
      shutdown(connection.server_fd(), SHUT_RDWR);  // unblocks the sender
    }
    figures.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  });
  receiver.join();
  sender.join();
  for (const auto& failure : {send_failure, receive_failure})
    if (failure) std::rethrow_exception(failure);
  auto cpu_after = meter.now();
  figures.process_cpu_s = cpu_after.process_s - cpu_before.process_s;
  figures.ksoftirqd_cpu_s = cpu_after.ksoftirqd_s - cpu_before.ksoftirqd_s;
  figures.machine_cpu_s = cpu_after.machine_busy_s - cpu_before.machine_busy_s;
  figures.steal_s = cpu_after.machine_steal_s - cpu_before.machine_steal_s;
  tcp_info info = sender_info(connection.client_fd());
  figures.retransmits = info.tcpi_total_retrans;
  figures.cwnd = info.tcpi_snd_cwnd;
  figures.rcvbuf_bytes = receive_buffer(connection.server_fd());
  return figures;
}

}  // namespace bpfplug::bench
