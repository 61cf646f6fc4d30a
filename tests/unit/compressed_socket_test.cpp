// CompressedSocket (datapath/compressed_socket.hpp) over real stream sockets (AF_UNIX
// socketpairs): byte-exact transfers with blocking and non-blocking senders, partial reads,
// MSG_PEEK, MSG_WAITALL, and streams that are corrupt or cut short.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bpfplug/comp_calibration.hpp"
#include "bpfplug/datapath/compressed_socket.hpp"
#include "bpfplug/unique_fd.hpp"

namespace bpfplug::datapath {
namespace {

struct Pair {
  UniqueFd a, b;
};
Pair socket_pair() {
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

ssize_t send_all(CompressedSocket& s, const std::string& data, int flags = 0) {
  iovec v{const_cast<char*>(data.data()), data.size()};
  return s.send(std::span(&v, 1), flags);
}

ssize_t recv_some(CompressedSocket& s, std::string& buf, int flags = 0) {
  iovec v{buf.data(), buf.size()};
  return s.recv(std::span(&v, 1), flags);
}

// Everything until the end of the stream, read into buffers of random sizes.
std::string read_to_end(CompressedSocket& s, std::uint64_t seed) {
  std::mt19937 rng(static_cast<unsigned>(seed));
  std::string all;
  for (;;) {
    std::string buf(1 + rng() % 100'000, '\0');
    ssize_t n = recv_some(s, buf);
    if (n <= 0) {
      EXPECT_EQ(n, 0) << strerror(errno) << " / " << s.stream_error();
      return all;
    }
    all.append(buf, 0, static_cast<std::size_t>(n));
  }
}

const std::string& text() {
  static const std::string corpus = builtin_corpus(4u << 20);
  return corpus;
}

TEST(CompressedSocket, BlockingTransferIsByteExact) {
  auto [a, b] = socket_pair();
  std::thread sender([&, fd = a.get()] {
    CompressedSocket s(fd);
    std::mt19937 rng(3);
    // Writes of 1 byte to 300 kB, and an iovec of three pieces.
    for (std::size_t off = 0; off < text().size();) {
      std::size_t n = std::min<std::size_t>(text().size() - off, 1 + rng() % 300'000);
      ASSERT_EQ(send_all(s, text().substr(off, n)), static_cast<ssize_t>(n));
      off += n;
    }
    std::string x = "head", y, z = "tail";
    iovec v[3] = {{x.data(), x.size()}, {y.data(), 0}, {z.data(), z.size()}};
    ASSERT_EQ(s.send(v, 0), 8);
    shutdown(fd, SHUT_WR);
  });
  CompressedSocket r(b.get());
  std::string got = read_to_end(r, 1);
  sender.join();
  EXPECT_EQ(got.size(), text().size() + 8);
  EXPECT_TRUE(got == text() + "headtail");
}

TEST(CompressedSocket, NonBlockingSenderTakesWhatFitsAndFinishesLater) {
  auto [a, b] = socket_pair();
  int small = 16 * 1024;
  setsockopt(a.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  set_nonblocking(a.get());
  std::string got;
  std::thread receiver_thread([&, fd = b.get()] {
    CompressedSocket r(fd);
    got = read_to_end(r, 2);
  });
  CompressedSocket s(a.get());
  // Random bytes do not compress: the socket fills quickly.
  std::mt19937_64 rng(9);
  std::string data(3u << 20, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  std::size_t off = 0;
  int partial = 0, would_block = 0;
  while (off < data.size() || s.has_pending_output()) {
    ssize_t n = off < data.size() ? send_all(s, data.substr(off, 200'000)) : s.flush(0);
    if (n < 0) {
      ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << strerror(errno);
      ++would_block;
      pollfd p{a.get(), POLLOUT, 0};
      poll(&p, 1, 1000);
      continue;
    }
    if (off < data.size()) {
      partial += n < 200'000 && off + static_cast<std::size_t>(n) < data.size();
      off += static_cast<std::size_t>(n);
    }
  }
  shutdown(a.get(), SHUT_WR);
  receiver_thread.join();
  EXPECT_GT(partial, 0);
  EXPECT_GT(would_block, 0);
  EXPECT_TRUE(got == data);
}

TEST(CompressedSocket, PeekWaitAllAndSmallReads) {
  auto [a, b] = socket_pair();
  CompressedSocket s(a.get()), r(b.get());
  ASSERT_EQ(send_all(s, "hello, world"), 12);
  std::string buf(5, '\0');
  ASSERT_EQ(recv_some(r, buf, MSG_PEEK), 5);
  EXPECT_EQ(buf, "hello");
  ASSERT_EQ(recv_some(r, buf), 5);
  EXPECT_EQ(buf, "hello");
  EXPECT_TRUE(r.has_buffered_input()) << "the rest is decoded and waits: poll must say readable";
  std::string rest(100, '\0');
  ASSERT_EQ(recv_some(r, rest), 7);
  EXPECT_EQ(rest.substr(0, 7), ", world");
  EXPECT_FALSE(r.has_buffered_input());

  // MSG_WAITALL collects three writes that arrive apart.
  std::thread later([&] {
    for (const char* part : {"abc", "defg", "hij"}) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      send_all(s, part);
    }
  });
  std::string all(10, '\0');
  EXPECT_EQ(recv_some(r, all, MSG_WAITALL), 10);
  EXPECT_EQ(all, "abcdefghij");
  later.join();
}

TEST(CompressedSocket, NonBlockingReceiverWaitsForWholeBlocks) {
  auto [a, b] = socket_pair();
  set_nonblocking(b.get());
  CompressedSocket r(b.get());
  std::string buf(100, '\0');
  EXPECT_EQ(recv_some(r, buf), -1);
  EXPECT_EQ(errno, EAGAIN);
  // Half of a compressed write arrives: no plaintext yet.
  StreamEncoder encoder;
  std::vector<std::uint8_t> wire(StreamEncoder::max_output(10));
  wire.resize(encoder.compress(std::span(reinterpret_cast<const std::uint8_t*>("0123456789"), 10), wire));
  ASSERT_EQ(write(a.get(), wire.data(), wire.size() / 2), static_cast<ssize_t>(wire.size() / 2));
  EXPECT_EQ(recv_some(r, buf), -1);
  EXPECT_EQ(errno, EAGAIN);
  ASSERT_GT(write(a.get(), wire.data() + wire.size() / 2, wire.size() - wire.size() / 2), 0);
  ASSERT_EQ(recv_some(r, buf), 10);
  EXPECT_EQ(buf.substr(0, 10), "0123456789");
}

// 4 MiB of one byte compress to a few hundred bytes, which one read from the socket takes in
// whole: every byte of it must then be readable without the socket (what makes poll and
// epoll report it), though far more than the 64 KiB decode buffer.
TEST(CompressedSocket, EverythingReadFromTheSocketCountsAsBufferedInput) {
  auto [a, b] = socket_pair();
  CompressedSocket w(a.get()), r(b.get());
  const std::string zeros(4u << 20, '0');
  ASSERT_EQ(send_all(w, zeros), static_cast<ssize_t>(zeros.size()));
  a = UniqueFd();  // nothing more will come: a read from the socket would return 0
  set_nonblocking(b.get());
  std::string buf(16384, '\0');
  std::size_t total = 0;
  ASSERT_EQ(recv_some(r, buf), 16384);
  total += 16384;
  while (r.has_buffered_input()) {
    ssize_t n = recv_some(r, buf, MSG_DONTWAIT);
    ASSERT_GE(n, 0) << strerror(errno);
    if (n == 0) break;  // the last decode filled the buffer exactly: one read finds the end
    total += static_cast<std::size_t>(n);
  }
  EXPECT_EQ(total, zeros.size()) << "bytes left behind without has_buffered_input() saying so";
}

TEST(CompressedSocket, ACorruptStreamFailsWithEbadmsgFromThenOn) {
  auto [a, b] = socket_pair();
  const char garbage[] = "GET / HTTP/1.1\r\n\r\n";
  ASSERT_GT(write(a.get(), garbage, sizeof garbage), 0);
  CompressedSocket r(b.get());
  std::string buf(100, '\0');
  EXPECT_EQ(recv_some(r, buf), -1);
  EXPECT_EQ(errno, EBADMSG);
  EXPECT_FALSE(r.stream_error().empty());
  EXPECT_EQ(recv_some(r, buf), -1);
  EXPECT_EQ(errno, EBADMSG);
}

TEST(CompressedSocket, AStreamCutInsideABlockFailsWithEconnaborted) {
  auto [a, b] = socket_pair();
  // A sender's stream: one whole write, then half of the next one's bytes, then the end.
  StreamEncoder sender;
  auto wire_of = [&](std::string_view plain) {
    std::vector<std::uint8_t> wire(StreamEncoder::max_output(plain.size()));
    wire.resize(sender.compress(std::span(reinterpret_cast<const std::uint8_t*>(plain.data()), plain.size()), wire));
    return wire;
  };
  auto first = wire_of("complete");
  auto second = wire_of(text().substr(0, 1000));
  ASSERT_EQ(write(a.get(), first.data(), first.size()), static_cast<ssize_t>(first.size()));
  ASSERT_GT(write(a.get(), second.data(), second.size() / 2), 0);
  a.reset();
  CompressedSocket r(b.get());
  std::string buf(100, '\0');
  ASSERT_EQ(recv_some(r, buf), 8);
  EXPECT_EQ(buf.substr(0, 8), "complete");
  EXPECT_EQ(recv_some(r, buf), -1);
  EXPECT_EQ(errno, ECONNABORTED);
  EXPECT_NE(r.stream_error().find("middle of a compressed block"), std::string::npos);
  EXPECT_EQ(recv_some(r, buf), -1) << "and from then on";
  EXPECT_EQ(errno, ECONNABORTED);
}

TEST(CompressedSocket, CleanEndOfStreamReadsZero) {
  auto [a, b] = socket_pair();
  {
    CompressedSocket s(a.get());
    ASSERT_EQ(send_all(s, "bye"), 3);
  }
  a.reset();
  CompressedSocket r(b.get());
  std::string buf(10, '\0');
  EXPECT_EQ(recv_some(r, buf), 3);
  EXPECT_EQ(recv_some(r, buf), 0);
}

}  // namespace
}  // namespace bpfplug::datapath
