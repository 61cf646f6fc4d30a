// A connection's life as the preload library follows it: start-up (finding the compression
// maps), marking sockets ready at connect()/listen(), reading verdicts after the handshake and
// at accept(), descriptors copied by dup/fcntl, shutdown() and close() finishing what waits,
// and fork().
#include <fcntl.h>
#include <linux/close_range.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "contract_maps.hpp"
#include "export.hpp"
#include "fd_table.hpp"
#include "flusher.hpp"
#include "log.hpp"
#include "readiness.hpp"
#include "real_calls.hpp"
#include "route.hpp"

using namespace bpfplug::preload;

namespace {

bool g_active = false;

// Marks a TCP socket ready before connect()/listen(); errno untouched.
void mark_ready(int fd) {
  int saved = errno;
  if (!contract().mark_ready(fd)) {
    static std::atomic<bool> warned{false};
    if (!warned.exchange(true))
      log_line("can't mark socket %d ready to compress (%s); its connections will not be compressed", fd,
               std::strerror(errno));
  }
  errno = saved;
}

// The program lets go of descriptor `fd` (close, dup2 over it). When it is the last one of a
// compressed connection, bytes a non-blocking send left stay with the flusher, which writes
// them out, as the kernel sends a closed socket's queue; and since the connection's own
// descriptor may keep the socket open a while, the program's epoll sets drop it now, as the
// kernel would have on the close.
void release(int fd) {
  auto conn = fd_table().detach(fd);
  bool last = conn && conn->aliases.fetch_sub(1) == 1;
  if (last) {
    std::lock_guard lock(conn->send_mutex);
    if (conn->socket.has_pending_output() && !conn->broken()) flusher().watch(conn);
  }
  epoll_forget(fd, last);
}

// `to` is now another descriptor of whatever `from` is.
void copied(int from, int to) {
  if (to < 0) return;
  fd_table().detach(to);
  FdKind kind = fd_table().kind(from);
  if (kind == FdKind::compressed) {
    if (auto conn = fd_table().connection(from)) {
      conn->aliases.fetch_add(1);
      fd_table().attach(to, std::move(conn));
      return;
    }
  }
  fd_table().set_kind(to, kind);
}

void prepare_fork() {
  readiness_prepare_fork();
  fd_table().prepare_fork();
  flusher().prepare_fork();
}
void parent_after_fork() {
  flusher().parent_after_fork();
  fd_table().parent_after_fork();
  readiness_parent_after_fork();
}
void child_after_fork() {
  readiness_child_after_fork();
  flusher().child_after_fork();
  fd_table().child_after_fork();
}

__attribute__((constructor)) void start() {
  real();
  open_log();
  std::string why_not;
  if (!contract().open(why_not)) {
    // Asked to compress (bpfplug run) but can't: say so once; otherwise stay silent.
    if (std::getenv("BPFPLUG_COMP_MAP_FDS")) log_line("not compressing: %s", why_not.c_str());
    return;
  }
  pthread_atfork(prepare_fork, parent_after_fork, child_after_fork);
  g_active = true;
}

}  // namespace

namespace bpfplug::preload {
bool active() { return g_active; }
}  // namespace bpfplug::preload

BPFPLUG_INTERPOSE int socket(int domain, int type, int protocol) {
  int fd = real().socket(domain, type, protocol);
  if (fd >= 0 && g_active) fd_table().detach(fd);  // a descriptor closed behind our back
  return fd;
}

BPFPLUG_INTERPOSE int connect(int fd, const sockaddr* addr, socklen_t len) {
  if (!g_active || !is_tcp_socket(fd)) return real().connect(fd, addr, len);
  mark_ready(fd);
  int r = real().connect(fd, addr, len);
  int err = errno;
  if (r == 0) resolve_own(fd);
  else if (err == EINPROGRESS || err == EINTR || err == EALREADY) fd_table().set_kind(fd, FdKind::pending);
  errno = err;
  return r;
}

