// Writes out what non-blocking sends left behind. A non-blocking send takes a whole chunk even
// when the socket has room for only part of its compressed bytes (compressed_socket.hpp); the
// program thinks those bytes sent and may wait for an answer without writing again, so a
// thread of the library's own finishes them as soon as the socket has room. It also carries
// out a close() or shutdown(SHUT_WR) that had to wait for such bytes, as the kernel sends a
// closed socket's queue after close() returns.
//
// The thread starts with the first such send; a process that never has one has no thread.
#pragma once

#include <memory>

namespace bpfplug::preload {

class Connection;

class Flusher {
 public:
  // Watches `conn` until its pending bytes are written, holding it (and so the socket) even
  // after the program closed its last descriptor. Called with conn's send lock held.
  void watch(const std::shared_ptr<Connection>& conn);
  // shutdown(SHUT_WR) once the pending bytes are out. Send lock held.
  void shutdown_after(const std::shared_ptr<Connection>& conn);

  // fork(): the child has no thread, and must not write bytes its parent will write.
  void prepare_fork();
  void parent_after_fork();
  void child_after_fork();
};

Flusher& flusher();

}  // namespace bpfplug::preload
