// send/write/recv/read and their relatives, sendfile and splice: plaintext for the program,
// tcp_comp's stream on the socket, for connections where compression was negotiated; every
// other descriptor goes straight to libc.
//
// Refused on a compressed connection with EOPNOTSUPP (docs/datapath.md): MSG_OOB (urgent data
// is outside the stream tcp_comp compresses), MSG_ZEROCOPY (the library copies; the program
// would wait for completions that never come), MSG_TRUNC, sendmmsg/recvmmsg.
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <span>
#include <vector>

#include "bpfplug/datapath/stream_codec.hpp"
#include "export.hpp"
#include "real_calls.hpp"
#include "route.hpp"

using bpfplug::preload::Connection;
using bpfplug::preload::real;
using bpfplug::preload::route;
using bpfplug::preload::Route;

namespace {

ssize_t fail(int err) {
  errno = err;
  return -1;
}

constexpr int kRefusedSendFlags = MSG_OOB | MSG_ZEROCOPY;
constexpr int kRefusedRecvFlags = MSG_OOB | MSG_TRUNC;

ssize_t compressed_send(Connection& conn, std::span<const iovec> iov, int flags) {
  if (flags & kRefusedSendFlags) return fail(EOPNOTSUPP);
  return conn.send(iov, flags);
}

ssize_t compressed_recv(Connection& conn, std::span<const iovec> iov, int flags) {
  if (flags & kRefusedRecvFlags) return fail(EOPNOTSUPP);
  return conn.recv(iov, flags);
}

std::span<const iovec> one(const void* buf, size_t len, iovec& storage) {
  storage = iovec{const_cast<void*>(buf), len};
  return {&storage, 1};
}

// A buffer of one chunk per thread, for sendfile and splice.
std::vector<std::uint8_t>& chunk_buffer() {
  thread_local std::vector<std::uint8_t> buffer(bpfplug::datapath::kMaxChunk);
  return buffer;
}

}  // namespace

namespace {

// One call on `fd`: `plain()` for libc, `compressed(conn)` for a compressed connection, or the
// error its routing gave. `nonblocking`: the call's own MSG_DONTWAIT (route.hpp).
template <typename Plain, typename Compressed>
ssize_t dispatch(int fd, bool nonblocking, Plain plain, Compressed compressed) {
  Route r = route(fd, nonblocking);
  if (r.error) return fail(r.error);
  if (!r.conn) return plain();
  return compressed(*r.conn);
}

// A receive with MSG_ERRQUEUE reads the socket's error queue, which has nothing compressed.
template <typename Plain, typename Compressed>
ssize_t dispatch_recv(int fd, int flags, Plain plain, Compressed compressed) {
  if (flags & MSG_ERRQUEUE) return plain();
  return dispatch(fd, flags & MSG_DONTWAIT, plain, compressed);
}

}  // namespace

BPFPLUG_INTERPOSE ssize_t send(int fd, const void* buf, size_t len, int flags) {
  iovec v;
  return dispatch(
      fd, flags & MSG_DONTWAIT, [&] { return real().send(fd, buf, len, flags); },
      [&](Connection& c) { return compressed_send(c, one(buf, len, v), flags); });
}

BPFPLUG_INTERPOSE ssize_t sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* to, socklen_t tolen) {
  iovec v;  // TCP ignores the address once connected
  return dispatch(
      fd, flags & MSG_DONTWAIT, [&] { return real().sendto(fd, buf, len, flags, to, tolen); },
      [&](Connection& c) { return compressed_send(c, one(buf, len, v), flags); });
}

BPFPLUG_INTERPOSE ssize_t sendmsg(int fd, const msghdr* msg, int flags) {
  return dispatch(
      fd, flags & MSG_DONTWAIT, [&] { return real().sendmsg(fd, msg, flags); },
      [&](Connection& c) { return compressed_send(c, {msg->msg_iov, msg->msg_iovlen}, flags); });
}

BPFPLUG_INTERPOSE ssize_t write(int fd, const void* buf, size_t len) {
  iovec v;
  return dispatch(
      fd, false, [&] { return real().write(fd, buf, len); },
      [&](Connection& c) { return compressed_send(c, one(buf, len, v), 0); });
}

