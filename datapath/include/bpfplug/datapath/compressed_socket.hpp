// One compressed TCP connection as its program sees it: plaintext in, tcp_comp's stream on the
// socket (stream_codec.hpp), with the socket API's semantics kept for the calls the preload
// library will route here: blocking and non-blocking sockets, partial reads and writes,
// MSG_DONTWAIT, MSG_PEEK, MSG_WAITALL, end of stream.
//
// Memory: besides the codec's state, at most max_output(65535) bytes of compressed data
// waiting to be written, kInputBuffer bytes read but not decoded, kPlainBuffer bytes decoded
// but not yet read by the program.
//
// Not thread-safe: the caller serialises calls per socket (the preload library holds a lock).
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bpfplug/datapath/stream_codec.hpp"

namespace bpfplug::datapath {

// The two socket calls underneath. The preload library passes libc's own (found with
// dlsym(RTLD_NEXT)), since a plain ::send inside it would call its own interposed send.
struct RawSocketCalls {
  ssize_t (*send)(int, const void*, std::size_t, int) = ::send;
  ssize_t (*recv)(int, void*, std::size_t, int) = ::recv;
};

class CompressedSocket {
 public:
  static constexpr std::size_t kInputBuffer = 65536;
  static constexpr std::size_t kPlainBuffer = 65536;

  explicit CompressedSocket(int fd, RawSocketCalls calls = {});

  int fd() const { return fd_; }

  // send(2)/sendmsg(2) semantics on plaintext: returns the bytes taken (all of them on a
  // blocking socket unless an error comes first), or -1 with errno. A non-blocking socket takes
  // up to one chunk it could not write entirely; the rest of that chunk's compressed bytes wait
  // in this object (has_pending_output()) and go out first on the next send or flush().
  // `flags` may hold MSG_DONTWAIT, MSG_NOSIGNAL, MSG_MORE (passed on).
  ssize_t send(std::span<const iovec> iov, int flags);

  // Writes what waits; 0 when nothing is left, -1 with errno (EAGAIN on a full non-blocking
  // socket).
  int flush(int flags);
  bool has_pending_output() const { return pending_pos_ < pending_.size(); }

  // recv(2)/recvmsg(2) semantics on plaintext: the bytes read, 0 at the end of the stream, -1
  // with errno. MSG_PEEK leaves them to be read again; MSG_WAITALL fills `iov` unless the stream
  // ends or fails first; MSG_DONTWAIT as for the socket. A corrupt stream fails with EBADMSG and
  // a truncated one (the peer closed inside a block) with ECONNABORTED, from then on.
  ssize_t recv(std::span<const iovec> iov, int flags);

  // Bytes the program can read without the socket: decoded ones, or compressed ones already read
  // whose decoding stopped only because the buffer was full (a highly compressible stream puts
  // megabytes in 64 KiB). poll/epoll must report the socket readable while this holds.
  bool has_buffered_input() const { return plain_pos_ < plain_.size() || decoder_full_; }
  // Why the stream failed (for the log line), empty while it has not.
  const std::string& stream_error() const { return error_text_; }

 private:
  ssize_t write_pending(int flags);
  // Reads from the socket and decodes until some plaintext is buffered; 1 if some is, 0 at
  // end of stream, -1 with errno.
  int fill(int flags);
  ssize_t copy_out(std::span<const iovec> iov, std::size_t skip, bool consume);

  int fd_;
  RawSocketCalls calls_;
  StreamEncoder encoder_;
  StreamDecoder decoder_;
  std::vector<std::uint8_t> pending_;  // compressed, not yet written from pending_pos_
  std::size_t pending_pos_ = 0;
  std::vector<std::uint8_t> input_;    // read from the socket, not yet decoded
  std::vector<std::uint8_t> plain_;    // decoded, not yet read from plain_pos_
  std::size_t plain_pos_ = 0;
  bool decoder_full_ = false;          // the last decode filled kPlainBuffer: it may have more
  bool eof_ = false;
  int error_ = 0;                      // sticky errno of a failed stream
  std::string error_text_;
};

}  // namespace bpfplug::datapath
