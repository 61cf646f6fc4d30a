// send/write/recv/read and their relatives, sendfile and splice: plaintext for the program,
// tcp_comp's stream on the socket, for connections where compression was negotiated; every
// other descriptor goes straight to libc.
//
// Refused on a compressed connection with EOPNOTSUPP (docs/datapath.md): MSG_OOB (urgent data
// is outside the stream tcp_comp compresses), MSG_ZEROCOPY (the library copies; the program
// would wait for completions that never come), MSG_TRUNC, sendmmsg/recvmmsg.
#include <dlfcn.h>
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

BPFPLUG_INTERPOSE ssize_t send(int fd, const void* buf, size_t len, int flags) {
  Route r = route(fd, flags & MSG_DONTWAIT);
  if (r.error) return fail(r.error);
  if (!r.conn) return real().send(fd, buf, len, flags);
  iovec v;
  return compressed_send(*r.conn, one(buf, len, v), flags);
}

BPFPLUG_INTERPOSE ssize_t sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* to, socklen_t tolen) {
  Route r = route(fd, flags & MSG_DONTWAIT);
  if (r.error) return fail(r.error);
  if (!r.conn) return real().sendto(fd, buf, len, flags, to, tolen);
  iovec v;
  return compressed_send(*r.conn, one(buf, len, v), flags);  // TCP ignores the address once connected
}

BPFPLUG_INTERPOSE ssize_t sendmsg(int fd, const msghdr* msg, int flags) {
  Route r = route(fd, flags & MSG_DONTWAIT);
  if (r.error) return fail(r.error);
  if (!r.conn) return real().sendmsg(fd, msg, flags);
  return compressed_send(*r.conn, {msg->msg_iov, msg->msg_iovlen}, flags);
}

BPFPLUG_INTERPOSE ssize_t write(int fd, const void* buf, size_t len) {
  Route r = route(fd, false);
  if (r.error) return fail(r.error);
  if (!r.conn) return real().write(fd, buf, len);
  iovec v;
  return compressed_send(*r.conn, one(buf, len, v), 0);
}

BPFPLUG_INTERPOSE ssize_t writev(int fd, const iovec* iov, int count) {
  Route r = route(fd, false);
  if (r.error) return fail(r.error);
  if (!r.conn) return real().writev(fd, iov, count);
  if (count < 0) return fail(EINVAL);
  return compressed_send(*r.conn, {iov, static_cast<size_t>(count)}, 0);
}

BPFPLUG_INTERPOSE ssize_t recv(int fd, void* buf, size_t len, int flags) {
  Route r = (flags & MSG_ERRQUEUE) ? Route{} : route(fd, flags & MSG_DONTWAIT);
  if (r.error) return fail(r.error);
  if (!r.conn) return real().recv(fd, buf, len, flags);
  iovec v;
  return compressed_recv(*r.conn, one(buf, len, v), flags);
}

BPFPLUG_INTERPOSE ssize_t recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* from, socklen_t* fromlen) {
  Route r = (flags & MSG_ERRQUEUE) ? Route{} : route(fd, flags & MSG_DONTWAIT);
  if (r.error) return fail(r.error);
  if (!r.conn) return real().recvfrom(fd, buf, len, flags, from, fromlen);
  if (fromlen) *fromlen = 0;  // as TCP answers: no address
  iovec v;
  return compressed_recv(*r.conn, one(buf, len, v), flags);
}

BPFPLUG_INTERPOSE ssize_t recvmsg(int fd, msghdr* msg, int flags) {
  Route r = (flags & MSG_ERRQUEUE) ? Route{} : route(fd, flags & MSG_DONTWAIT);
  if (r.error) return fail(r.error);
  if (!r.conn) return real().recvmsg(fd, msg, flags);
  msg->msg_namelen = 0;
  msg->msg_controllen = 0;  // the kernel's ancillary data describes compressed bytes
  msg->msg_flags = 0;
  return compressed_recv(*r.conn, {msg->msg_iov, msg->msg_iovlen}, flags);
}

BPFPLUG_INTERPOSE ssize_t read(int fd, void* buf, size_t len) {
  Route r = route(fd, false);
  if (r.error) return fail(r.error);
  if (!r.conn) return real().read(fd, buf, len);
  iovec v;
  return compressed_recv(*r.conn, one(buf, len, v), 0);
}

BPFPLUG_INTERPOSE ssize_t readv(int fd, const iovec* iov, int count) {
  Route r = route(fd, false);
  if (r.error) return fail(r.error);
  if (!r.conn) return real().readv(fd, iov, count);
  if (count < 0) return fail(EINVAL);
  return compressed_recv(*r.conn, {iov, static_cast<size_t>(count)}, 0);
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
  Route r = route(fd, flags & MSG_DONTWAIT);
  if (r.error) return static_cast<int>(fail(r.error));
  if (r.conn) return static_cast<int>(fail(EOPNOTSUPP));
  static auto next = reinterpret_cast<int (*)(int, mmsghdr*, unsigned, int)>(dlsym(RTLD_NEXT, "sendmmsg"));
  return next(fd, msgs, count, flags);
}

BPFPLUG_INTERPOSE int recvmmsg(int fd, mmsghdr* msgs, unsigned count, int flags, timespec* timeout) {
  Route r = route(fd, flags & MSG_DONTWAIT);
  if (r.error) return static_cast<int>(fail(r.error));
  if (r.conn) return static_cast<int>(fail(EOPNOTSUPP));
  static auto next = reinterpret_cast<int (*)(int, mmsghdr*, unsigned, int, timespec*)>(dlsym(RTLD_NEXT, "recvmmsg"));
  return next(fd, msgs, count, flags, timeout);
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
  Route r = route(out, false);
  if (r.error) return fail(r.error);
  if (!r.conn) return real().sendfile(out, in, offset, count);
  return sendfile_compressed(*r.conn, in, offset, count);
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
