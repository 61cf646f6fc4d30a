#include "connection.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "contract_maps.hpp"
#include "flusher.hpp"
#include "log.hpp"
#include "real_calls.hpp"

namespace bpfplug::preload {

namespace {
std::atomic<int> g_buffered_connections{0};
}

namespace {
int own_descriptor(int fd) {
  int own = real().fcntl(fd, F_DUPFD_CLOEXEC, 0);
  return own >= 0 ? own : fd;  // out of descriptors: the program's own, with the risk above
}
}  // namespace

Connection::Connection(int fd, std::string peer)
    : socket(own_descriptor(fd), datapath::RawSocketCalls{real().send, real().recv}),
      peer_(std::move(peer)),
      owns_descriptor_(socket.fd() != fd) {}

Connection::~Connection() {
  if (buffered_.load()) g_buffered_connections.fetch_sub(1);
  if (owns_descriptor_) real().close(socket.fd());
}

bool Connection::any_buffered_input() { return g_buffered_connections.load(std::memory_order_acquire) > 0; }

void Connection::note_stream_started() {
  // Once per connection: a process that later gets this socket by exec or SCM_RIGHTS sees the
  // stream is under way and refuses it rather than starting a second one (fd_table.cpp).
  if (!started_.exchange(true)) contract().mark_stream_started(socket.fd());
}

void Connection::break_off(const std::string& why) {
  if (!broken_.exchange(true)) log_line("connection to %s: %s; its calls fail with ECONNABORTED", peer_.c_str(), why.c_str());
}

ssize_t Connection::send(std::span<const iovec> iov, int flags) {
  if (broken()) {
    errno = ECONNABORTED;
    return -1;
  }
  if (write_shut_.load()) {  // as the kernel answers a send after shutdown(SHUT_WR)
    if (!(flags & MSG_NOSIGNAL)) ::raise(SIGPIPE);
    errno = EPIPE;
    return -1;
  }
  std::lock_guard lock(send_mutex);
  note_stream_started();
  ssize_t n = socket.send(iov, flags);
  int err = errno;
  if (socket.has_pending_output()) flusher().watch(shared_from_this());
  errno = err;
  return n;
}

ssize_t Connection::recv(std::span<const iovec> iov, int flags) {
  if (broken()) {
    errno = ECONNABORTED;
    return -1;
  }
  std::lock_guard lock(recv_mutex);
  note_stream_started();
  ssize_t n = socket.recv(iov, flags);
  int err = errno;
  if (n < 0 && (err == EBADMSG || err == ECONNABORTED) && !stream_error_logged_) {
    stream_error_logged_ = true;
    log_line("connection to %s: %s; the program gets %s", peer_.c_str(), socket.stream_error().c_str(),
             err == EBADMSG ? "EBADMSG" : "ECONNABORTED");
  }
  bool buffered = socket.has_buffered_input();
  if (buffered) buffered_generation_.fetch_add(1, std::memory_order_acq_rel);
  if (buffered_.exchange(buffered, std::memory_order_acq_rel) != buffered)
    g_buffered_connections.fetch_add(buffered ? 1 : -1, std::memory_order_acq_rel);
  errno = err;
  return n;
}

void Connection::reset_after_fork() {
  // A lock another thread held at fork() stays locked in the child, with the codec state that
  // thread was changing half-done: this process can't use the stream.
  bool send_held = !send_mutex.try_lock();
  bool recv_held = !recv_mutex.try_lock();
  if (!send_held) send_mutex.unlock();
  if (!recv_held) recv_mutex.unlock();
  if (send_held || recv_held) {
    new (&send_mutex) std::mutex;
    new (&recv_mutex) std::mutex;
    break_off("another thread was using it when the process forked");
  }
}

}  // namespace bpfplug::preload
