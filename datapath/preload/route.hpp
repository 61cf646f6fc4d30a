// Where one I/O call on a descriptor goes: straight to libc, or through its Connection.
#pragma once

#include <memory>

#include "connection.hpp"

namespace bpfplug::preload {

// The library found the compression maps and is routing calls (init in lifecycle.cpp).
bool active();

struct Route {
  std::shared_ptr<Connection> conn;  // null: call libc
  int error = 0;                     // non-zero: fail the call with this errno
};

// `nonblocking_call`: the call itself asked not to wait (MSG_DONTWAIT). A socket still
// connecting has no verdict yet: a call that may wait waits for the handshake, others fail
// with EAGAIN as the kernel would.
Route route(int fd, bool nonblocking_call);

}  // namespace bpfplug::preload
