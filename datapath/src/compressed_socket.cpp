#include "bpfplug/datapath/compressed_socket.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace bpfplug::datapath {
namespace {

std::size_t total_length(std::span<const iovec> iov) {
  std::size_t n = 0;
  for (const auto& v : iov) n += v.iov_len;
  return n;
}

// Walks `iov` from `skip` bytes into it, over at most `max` bytes, and calls
// copy(piece, offset, n) for each piece: n bytes at `piece`, the `offset`-th byte onwards of
// the walk. Returns the bytes walked.
template <typename Copy>
std::size_t walk_iov(std::span<const iovec> iov, std::size_t skip, std::size_t max, Copy copy) {
  std::size_t done = 0;
  for (const auto& v : iov) {
    if (done == max) break;
    if (skip >= v.iov_len) {
      skip -= v.iov_len;
      continue;
    }
    std::size_t n = std::min(v.iov_len - skip, max - done);
    copy(static_cast<std::uint8_t*>(v.iov_base) + skip, done, n);
    done += n;
    skip = 0;
  }
  return done;
}

// Copies up to `max` bytes of `iov`, starting `skip` bytes into it, to `out`.
std::size_t gather(std::span<const iovec> iov, std::size_t skip, std::size_t max, std::uint8_t* out) {
  return walk_iov(iov, skip, max, [out](const std::uint8_t* piece, std::size_t at, std::size_t n) {
    std::memcpy(out + at, piece, n);
  });
}

// The flags of the program's call that matter for the raw socket operation.
constexpr int kPassedSendFlags = MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE;

}  // namespace

CompressedSocket::CompressedSocket(int fd, RawSocketCalls calls) : fd_(fd), calls_(calls) {}

ssize_t CompressedSocket::write_pending(int flags) {
  while (pending_pos_ < pending_.size()) {
    ssize_t n = calls_.send(fd_, pending_.data() + pending_pos_, pending_.size() - pending_pos_, flags & kPassedSendFlags);
    if (n < 0) {
      // The chunk's plaintext is already part of the stream: finish it after a signal.
      if (errno == EINTR) continue;
      return -1;
    }
    pending_pos_ += static_cast<std::size_t>(n);
  }
  pending_.clear();
  pending_pos_ = 0;
  return 0;
}

int CompressedSocket::flush(int flags) { return static_cast<int>(write_pending(flags)); }

ssize_t CompressedSocket::send(std::span<const iovec> iov, int flags) {
  const std::size_t total = total_length(iov);
  // What waits from an earlier call goes first; until it has, nothing new is taken.
  if (has_pending_output() && write_pending(flags) < 0) return -1;
  if (total == 0) return 0;
  std::vector<std::uint8_t> chunk(std::min(total, kMaxChunk));
  std::size_t taken = 0;
  while (taken < total) {
    std::size_t n = gather(iov, taken, kMaxChunk, chunk.data());
    pending_.resize(StreamEncoder::max_output(n));
    pending_.resize(encoder_.compress(std::span(chunk.data(), n), pending_));
    pending_pos_ = 0;
    taken += n;  // compressed: part of the stream whatever the socket does now
    if (write_pending(flags) < 0) {
      // A full socket keeps the rest of this chunk; another error ends the call, which
      // reports what it took before (the connection is failing anyway).
      if (errno == EAGAIN || errno == EWOULDBLOCK) return static_cast<ssize_t>(taken);
      return taken > n ? static_cast<ssize_t>(taken - n) : -1;
    }
  }
  return static_cast<ssize_t>(taken);
}

ssize_t CompressedSocket::copy_out(std::span<const iovec> iov, std::size_t skip, bool consume) {
  const std::uint8_t* from = plain_.data() + plain_pos_;
  std::size_t copied = walk_iov(iov, skip, plain_.size() - plain_pos_,
                                [from](std::uint8_t* piece, std::size_t at, std::size_t n) {
                                  std::memcpy(piece, from + at, n);
                                });
  if (consume) {
    plain_pos_ += copied;
    if (plain_pos_ == plain_.size()) {
      plain_.clear();
      plain_pos_ = 0;
    }
  }
  return static_cast<ssize_t>(copied);
}

int CompressedSocket::fill(int flags) {
  if (error_) {
    errno = error_;
    return -1;
  }
  plain_.clear();
  plain_pos_ = 0;
  for (;;) {
    plain_.resize(kPlainBuffer);
    StreamDecoder::Progress p;
    try {
      p = decoder_.decompress(input_, plain_);
    } catch (const CodecError& e) {
      plain_.clear();
      error_text_ = e.what();
      errno = error_ = EBADMSG;
      return -1;
    }
    input_.erase(input_.begin(), input_.begin() + static_cast<long>(p.consumed));
    decoder_full_ = p.produced == kPlainBuffer;
    plain_.resize(p.produced);
    if (p.produced > 0) return 1;
    if (eof_) {
      if (decoder_.at_flush_boundary()) return 0;
      error_text_ = "the peer closed the connection in the middle of a compressed block";
      errno = error_ = ECONNABORTED;
      return -1;
    }
    // Everything read is decoded or held inside the decoder: read more.
    input_.resize(kInputBuffer);
    ssize_t n = calls_.recv(fd_, input_.data(), input_.size(), flags & MSG_DONTWAIT);
    input_.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    if (n < 0) return -1;
    if (n == 0) eof_ = true;
  }
}

ssize_t CompressedSocket::recv(std::span<const iovec> iov, int flags) {
  const std::size_t want = total_length(iov);
  if (want == 0) return 0;
  const bool peek = flags & MSG_PEEK;
  const bool wait_all = (flags & MSG_WAITALL) && !peek;
  std::size_t got = 0;
  for (;;) {
    if (plain_pos_ < plain_.size()) {
      got += static_cast<std::size_t>(copy_out(iov, got, !peek));
      if (!wait_all || got == want) return static_cast<ssize_t>(got);
    }
    int r = fill(flags);
    if (r > 0) continue;
    if (r == 0 || got > 0) return static_cast<ssize_t>(got);  // end of stream, or what came before an error
    return -1;
  }
}

}  // namespace bpfplug::datapath
