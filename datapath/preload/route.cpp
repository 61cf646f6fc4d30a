#include "route.hpp"

#include <fcntl.h>
#include <poll.h>

#include <cerrno>

#include "fd_table.hpp"
#include "real_calls.hpp"

namespace bpfplug::preload {

Route route(int fd, bool nonblocking_call) {
  if (!active()) return {};
  FdTable& table = fd_table();
  FdKind kind = table.kind(fd);
  if (kind == FdKind::plain) return {};
  if (kind == FdKind::unknown) kind = classify(fd);
  if (kind == FdKind::pending) kind = resolve_own(fd);
  while (kind == FdKind::pending) {
    if (nonblocking_call || (real().fcntl(fd, F_GETFL) & O_NONBLOCK)) return {nullptr, EAGAIN};
    pollfd p{fd, POLLOUT, 0};
    if (real().poll(&p, 1, -1) < 0 && errno == EINTR) return {nullptr, EINTR};
    kind = resolve_own(fd);
  }
  if (kind != FdKind::compressed) return {};
  return {table.connection(fd), 0};
}

}  // namespace bpfplug::preload
