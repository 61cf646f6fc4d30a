#include "readiness.hpp"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "export.hpp"
#include "fd_table.hpp"
#include "real_calls.hpp"
#include "route.hpp"

using namespace bpfplug::preload;

namespace {

struct Registration {
  epoll_event event{};
  unsigned reported_generation = 0;  // edge-triggered: the buffered bytes already reported
  bool disarmed = false;             // EPOLLONESHOT: reported, waiting for EPOLL_CTL_MOD
};

std::mutex g_mutex;  // guards g_epolls
std::unordered_map<int, std::map<int, Registration>> g_epolls;  // epoll fd -> fd -> registration

constexpr short kPollRead = POLLIN | POLLRDNORM;

// `fd` is a compressed connection with decoded bytes waiting.
std::shared_ptr<Connection> buffered(int fd) {
  if (fd < 0 || fd_table().kind(fd) != FdKind::compressed) return nullptr;
  auto conn = fd_table().connection(fd);
  return conn && conn->has_buffered_input() ? conn : nullptr;
}

int poll_with_buffered(pollfd* fds, nfds_t count, auto&& real_poll_now, auto&& real_poll) {
  if (!active() || !Connection::any_buffered_input()) return real_poll();
  std::vector<nfds_t> ready;
  for (nfds_t i = 0; i < count; ++i)
    if ((fds[i].events & kPollRead) && buffered(fds[i].fd)) ready.push_back(i);
  if (ready.empty()) return real_poll();
  int n = real_poll_now();  // what else is ready, without waiting
  if (n < 0) return n;
  for (nfds_t i : ready) {
    if (fds[i].revents == 0) ++n;
    fds[i].revents |= static_cast<short>(fds[i].events & kPollRead);
  }
  return n;
}

int select_with_buffered(int nfds, fd_set* readfds, fd_set* writefds, fd_set* exceptfds, auto&& real_select_now,
                         auto&& real_select) {
  if (!active() || !readfds || !Connection::any_buffered_input()) return real_select();
  std::vector<int> ready;
  for (int fd = 0; fd < nfds && fd < FD_SETSIZE; ++fd)
    if (FD_ISSET(fd, readfds) && buffered(fd)) ready.push_back(fd);
  if (ready.empty()) return real_select();
  int n = real_select_now();
  if (n < 0) return n;
  for (int fd : ready) {
    if (!FD_ISSET(fd, readfds)) {
      FD_SET(fd, readfds);
      ++n;
    }
  }
  (void)writefds;
  (void)exceptfds;
  return n;
}

// The events to report for epoll instance `epfd` from buffered bytes alone; at most `max`.
std::vector<epoll_event> buffered_events(int epfd, int max) {
  std::vector<epoll_event> out;
  std::lock_guard lock(g_mutex);
  auto it = g_epolls.find(epfd);
  if (it == g_epolls.end()) return out;
  for (auto& [fd, reg] : it->second) {
    if (static_cast<int>(out.size()) == max) break;
    if (!(reg.event.events & EPOLLIN) || reg.disarmed) continue;
    auto conn = buffered(fd);
    if (!conn) continue;
    if (reg.event.events & EPOLLET) {
      unsigned generation = conn->buffered_generation();
      if (generation == reg.reported_generation) continue;  // reported once already
      reg.reported_generation = generation;
    }
    if (reg.event.events & EPOLLONESHOT) {
      reg.disarmed = true;  // and in the kernel too, as its own report would have done
      epoll_event off{};
      off.events = EPOLLONESHOT;
      off.data = reg.event.data;
      real().epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &off);
    }
    out.push_back(epoll_event{EPOLLIN, reg.event.data});
  }
  return out;
}

int epoll_with_buffered(int epfd, epoll_event* events, int max, auto&& real_wait_now, auto&& real_wait) {
  if (!active() || !Connection::any_buffered_input() || max <= 0) return real_wait(events, max);
  std::vector<epoll_event> mine = buffered_events(epfd, max);
  if (mine.empty()) return real_wait(events, max);
  int n = static_cast<int>(mine.size());
  std::copy(mine.begin(), mine.end(), events);
  int more = real_wait_now(events + n, max - n);
  if (more < 0) return n;
  // The kernel may report the same connection (e.g. writable): one entry per descriptor.
  int kept = n;
  for (int i = n; i < n + more; ++i) {
    bool merged = false;
    for (int j = 0; j < n && !merged; ++j)
      if (events[j].data.u64 == events[i].data.u64) {
        events[j].events |= events[i].events;
        merged = true;
      }
    if (!merged) events[kept++] = events[i];
  }
  return kept;
}

}  // namespace

