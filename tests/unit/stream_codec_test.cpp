// tcp_comp's stream format (datapath/stream_codec.hpp): round trips at any split of the
// stream, each write decodable on its own, bounded memory, and streams the format refuses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_frameHeaderSize
#include <zstd.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "bpfplug/datapath/stream_codec.hpp"
#include "bpfplug/comp_calibration.hpp"
#include "test_files.hpp"

namespace bpfplug::datapath {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

// 1 MiB of JSON request-log lines (the calibration corpus): compressible like real traffic.
const std::string& text() {
  static const std::string corpus = builtin_corpus(1u << 20);
  return corpus;
}

Bytes random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

// What a sender's writes put on the wire: each write in chunks of at most kMaxChunk, each
// chunk compressed and flushed. Also returns where each write's bytes end.
struct Wire {
  Bytes stream;
  std::vector<std::size_t> write_ends;
};
Wire send(const std::vector<Bytes>& writes) {
  StreamEncoder encoder;
  Wire wire;
  Bytes buf(StreamEncoder::max_output(kMaxChunk));
  for (const auto& w : writes) {
    for (std::size_t off = 0; off < w.size(); off += kMaxChunk) {
      std::span<const std::uint8_t> chunk(w.data() + off, std::min(kMaxChunk, w.size() - off));
      std::size_t n = encoder.compress(chunk, buf);
      wire.stream.insert(wire.stream.end(), buf.begin(), buf.begin() + static_cast<long>(n));
    }
    wire.write_ends.push_back(wire.stream.size());
  }
  return wire;
}

// Feeds `stream` in pieces whose sizes `next_piece` chooses, draining into `out_page`-byte pages.
template <typename NextPiece>
Bytes receive(const Bytes& stream, NextPiece next_piece, std::size_t out_page = 65536) {
  StreamDecoder decoder;
  Bytes got, page(out_page);
  std::size_t off = 0;
  while (off < stream.size()) {
    std::size_t n = std::min(next_piece(), stream.size() - off);
    std::span<const std::uint8_t> in(stream.data() + off, n);
    for (;;) {
      auto p = decoder.decompress(in, page);
      got.insert(got.end(), page.begin(), page.begin() + static_cast<long>(p.produced));
      in = in.subspan(p.consumed);
      if (in.empty() && p.produced < page.size()) break;
    }
    off += n;
  }
  EXPECT_TRUE(decoder.at_flush_boundary());
  return got;
}

Bytes concat(const std::vector<Bytes>& parts) {
  Bytes all;
  for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}

std::vector<Bytes> mixed_writes() {
  const std::string& corpus = text();
  return {bytes_of("x"), bytes_of(corpus.substr(0, 100)), {}, bytes_of(corpus.substr(0, kMaxChunk)),
          bytes_of(corpus.substr(1000, 300'000)), random_bytes(70'000, 1), bytes_of(corpus.substr(5, 1))};
}

TEST(StreamCodec, RoundTripsWhateverTheSplitOfTheIncomingBytes) {
  auto writes = mixed_writes();
  const Bytes plain = concat(writes);
  const Wire wire = send(writes);
  EXPECT_LT(wire.stream.size(), plain.size() * 6 / 10) << "the text part must compress";

  EXPECT_EQ(receive(wire.stream, [] { return std::size_t{1} << 30; }), plain) << "in one piece";
  EXPECT_EQ(receive(wire.stream, [] { return std::size_t{1}; }), plain) << "byte by byte";
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::size_t> piece(1, 3000);
  EXPECT_EQ(receive(wire.stream, [&] { return piece(rng); }), plain) << "random pieces";
  EXPECT_EQ(receive(wire.stream, [] { return std::size_t{1460}; }, 1), plain) << "one-byte output pages";
}

TEST(StreamCodec, EachWriteDecodesAsSoonAsItsBytesArrive) {
  auto writes = mixed_writes();
  const Wire wire = send(writes);
  StreamDecoder decoder;
  Bytes page(1 << 20);
  std::size_t from = 0;
  for (std::size_t i = 0; i < writes.size(); ++i) {
    std::span<const std::uint8_t> in(wire.stream.data() + from, wire.write_ends[i] - from);
    auto p = decoder.decompress(in, page);
    EXPECT_EQ(p.consumed, in.size());
    EXPECT_EQ(Bytes(page.begin(), page.begin() + static_cast<long>(p.produced)), writes[i]) << "write " << i;
    EXPECT_TRUE(decoder.at_flush_boundary()) << "write " << i;
    from = wire.write_ends[i];
  }
}

TEST(StreamCodec, ATruncatedStreamIsNotAtAFlushBoundary) {
  const Wire wire = send({bytes_of(text().substr(0, 50'000))});
  for (std::size_t cut : {std::size_t{1}, std::size_t{4}, wire.stream.size() / 2, wire.stream.size() - 1}) {
    StreamDecoder decoder;
    Bytes page(1 << 20);
    decoder.decompress(std::span(wire.stream.data(), cut), page);
    EXPECT_FALSE(decoder.at_flush_boundary()) << "cut at " << cut << " of " << wire.stream.size();
  }
}

TEST(StreamCodec, BytesThatAreNoZstdStreamAreRefused) {
  StreamDecoder decoder;
  Bytes page(4096);
  Bytes http = bytes_of("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THROW(decoder.decompress(http, page), CodecError);
  EXPECT_THROW(decoder.decompress(http, page), CodecError) << "stays failed";
}

TEST(StreamCodec, BrokenStructureIsRefused) {
  const Wire wire = send({bytes_of(text().substr(0, 200'000))});
  const std::size_t header = ZSTD_frameHeaderSize(wire.stream.data(), wire.stream.size());
  ASSERT_FALSE(ZSTD_isError(header));
  auto refused = [](Bytes bad) {
    try {
      receive(bad, [] { return std::size_t{4096}; });
    } catch (const CodecError&) {
      return true;
    }
    return false;
  };
  Bytes bad = wire.stream;
  bad[0] ^= 0xff;  // not zstd's magic number
  EXPECT_TRUE(refused(bad));
  bad = wire.stream;
  bad[header] |= 0x6;  // the first block's type: 3 is reserved (RFC 8878 sec. 3.1.1.2.2)
  EXPECT_TRUE(refused(bad));
  bad = wire.stream;
  bad[header + 1] = bad[header + 2] = 0xff;  // a block larger than 128 KiB
  EXPECT_TRUE(refused(bad));
}

TEST(StreamCodec, RandomBitFlipsNeverCrashTheDecoder) {
  // tcp_comp's frames carry no checksum (it would come at a frame end, which never comes), so a
  // flipped literal byte can decode to other bytes; TCP's checksum guards the bytes in flight.
  // What the decoder guarantees: a CodecError or bounded output, never a crash or another error.
  const Bytes plain = bytes_of(text().substr(0, 200'000));
  const Wire wire = send({plain});
  std::mt19937 rng(11);
  int refused = 0, differed = 0, trials = 300;
  for (int t = 0; t < trials; ++t) {
    Bytes bad = wire.stream;
    bad[rng() % bad.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    try {
      Bytes out = receive(bad, [] { return std::size_t{4096}; });
      EXPECT_LE(out.size(), plain.size() + (std::size_t{1} << 17));
      differed += out != plain;
    } catch (const CodecError&) {
      ++refused;
    }
  }
  std::printf("of %d single bit flips: %d refused, %d decoded to other bytes\n", trials, refused, differed);
  EXPECT_GT(refused, 0);
}

TEST(StreamCodec, WindowsOver128KiBAreRefused) {
  // A standard zstd stream whose window is 2^20: more memory than tcp_comp grants a receiver.
  const Bytes plain = bytes_of(text().substr(0, 600'000));
  std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> c(ZSTD_createCCtx(), ZSTD_freeCCtx);
  ZSTD_CCtx_setParameter(c.get(), ZSTD_c_windowLog, 20);
  Bytes big(ZSTD_compressBound(plain.size()));
  std::size_t n = ZSTD_compress2(c.get(), big.data(), big.size(), plain.data(), plain.size());
  ASSERT_FALSE(ZSTD_isError(n));
  big.resize(n);
  StreamDecoder decoder;
  Bytes page(65536);
  EXPECT_THROW(
      {
        std::span<const std::uint8_t> in(big);
        for (int i = 0; i < 100; ++i) in = in.subspan(decoder.decompress(in, page).consumed);
      },
      CodecError);

  // The same with a 2^17 window is accepted: any zstd encoder within the limit interoperates.
  ZSTD_CCtx_setParameter(c.get(), ZSTD_c_windowLog, kWindowLogMax);
  big.resize(ZSTD_compressBound(plain.size()));
  n = ZSTD_compress2(c.get(), big.data(), big.size(), plain.data(), plain.size());
  big.resize(n);
  EXPECT_EQ(receive(big, [] { return std::size_t{10'000}; }), plain);
}

TEST(StreamCodec, MemoryStaysWithinItsBound) {
  StreamEncoder encoder;
  StreamDecoder decoder;
  Bytes page(65536), buf(StreamEncoder::max_output(kMaxChunk));
  const std::string& corpus = text();
  for (std::size_t off = 0; off + kMaxChunk <= corpus.size(); off += kMaxChunk) {
    std::size_t n = encoder.compress(std::span(reinterpret_cast<const std::uint8_t*>(corpus.data()) + off, kMaxChunk), buf);
    std::span<const std::uint8_t> in(buf.data(), n);
    while (!in.empty()) in = in.subspan(decoder.decompress(in, page).consumed);
  }
  std::printf("encoder %zu bytes (bound %zu), decoder %zu bytes (bound %zu), largest compressed chunk %zu bytes\n",
              encoder.memory_used(), encoder.memory_bound(), decoder.memory_used(), StreamDecoder::memory_bound(),
              StreamEncoder::max_output(kMaxChunk));
  EXPECT_LE(encoder.memory_used(), encoder.memory_bound());
  EXPECT_LE(decoder.memory_used(), StreamDecoder::memory_bound());
  EXPECT_LE(StreamDecoder::memory_bound(), std::size_t{1} << 20) << "tcp_comp itself takes about 2 MiB";
}

TEST(StreamCodec, ChunksAndBuffersOutOfBoundsAreRefused) {
  StreamEncoder encoder;
  Bytes big(kMaxChunk + 1), out(StreamEncoder::max_output(kMaxChunk + 1));
  EXPECT_THROW(encoder.compress(big, out), std::length_error);
  Bytes small(10);
  EXPECT_THROW(encoder.compress(std::span(big.data(), 100), small), std::length_error);
}

// The reference zstd tool decodes the stream: what an openEuler peer's kernel reads is what
// the tool reads. The frame never ends (tcp_comp never ends it), so the tool decodes every
// byte and then reports the premature end.
TEST(StreamCodec, TheZstdCommandLineToolDecodesTheStream) {
  if (std::system("zstd --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "no zstd tool (scripts/setup.sh installs it)";
  auto writes = mixed_writes();
  const Wire wire = send(writes);
  test::TempDir dir;
  test::write_file(dir.path() / "stream", std::string(wire.stream.begin(), wire.stream.end()));
  std::string cmd = "zstd -dc " + (dir.path() / "stream").string() + " >" + (dir.path() / "out").string() + " 2>" +
                    (dir.path() / "err").string();
  std::system(cmd.c_str());
  const Bytes plain = concat(writes);
  EXPECT_EQ(test::read_file(dir.path() / "out"), std::string(plain.begin(), plain.end()));
  EXPECT_THAT(test::read_file(dir.path() / "err"), ::testing::HasSubstr("premature end"));
}

}  // namespace
}  // namespace bpfplug::datapath
