// One connection the policy negotiated compression on, as the preload library keeps it: the
// codec (datapath/compressed_socket.hpp) behind a send lock and a receive lock, so one thread
// may read while another writes, as with a plain socket.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "bpfplug/datapath/compressed_socket.hpp"

namespace bpfplug::preload {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `peer` names the connection in log lines ("198.18.0.2:5001"). The codec works on a
  // close-on-exec descriptor of its own, so the program may close or dup2 over any of its own
  // numbers for the socket (dup2(sock, 0); close(sock)) without pulling it from the stream;
  // the socket closes when the program's last descriptor and this object are gone.
  Connection(int fd, std::string peer);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The socket API on plaintext (compressed_socket.hpp); -1 with errno.
  ssize_t send(std::span<const iovec> iov, int flags);
  ssize_t recv(std::span<const iovec> iov, int flags);

  // Decoded bytes the program has not read: poll/select/epoll report the socket readable.
  bool has_buffered_input() const { return buffered_.load(std::memory_order_acquire); }
  // Some connection of this process has such bytes (the readiness calls' fast path).
  static bool any_buffered_input();
  // Changes each time a receive leaves bytes buffered (edge-triggered epoll reports each once).
  unsigned buffered_generation() const { return buffered_generation_.load(std::memory_order_acquire); }

  // Ends the connection for this process: every call fails with ECONNABORTED from now on.
  void break_off(const std::string& why);
  bool broken() const { return broken_.load(std::memory_order_acquire); }
  const std::string& peer() const { return peer_; }
  // The socket's inode: descriptors made without dup (two pending resolutions) find it by this.
  ino_t inode = 0;

  // shutdown(SHUT_WR) has been asked for: sends fail with EPIPE.
  void set_write_shut() { write_shut_.store(true); }

  // The program's descriptors of this connection (dup, dup2, fcntl(F_DUPFD) add to them).
  std::atomic<int> aliases{1};

  // Held across codec calls; the flusher and fork handling take them too.
  std::mutex send_mutex, recv_mutex;
  datapath::CompressedSocket socket;  // send side under send_mutex, receive side under recv_mutex

  // After fork(), in the child: locks another thread held at the fork are lost with it.
  void reset_after_fork();

 private:
  void note_stream_started();

  std::string peer_;
  bool owns_descriptor_;
  std::atomic<bool> buffered_{false};
  std::atomic<unsigned> buffered_generation_{0};
  std::atomic<bool> started_{false};
  std::atomic<bool> write_shut_{false};
  std::atomic<bool> broken_{false};
  bool stream_error_logged_ = false;  // under recv_mutex
};

}  // namespace bpfplug::preload