BPFPLUG_INTERPOSE int listen(int fd, int backlog) {
  if (!g_active || !is_tcp_socket(fd)) return real().listen(fd, backlog);
  mark_ready(fd);  // accepted connections inherit the mark (BPF_F_CLONE)
  int r = real().listen(fd, backlog);
  if (r == 0) fd_table().set_kind(fd, FdKind::plain);
  return r;
}

namespace {
int accepted(int fd) {
  if (fd < 0 || !g_active) return fd;
  int err = errno;
  fd_table().detach(fd);
  resolve_own(fd);
  errno = err;
  return fd;
}
}  // namespace

BPFPLUG_INTERPOSE int accept(int fd, sockaddr* addr, socklen_t* len) { return accepted(real().accept(fd, addr, len)); }

BPFPLUG_INTERPOSE int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  return accepted(real().accept4(fd, addr, len, flags));
}

BPFPLUG_INTERPOSE int close(int fd) {
  if (g_active && fd_table().kind(fd) != FdKind::unknown) {
    release(fd);
  } else if (g_active) {
    epoll_forget(fd, false);
  }
  return real().close(fd);
}

BPFPLUG_INTERPOSE int close_range(unsigned first, unsigned last, int flags) {
  if (!real().close_range) {
    errno = ENOSYS;
    return -1;
  }
  if (g_active && !(flags & CLOSE_RANGE_CLOEXEC)) {
    unsigned end = std::min<unsigned>(last, FdTable::kMaxFd - 1);
    for (unsigned fd = first; fd <= end && fd >= first; ++fd)
      if (fd_table().kind(static_cast<int>(fd)) != FdKind::unknown) release(static_cast<int>(fd));
  }
  return real().close_range(first, last, flags);
}

BPFPLUG_INTERPOSE int shutdown(int fd, int how) {
  if (!g_active || how == SHUT_RD || fd_table().kind(fd) != FdKind::compressed) return real().shutdown(fd, how);
  auto conn = fd_table().connection(fd);
  if (!conn) return real().shutdown(fd, how);
  std::unique_lock lock(conn->send_mutex);
  conn->set_write_shut();
  if (conn->socket.has_pending_output() && !conn->broken()) {
    // The FIN goes after every byte sent: a blocking socket waits for room here, a
    // non-blocking one leaves it to the flusher and returns.
    const bool blocking = !(real().fcntl(fd, F_GETFL) & O_NONBLOCK);
    if (!blocking || conn->socket.flush(MSG_NOSIGNAL) < 0) {
      flusher().shutdown_after(conn);
      return how == SHUT_RDWR ? real().shutdown(fd, SHUT_RD) : 0;
    }
  }
  return real().shutdown(fd, how);
}

BPFPLUG_INTERPOSE int dup(int fd) {
  int r = real().dup(fd);
  if (g_active) copied(fd, r);
  return r;
}

BPFPLUG_INTERPOSE int dup2(int from, int to) {
  if (g_active && from != to && fd_table().kind(to) != FdKind::unknown) release(to);
  int r = real().dup2(from, to);
  if (g_active && from != to) copied(from, r);
  return r;
}

BPFPLUG_INTERPOSE int dup3(int from, int to, int flags) {
  if (g_active && from != to && fd_table().kind(to) != FdKind::unknown) release(to);
  int r = real().dup3(from, to, flags);
  if (g_active) copied(from, r);
  return r;
}

namespace {
int fcntl_common(int fd, int cmd, long arg) {
  int r = real().fcntl(fd, cmd, arg);
  if (g_active && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) copied(fd, r);
  return r;
}
}  // namespace

BPFPLUG_INTERPOSE int fcntl(int fd, int cmd, ...) {
  va_list args;
  va_start(args, cmd);
  long arg = va_arg(args, long);  // every command's argument fits (int, pointer or none)
  va_end(args);
  return fcntl_common(fd, cmd, arg);
}

BPFPLUG_INTERPOSE int fcntl64(int fd, int cmd, ...) {
  va_list args;
  va_start(args, cmd);
  long arg = va_arg(args, long);
  va_end(args);
  return fcntl_common(fd, cmd, arg);
}
