#include "flusher.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "connection.hpp"
#include "log.hpp"
#include "real_calls.hpp"

namespace bpfplug::preload {
namespace {

struct Watched {
  std::shared_ptr<Connection> conn;
  int own_fd = -1;        // our descriptor of the socket: the epoll key, kept open until done
  bool shutdown_after = false;
};

std::mutex g_mutex;  // guards everything below
std::unordered_map<Connection*, Watched> g_watched;
int g_epoll = -1;
bool g_thread_started = false;

void finish(Watched& w) {
  if (w.shutdown_after) real().shutdown(w.own_fd, SHUT_WR);
  real().epoll_ctl(g_epoll, EPOLL_CTL_DEL, w.own_fd, nullptr);
  real().close(w.own_fd);
}

// One writable socket: write what it can, then stop watching it or wait for more room.
void service(Connection* key) {
  std::shared_ptr<Connection> conn;
  {
    std::lock_guard lock(g_mutex);
    auto it = g_watched.find(key);
    if (it == g_watched.end()) return;
    conn = it->second.conn;
  }
  std::lock_guard send_lock(conn->send_mutex);
  int r = conn->socket.flush(MSG_DONTWAIT | MSG_NOSIGNAL);
  int err = errno;
  std::lock_guard lock(g_mutex);
  auto it = g_watched.find(key);
  if (it == g_watched.end()) return;
  Watched& w = it->second;
  if (r < 0 && (err == EAGAIN || err == EWOULDBLOCK)) {
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLONESHOT;
    ev.data.ptr = key;
    real().epoll_ctl(g_epoll, EPOLL_CTL_MOD, w.own_fd, &ev);
    return;
  }
  if (r < 0) log_line("connection to %s: writing its last compressed bytes failed: %s", conn->peer().c_str(), std::strerror(err));
  finish(w);
  g_watched.erase(it);
}

void run() {
  epoll_event events[64];
  for (;;) {
    int n = real().epoll_wait(g_epoll, events, 64, -1);
    for (int i = 0; i < n; ++i) service(static_cast<Connection*>(events[i].data.ptr));
  }
}

// With g_mutex held.
Watched* ensure_watched(const std::shared_ptr<Connection>& conn) {
  auto it = g_watched.find(conn.get());
  if (it != g_watched.end()) return &it->second;
  if (g_epoll < 0) g_epoll = ::epoll_create1(EPOLL_CLOEXEC);
  int own = real().fcntl(conn->socket.fd(), F_DUPFD_CLOEXEC, 100);
  if (g_epoll < 0 || own < 0) {
    log_line("connection to %s: can't watch it for room to write (%s); its last bytes wait for the next send",
             conn->peer().c_str(), std::strerror(errno));
    if (own >= 0) real().close(own);
    return nullptr;
  }
  epoll_event ev{};
  ev.events = EPOLLOUT | EPOLLONESHOT;
  ev.data.ptr = conn.get();
  real().epoll_ctl(g_epoll, EPOLL_CTL_ADD, own, &ev);
  Watched& w = g_watched[conn.get()];
  w.conn = conn;
  w.own_fd = own;
  if (!g_thread_started) {
    std::thread(run).detach();
    g_thread_started = true;
  }
  return &w;
}

}  // namespace

void Flusher::watch(const std::shared_ptr<Connection>& conn) {
  std::lock_guard lock(g_mutex);
  ensure_watched(conn);
}

void Flusher::shutdown_after(const std::shared_ptr<Connection>& conn) {
  std::lock_guard lock(g_mutex);
  if (Watched* w = ensure_watched(conn)) w->shutdown_after = true;
}

void Flusher::prepare_fork() { g_mutex.lock(); }
void Flusher::parent_after_fork() { g_mutex.unlock(); }

void Flusher::child_after_fork() {
  // The parent's thread goes on writing these; the child must not add the same bytes again.
  for (auto& [key, w] : g_watched) {
    w.conn->break_off("its parent process was still writing it when it forked");
    real().close(w.own_fd);
  }
  g_watched.clear();
  if (g_epoll >= 0) real().close(g_epoll);
  g_epoll = -1;
  g_thread_started = false;
  new (&g_mutex) std::mutex;
}

Flusher& flusher() {
  static Flusher f;
  return f;
}

}  // namespace bpfplug::preload
