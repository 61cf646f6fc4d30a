// openEuler tcp_comp's stream format, in user space (../shared/reference/tcp_comp.md):
// zstd, one frame per direction that never ends, every write compressed and flushed so the
// receiver can decode all of it at once, input taken in chunks of at most 65535 bytes,
// compression parameters ZSTD_getParams(level, 4096, 0), and no framing of its own: the TCP
// payload is the raw zstd stream. The receiver accepts windows up to 128 KiB (2^17) and any
// split of the incoming bytes.
//
// Memory per connection is bounded: StreamEncoder::memory_bound() and
// StreamDecoder::memory_bound() (docs/datapath.md gives the figures).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

namespace bpfplug::datapath {

inline constexpr std::size_t kMaxChunk = 65535;   // tcp_comp's largest input per compress+flush
inline constexpr int kWindowLogMax = 17;          // tcp_comp's receivers accept 128 KiB windows
inline constexpr int kDefaultLevel = 1;           // tcp_comp's ZSTD_COMP_DEFAULT_LEVEL

// A stream that is not a valid tcp_comp stream (corrupt, or asking for a larger window).
class CodecError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class StreamEncoder {
 public:
  explicit StreamEncoder(int level = kDefaultLevel);
  ~StreamEncoder();
  StreamEncoder(StreamEncoder&&) noexcept;
  StreamEncoder& operator=(StreamEncoder&&) noexcept;

  // The most compress() can write for `chunk_size` input bytes (<= kMaxChunk).
  static std::size_t max_output(std::size_t chunk_size);

  // Compresses `chunk` (at most kMaxChunk bytes) and flushes: the bytes written to `out`, which
  // must hold max_output(chunk.size()), end where the receiver can decode all of `chunk`.
  // Returns how many bytes were written. Throws std::length_error for a chunk or buffer out of
  // bounds.
  std::size_t compress(std::span<const std::uint8_t> chunk, std::span<std::uint8_t> out);

  std::size_t memory_used() const;    // what zstd holds now
  std::size_t memory_bound() const;   // what it can ever hold for these parameters

 private:
  std::unique_ptr<ZSTD_CCtx_s, void (*)(ZSTD_CCtx_s*)> cctx_;
  std::size_t bound_ = 0;
};

class StreamDecoder {
 public:
  StreamDecoder();
  ~StreamDecoder();
  StreamDecoder(StreamDecoder&&) noexcept;
  StreamDecoder& operator=(StreamDecoder&&) noexcept;

  struct Progress {
    std::size_t consumed = 0;  // bytes of `in` taken (all are kept or decoded; never re-feed them)
    std::size_t produced = 0;  // bytes written to `out`
  };
  // Decodes from `in` into `out` until `in` is used up or `out` is full. Decoded bytes that did
  // not fit stay inside: call again (with more input or none) while produced == out.size().
  // Throws CodecError on a corrupt stream or a window over 2^kWindowLogMax; the decoder is
  // unusable afterwards.
  Progress decompress(std::span<const std::uint8_t> in, std::span<std::uint8_t> out);

  // True when the input so far ends where a sender's flush ends: no part of a block or header
  // is waiting for more bytes. At the end of a connection, false means it was truncated.
  bool at_flush_boundary() const;

  std::size_t memory_used() const;
  static std::size_t memory_bound();

 private:
  std::unique_ptr<ZSTD_DCtx_s, void (*)(ZSTD_DCtx_s*)> dctx_;
  std::size_t hint_ = 0;  // ZSTD_decompressStream's last answer: 0 at a frame's end, else input it wants
  bool fed_ = false;
  bool failed_ = false;
};

}  // namespace bpfplug::datapath
