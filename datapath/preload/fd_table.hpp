// What the preload library knows about each of the program's descriptors. The common case, a
// descriptor that is not a compressed connection, costs one atomic load per call.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "connection.hpp"

namespace bpfplug::preload {

enum class FdKind : std::uint8_t {
  unknown = 0,  // not looked at yet (or closed since)
  plain,        // not a TCP socket, or a connection without compression: straight to libc
  pending,      // a ready TCP socket still connecting: its verdict comes with the handshake
  compressed,   // compression negotiated: through its Connection
};

class FdTable {
 public:
  static constexpr int kMaxFd = 1 << 20;  // descriptors above this are never compressed

  FdKind kind(int fd) const;
  void set_kind(int fd, FdKind kind);
  std::shared_ptr<Connection> connection(int fd) const;
  void attach(int fd, std::shared_ptr<Connection> conn);
  // Forgets `fd` (kind unknown); returns its Connection if it had one.
  std::shared_ptr<Connection> detach(int fd);
  // The Connection of the socket with this inode, under any descriptor.
  std::shared_ptr<Connection> find_socket(ino_t inode) const;

  void prepare_fork();
  void parent_after_fork();
  void child_after_fork();
};

FdTable& fd_table();

// An IPv4 or IPv6 TCP socket (what a compression policy may negotiate on).
bool is_tcp_socket(int fd);

// Decides what `fd` is the first time a call reaches it: a TCP connection whose verdict says
// compressed gets a Connection (or is refused if another process started its stream), a
// connecting ready socket is pending, anything else is plain.
FdKind classify(int fd);
// A socket this process connected or accepted (or is connecting): its kind from its verdict.
FdKind resolve_own(int fd);

}  // namespace bpfplug::preload