BPFPLUG_INTERPOSE ssize_t writev(int fd, const iovec* iov, int count) {
  return dispatch(
      fd, false, [&] { return real().writev(fd, iov, count); },
      [&](Connection& c) {
        return count < 0 ? fail(EINVAL) : compressed_send(c, {iov, static_cast<size_t>(count)}, 0);
      });
}

BPFPLUG_INTERPOSE ssize_t recv(int fd, void* buf, size_t len, int flags) {
  iovec v;
  return dispatch_recv(
      fd, flags, [&] { return real().recv(fd, buf, len, flags); },
      [&](Connection& c) { return compressed_recv(c, one(buf, len, v), flags); });
}

BPFPLUG_INTERPOSE ssize_t recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* from, socklen_t* fromlen) {
  iovec v;
  return dispatch_recv(
      fd, flags, [&] { return real().recvfrom(fd, buf, len, flags, from, fromlen); },
      [&](Connection& c) {
        if (fromlen) *fromlen = 0;  // as TCP answers: no address
        return compressed_recv(c, one(buf, len, v), flags);
      });
}

BPFPLUG_INTERPOSE ssize_t recvmsg(int fd, msghdr* msg, int flags) {
  return dispatch_recv(
      fd, flags, [&] { return real().recvmsg(fd, msg, flags); },
      [&](Connection& c) {
        msg->msg_namelen = 0;
        msg->msg_controllen = 0;  // the kernel's ancillary data describes compressed bytes
        msg->msg_flags = 0;
        return compressed_recv(c, {msg->msg_iov, msg->msg_iovlen}, flags);
      });
}

BPFPLUG_INTERPOSE ssize_t read(int fd, void* buf, size_t len) {
  iovec v;
  return dispatch(
      fd, false, [&] { return real().read(fd, buf, len); },
      [&](Connection& c) { return compressed_recv(c, one(buf, len, v), 0); });
}

BPFPLUG_INTERPOSE ssize_t readv(int fd, const iovec* iov, int count) {
  return dispatch(
      fd, false, [&] { return real().readv(fd, iov, count); },
      [&](Connection& c) {
        return count < 0 ? fail(EINVAL) : compressed_recv(c, {iov, static_cast<size_t>(count)}, 0);
      });
}

// _FORTIFY_SOURCE's checked versions, which libc would otherwise serve without our read/recv.
extern "C" [[noreturn]] void __chk_fail();

BPFPLUG_INTERPOSE ssize_t __read_chk(int fd, void* buf, size_t len, size_t buflen) {
  if (len > buflen) __chk_fail();
  return read(fd, buf, len);
}

BPFPLUG_INTERPOSE ssize_t __recv_chk(int fd, void* buf, size_t len, size_t buflen, int flags) {
  if (len > buflen) __chk_fail();
  return recv(fd, buf, len, flags);
}

BPFPLUG_INTERPOSE ssize_t __recvfrom_chk(int fd, void* buf, size_t len, size_t buflen, int flags, sockaddr* from,
                                         socklen_t* fromlen) {
  if (len > buflen) __chk_fail();
  return recvfrom(fd, buf, len, flags, from, fromlen);
}

BPFPLUG_INTERPOSE int sendmmsg(int fd, mmsghdr* msgs, unsigned count, int flags) {
  return static_cast<int>(dispatch(
      fd, flags & MSG_DONTWAIT, [&]() -> ssize_t { return real().sendmmsg(fd, msgs, count, flags); },
      [](Connection&) { return fail(EOPNOTSUPP); }));
}

BPFPLUG_INTERPOSE int recvmmsg(int fd, mmsghdr* msgs, unsigned count, int flags, timespec* timeout) {
  return static_cast<int>(dispatch(
      fd, flags & MSG_DONTWAIT, [&]() -> ssize_t { return real().recvmmsg(fd, msgs, count, flags, timeout); },
      [](Connection&) { return fail(EOPNOTSUPP); }));
}

