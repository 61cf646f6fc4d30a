#include "fd_table.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>

#include "contract_maps.hpp"
#include "log.hpp"

namespace bpfplug::preload {
namespace {

constexpr int kChunkBits = 10;
constexpr int kChunkSize = 1 << kChunkBits;
constexpr int kChunks = FdTable::kMaxFd / kChunkSize;

// Kinds, in chunks allocated on first use and never freed (so readers need no lock).
std::atomic<std::atomic<std::uint8_t>*> g_chunks[kChunks];
std::mutex g_mutex;  // guards g_connections and chunk allocation
std::unordered_map<int, std::shared_ptr<Connection>> g_connections;

std::atomic<std::uint8_t>* slot(int fd, bool create) {
  if (fd < 0 || fd >= FdTable::kMaxFd) return nullptr;
  auto& chunk = g_chunks[fd >> kChunkBits];
  auto* c = chunk.load(std::memory_order_acquire);
  if (!c && create) {
    std::lock_guard lock(g_mutex);
    c = chunk.load(std::memory_order_acquire);
    if (!c) {
      c = new std::atomic<std::uint8_t>[kChunkSize]();
      chunk.store(c, std::memory_order_release);
    }
  }
  return c ? &c[fd & (kChunkSize - 1)] : nullptr;
}

std::string peer_name(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  char host[INET6_ADDRSTRLEN] = "?";
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len)) return "fd " + std::to_string(fd);
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
    return std::string(host) + ":" + std::to_string(ntohs(a->sin_port));
  }
  auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
  inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
  return "[" + std::string(host) + "]:" + std::to_string(ntohs(a->sin6_port));
}

int tcp_state(int fd) {
  tcp_info info{};
  socklen_t len = sizeof(info);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len)) return -1;
  return info.tcpi_state;
}

// A TCP socket's kind from its verdict (and the handshake's state when there is none yet).
FdKind from_verdict(int fd, bool ours) {
  auto v = contract().verdict(fd);
  if (v && v->established) {
    if (!v->on) return FdKind::plain;
    struct stat st{};
    fstat(fd, &st);
    if (auto same = fd_table().find_socket(st.st_ino)) {  // another descriptor of it has its stream
      same->aliases.fetch_add(1);
      fd_table().attach(fd, std::move(same));
      return FdKind::compressed;
    }
    auto conn = std::make_shared<Connection>(fd, peer_name(fd));
    conn->inode = st.st_ino;
    if (!ours) {
      // Not a connection this process made or accepted: another process may have used its
      // stream already, and a second stream can't join it.
      auto mark = contract().ready(fd);
      if (mark && (mark->flags & BPFPLUG_COMP_READY_STREAM_STARTED))
        conn->break_off("it came from another process (exec or SCM_RIGHTS) after its compressed stream had started");
    }
    fd_table().attach(fd, std::move(conn));
    return FdKind::compressed;
  }
  int state = tcp_state(fd);
  if (state == TCP_SYN_SENT || state == TCP_SYN_RECV) return FdKind::pending;
  return FdKind::plain;  // no decision on it (not ready, not in the policy's cgroup, not connected)
}

}  // namespace

FdKind FdTable::kind(int fd) const {
  auto* s = slot(fd, false);
  return s ? static_cast<FdKind>(s->load(std::memory_order_acquire)) : (fd >= kMaxFd ? FdKind::plain : FdKind::unknown);
}

void FdTable::set_kind(int fd, FdKind kind) {
  if (auto* s = slot(fd, true)) s->store(static_cast<std::uint8_t>(kind), std::memory_order_release);
}

std::shared_ptr<Connection> FdTable::connection(int fd) const {
  std::lock_guard lock(g_mutex);
  auto it = g_connections.find(fd);
  return it == g_connections.end() ? nullptr : it->second;
}

void FdTable::attach(int fd, std::shared_ptr<Connection> conn) {
  {
    std::lock_guard lock(g_mutex);
    g_connections[fd] = std::move(conn);
  }
  set_kind(fd, FdKind::compressed);
}

std::shared_ptr<Connection> FdTable::detach(int fd) {
  std::shared_ptr<Connection> conn;
  {
    std::lock_guard lock(g_mutex);
    auto it = g_connections.find(fd);
    if (it != g_connections.end()) {
      conn = std::move(it->second);
      g_connections.erase(it);
    }
  }
  if (auto* s = slot(fd, false)) s->store(static_cast<std::uint8_t>(FdKind::unknown), std::memory_order_release);
  return conn;
}

std::shared_ptr<Connection> FdTable::find_socket(ino_t inode) const {
  std::lock_guard lock(g_mutex);
  for (const auto& [fd, conn] : g_connections)
    if (conn->inode == inode) return conn;
  return nullptr;
}

void FdTable::prepare_fork() { g_mutex.lock(); }
void FdTable::parent_after_fork() { g_mutex.unlock(); }
void FdTable::child_after_fork() {
  new (&g_mutex) std::mutex;
  for (const auto& [fd, conn] : g_connections) conn->reset_after_fork();
}

FdTable& fd_table() {
  static FdTable table;
  return table;
}

bool is_tcp_socket(int fd) {
  int protocol = 0, domain = 0;
  socklen_t len = sizeof(protocol);
  if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) || protocol != IPPROTO_TCP) return false;
  len = sizeof(domain);
  return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && (domain == AF_INET || domain == AF_INET6);
}

FdKind classify(int fd) {
  if (!is_tcp_socket(fd)) {
    fd_table().set_kind(fd, FdKind::plain);
    return FdKind::plain;
  }
  FdKind k = from_verdict(fd, false);
  if (k != FdKind::compressed) fd_table().set_kind(fd, k);
  return k;
}

FdKind resolve_own(int fd) {
  FdKind k = from_verdict(fd, true);
  if (k != FdKind::compressed) fd_table().set_kind(fd, k);
  return k;
}

}  // namespace bpfplug::preload
