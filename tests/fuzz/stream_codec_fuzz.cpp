// libFuzzer target for the tcp_comp stream codec (datapath/stream_codec.hpp); built and run by
// scripts/fuzz.sh with AddressSanitizer and UndefinedBehaviorSanitizer.
//
// The first input byte chooses the mode and the split points; the rest is the data.
//   bit 7 = 0: the data is a received stream. It is fed in pieces of (bits 0-5) + 1 bytes into
//              output pages of 4096 bytes (bit 6 = 0) or 7 bytes (bit 6 = 1). A CodecError ends
//              it; anything else (a crash, a sanitizer report, another exception) is a finding.
//   bit 7 = 1: the data is what a program sends. It is compressed in chunks of at most 65535
//              bytes, cut where the data says, and received in pieces as above; the bytes out
//              must equal the bytes in, and the stream must end at a flush boundary.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bpfplug/datapath/stream_codec.hpp"

namespace {

using bpfplug::datapath::CodecError;
using bpfplug::datapath::StreamDecoder;
using bpfplug::datapath::StreamEncoder;

// Feeds `stream` in `piece`-byte pieces; returns the bytes out (stops at a CodecError when
// `may_fail`).
std::vector<std::uint8_t> receive(const std::uint8_t* stream, std::size_t size, std::size_t piece, std::size_t page_size,
                                  bool may_fail, bool* boundary) {
  StreamDecoder decoder;
  std::vector<std::uint8_t> out, page(page_size);
  for (std::size_t off = 0; off < size; off += piece) {
    std::span<const std::uint8_t> in(stream + off, std::min(piece, size - off));
    for (;;) {
      StreamDecoder::Progress p;
      try {
        p = decoder.decompress(in, page);
      } catch (const CodecError&) {
        if (!may_fail) std::abort();
        return out;
      }
      // A bounded check on output growth keeps the fuzzer's memory in reach: zstd can expand
      // a few bytes into 128 KiB blocks.
      if (out.size() < (64u << 20)) out.insert(out.end(), page.begin(), page.begin() + static_cast<long>(p.produced));
      in = in.subspan(p.consumed);
      if (in.empty() && p.produced < page.size()) break;
    }
  }
  *boundary = decoder.at_flush_boundary();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  ++data, --size;
  const std::size_t piece = (mode & 0x3f) + 1u;
  const std::size_t page = (mode & 0x40) ? 7 : 4096;
  bool boundary = false;
  if (!(mode & 0x80)) {
    receive(data, size, piece, page, true, &boundary);
    return 0;
  }
  // Round trip: chunk lengths vary with the data itself (byte value * 257 + 1, capped).
  StreamEncoder encoder;
  std::vector<std::uint8_t> stream, buf(StreamEncoder::max_output(bpfplug::datapath::kMaxChunk));
  for (std::size_t off = 0; off < size;) {
    std::size_t n = std::min<std::size_t>({size - off, data[off] * 257u + 1u, bpfplug::datapath::kMaxChunk});
    std::size_t w = encoder.compress(std::span(data + off, n), buf);
    stream.insert(stream.end(), buf.begin(), buf.begin() + static_cast<long>(w));
    off += n;
  }
  auto out = receive(stream.data(), stream.size(), piece, page, false, &boundary);
  if (out.size() != size || (size && std::memcmp(out.data(), data, size) != 0) || !boundary) std::abort();
  return 0;
}