namespace {

// Gives back `n` bytes read from `in` but not sent: at its offset, or its file position.
void unread(int in, off_t* offset, size_t n) {
  if (n == 0 || offset) return;
  lseek(in, -static_cast<off_t>(n), SEEK_CUR);
}

// sendfile(2) into a compressed connection: read the file a chunk at a time and send it
// compressed. The bytes the socket does not take are given back to the file.
ssize_t sendfile_compressed(Connection& out, int in, off_t* offset, size_t count) {
  iovec none{nullptr, 0};
  if (out.send({&none, 1}, 0) < 0) return -1;  // what waits goes first: until then nothing new is taken
  auto& buf = chunk_buffer();
  size_t done = 0;
  while (done < count) {
    size_t want = std::min(count - done, buf.size());
    ssize_t got = offset ? pread(in, buf.data(), want, *offset) : real().read(in, buf.data(), want);
    if (got < 0) return done ? static_cast<ssize_t>(done) : -1;
    if (got == 0) break;
    iovec v{buf.data(), static_cast<size_t>(got)};
    ssize_t sent = out.send({&v, 1}, 0);
    size_t taken = sent > 0 ? static_cast<size_t>(sent) : 0;
    unread(in, offset, static_cast<size_t>(got) - taken);
    if (offset) *offset += static_cast<off_t>(taken);
    done += taken;
    if (sent < 0) return done ? static_cast<ssize_t>(done) : -1;
    if (taken < static_cast<size_t>(got)) break;
  }
  return static_cast<ssize_t>(done);
}

}  // namespace

BPFPLUG_INTERPOSE ssize_t sendfile(int out, int in, off_t* offset, size_t count) {
  return dispatch(
      out, false, [&] { return real().sendfile(out, in, offset, count); },
      [&](Connection& c) { return sendfile_compressed(c, in, offset, count); });
}

BPFPLUG_INTERPOSE ssize_t sendfile64(int out, int in, off_t* offset, size_t count) {
  return sendfile(out, in, offset, count);
}

// splice(2) with a compressed connection at either end: through a buffer instead of the kernel's
// pipe pages. From a compressed connection the bytes are peeked and consumed only once written.
BPFPLUG_INTERPOSE ssize_t splice(int in, off_t* off_in, int out, off_t* off_out, size_t len, unsigned flags) {
  const bool nonblocking = flags & SPLICE_F_NONBLOCK;
  Route rin = route(in, nonblocking), rout = route(out, nonblocking);
  if (rin.error) return fail(rin.error);
  if (rout.error) return fail(rout.error);
  if (!rin.conn && !rout.conn) return real().splice(in, off_in, out, off_out, len, flags);
  const int dontwait = nonblocking ? MSG_DONTWAIT : 0;
  iovec none{nullptr, 0};
  if (rout.conn && rout.conn->send({&none, 1}, dontwait) < 0) return -1;
  auto& buf = chunk_buffer();
  size_t want = std::min(len, buf.size());
  iovec v{buf.data(), want};
  ssize_t got;
  if (rin.conn) got = rin.conn->recv({&v, 1}, MSG_PEEK | dontwait);
  else got = off_in ? pread(in, buf.data(), want, *off_in) : real().read(in, buf.data(), want);
  if (got <= 0) return got;
  ssize_t put;
  if (rout.conn) {
    iovec w{buf.data(), static_cast<size_t>(got)};
    put = rout.conn->send({&w, 1}, dontwait);
  } else {
    put = off_out ? pwrite(out, buf.data(), static_cast<size_t>(got), *off_out)
                  : real().write(out, buf.data(), static_cast<size_t>(got));
  }
  size_t taken = put > 0 ? static_cast<size_t>(put) : 0;
  if (rin.conn) {
    iovec consume{buf.data(), taken};
    if (taken) rin.conn->recv({&consume, 1}, 0);  // already decoded: does not wait
  } else {
    unread(in, off_in, static_cast<size_t>(got) - taken);
    if (off_in) *off_in += static_cast<off_t>(taken);
  }
  if (off_out && !rout.conn) *off_out += static_cast<off_t>(taken);
  return put < 0 ? -1 : static_cast<ssize_t>(taken);
}