namespace bpfplug::preload {

void epoll_forget(int fd, bool deregister) {
  std::lock_guard lock(g_mutex);
  g_epolls.erase(fd);
  for (auto& [epfd, regs] : g_epolls) {
    if (regs.erase(fd) && deregister) real().epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
  }
}

void readiness_prepare_fork() { g_mutex.lock(); }
void readiness_parent_after_fork() { g_mutex.unlock(); }
void readiness_child_after_fork() { new (&g_mutex) std::mutex; }

}  // namespace bpfplug::preload

BPFPLUG_INTERPOSE int poll(pollfd* fds, nfds_t count, int timeout) {
  return poll_with_buffered(
      fds, count, [&] { return real().poll(fds, count, 0); }, [&] { return real().poll(fds, count, timeout); });
}

extern "C" [[noreturn]] void __chk_fail();

BPFPLUG_INTERPOSE int __poll_chk(pollfd* fds, nfds_t count, int timeout, size_t fdslen) {
  if (fdslen / sizeof(pollfd) < count) __chk_fail();
  return poll(fds, count, timeout);
}

BPFPLUG_INTERPOSE int ppoll(pollfd* fds, nfds_t count, const timespec* timeout, const sigset_t* mask) {
  static const timespec zero{};
  return poll_with_buffered(
      fds, count, [&] { return real().ppoll(fds, count, &zero, mask); },
      [&] { return real().ppoll(fds, count, timeout, mask); });
}

BPFPLUG_INTERPOSE int select(int nfds, fd_set* r, fd_set* w, fd_set* e, timeval* timeout) {
  return select_with_buffered(
      nfds, r, w, e,
      [&] {
        timeval zero{};
        return real().select(nfds, r, w, e, &zero);
      },
      [&] { return real().select(nfds, r, w, e, timeout); });
}

BPFPLUG_INTERPOSE int pselect(int nfds, fd_set* r, fd_set* w, fd_set* e, const timespec* timeout,
                              const sigset_t* mask) {
  static const timespec zero{};
  return select_with_buffered(
      nfds, r, w, e, [&] { return real().pselect(nfds, r, w, e, &zero, mask); },
      [&] { return real().pselect(nfds, r, w, e, timeout, mask); });
}

BPFPLUG_INTERPOSE int epoll_ctl(int epfd, int op, int fd, epoll_event* event) {
  int r = real().epoll_ctl(epfd, op, fd, event);
  if (r != 0 || !active()) return r;
  std::lock_guard lock(g_mutex);
  if (op == EPOLL_CTL_DEL) {
    auto it = g_epolls.find(epfd);
    if (it != g_epolls.end()) it->second.erase(fd);
  } else if (event) {
    Registration& reg = g_epolls[epfd][fd];
    reg.event = *event;
    reg.disarmed = false;
  }
  return r;
}

BPFPLUG_INTERPOSE int epoll_wait(int epfd, epoll_event* events, int max, int timeout) {
  return epoll_with_buffered(
      epfd, events, max, [&](epoll_event* at, int n) { return real().epoll_wait(epfd, at, n, 0); },
      [&](epoll_event* at, int n) { return real().epoll_wait(epfd, at, n, timeout); });
}

BPFPLUG_INTERPOSE int epoll_pwait(int epfd, epoll_event* events, int max, int timeout, const sigset_t* mask) {
  return epoll_with_buffered(
      epfd, events, max, [&](epoll_event* at, int n) { return real().epoll_pwait(epfd, at, n, 0, mask); },
      [&](epoll_event* at, int n) { return real().epoll_pwait(epfd, at, n, timeout, mask); });
}

BPFPLUG_INTERPOSE int epoll_pwait2(int epfd, epoll_event* events, int max, const timespec* timeout,
                                   const sigset_t* mask) {
  if (!real().epoll_pwait2) {
    errno = ENOSYS;
    return -1;
  }
  static const timespec zero{};
  return epoll_with_buffered(
      epfd, events, max, [&](epoll_event* at, int n) { return real().epoll_pwait2(epfd, at, n, &zero, mask); },
      [&](epoll_event* at, int n) { return real().epoll_pwait2(epfd, at, n, timeout, mask); });
}
