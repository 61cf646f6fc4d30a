#include "bpfplug/datapath/stream_codec.hpp"

// ZSTD_getCParams, the size estimates and ZSTD_nextInputType are in zstd's "static linking
// only" section; Debian's shared libzstd exports them.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include <utility>

namespace bpfplug::datapath {
namespace {

constexpr std::size_t kBlockHeaderSize = 3;  // RFC 8878 sec. 3.1.1.2: Block_Header is 3 bytes

// tcp_comp takes the parameters zstd picks for a 4096-byte input (a page) at its level.
ZSTD_compressionParameters tcp_comp_params(int level) { return ZSTD_getCParams(level, 4096, 0); }

void check_setup(std::size_t rc, const char* what) {
  // Parameters that zstd itself chose can't be refused; if they are, libzstd is not the one
  // this was built for.
  if (ZSTD_isError(rc)) throw std::runtime_error(std::string("zstd refused ") + what + ": " + ZSTD_getErrorName(rc));
}

void free_cctx(ZSTD_CCtx_s* c) { ZSTD_freeCCtx(c); }
void free_dctx(ZSTD_DCtx_s* d) { ZSTD_freeDCtx(d); }

}  // namespace

StreamEncoder::StreamEncoder(int level) : cctx_(ZSTD_createCCtx(), free_cctx) {
  if (!cctx_) throw std::bad_alloc();
  ZSTD_compressionParameters p = tcp_comp_params(level);
  ZSTD_CCtx* c = cctx_.get();
  check_setup(ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, static_cast<int>(p.windowLog)), "windowLog");
  check_setup(ZSTD_CCtx_setParameter(c, ZSTD_c_chainLog, static_cast<int>(p.chainLog)), "chainLog");
  check_setup(ZSTD_CCtx_setParameter(c, ZSTD_c_hashLog, static_cast<int>(p.hashLog)), "hashLog");
  check_setup(ZSTD_CCtx_setParameter(c, ZSTD_c_searchLog, static_cast<int>(p.searchLog)), "searchLog");
  check_setup(ZSTD_CCtx_setParameter(c, ZSTD_c_minMatch, static_cast<int>(p.minMatch)), "minMatch");
  check_setup(ZSTD_CCtx_setParameter(c, ZSTD_c_targetLength, static_cast<int>(p.targetLength)), "targetLength");
  check_setup(ZSTD_CCtx_setParameter(c, ZSTD_c_strategy, static_cast<int>(p.strategy)), "strategy");
  bound_ = ZSTD_estimateCStreamSize_usingCParams(p);
}

StreamEncoder::~StreamEncoder() = default;
StreamEncoder::StreamEncoder(StreamEncoder&&) noexcept = default;
StreamEncoder& StreamEncoder::operator=(StreamEncoder&&) noexcept = default;

std::size_t StreamEncoder::max_output(std::size_t chunk_size) {
  // compressBound covers the blocks; the frame header (at most 18 bytes) and an empty last
  // block header of a flush fit in the margin.
  return ZSTD_compressBound(chunk_size) + 32;
}

std::size_t StreamEncoder::compress(std::span<const std::uint8_t> chunk, std::span<std::uint8_t> out) {
  if (chunk.size() > kMaxChunk) throw std::length_error("tcp_comp chunks are at most 65535 bytes");
  if (out.size() < max_output(chunk.size())) throw std::length_error("compress output buffer under max_output()");
  ZSTD_inBuffer in{chunk.data(), chunk.size(), 0};
  ZSTD_outBuffer o{out.data(), out.size(), 0};
  std::size_t remaining;
  do {
    remaining = ZSTD_compressStream2(cctx_.get(), &o, &in, ZSTD_e_flush);
    if (ZSTD_isError(remaining)) throw std::runtime_error(std::string("zstd compress: ") + ZSTD_getErrorName(remaining));
    if (remaining != 0 && o.pos == o.size) throw std::length_error("compress output exceeded max_output()");
  } while (remaining != 0 || in.pos < in.size);
  return o.pos;
}

std::size_t StreamEncoder::memory_used() const { return ZSTD_sizeof_CCtx(cctx_.get()); }
std::size_t StreamEncoder::memory_bound() const { return bound_; }

StreamDecoder::StreamDecoder() : dctx_(ZSTD_createDCtx(), free_dctx) {
  if (!dctx_) throw std::bad_alloc();
  check_setup(ZSTD_DCtx_setParameter(dctx_.get(), ZSTD_d_windowLogMax, kWindowLogMax), "windowLogMax");
}

StreamDecoder::~StreamDecoder() = default;
StreamDecoder::StreamDecoder(StreamDecoder&&) noexcept = default;
StreamDecoder& StreamDecoder::operator=(StreamDecoder&&) noexcept = default;

StreamDecoder::Progress StreamDecoder::decompress(std::span<const std::uint8_t> in, std::span<std::uint8_t> out) {
  if (failed_) throw CodecError("the compressed stream was already found corrupt");
  ZSTD_inBuffer i{in.data(), in.size(), 0};
  ZSTD_outBuffer o{out.data(), out.size(), 0};
  // One call decodes at most a block; loop until the input is used up or the output is full.
  while (o.pos < o.size) {
    const std::size_t in_before = i.pos, out_before = o.pos;
    std::size_t rc = ZSTD_decompressStream(dctx_.get(), &o, &i);
    if (ZSTD_isError(rc)) {
      failed_ = true;
      throw CodecError(std::string("corrupt compressed stream: ") + ZSTD_getErrorName(rc));
    }
    if (i.pos == in_before && o.pos == out_before) break;  // needs more input
    // Only a call that moved tells where the stream is: one without input after a frame's
    // end would report the next frame's header as wanted.
    hint_ = rc;
    fed_ = true;
  }
  return {i.pos, o.pos};
}

bool StreamDecoder::at_flush_boundary() const {
  if (!fed_ || hint_ == 0) return true;  // nothing yet, or a frame that ended (tcp_comp's never do)
  // Waiting for a whole block header (3 bytes), none of it buffered: the sender's flush ended
  // a block here.
  return ZSTD_nextInputType(dctx_.get()) == ZSTDnit_blockHeader && hint_ == kBlockHeaderSize;
}

std::size_t StreamDecoder::memory_used() const { return ZSTD_sizeof_DCtx(dctx_.get()); }
std::size_t StreamDecoder::memory_bound() { return ZSTD_estimateDStreamSize(std::size_t{1} << kWindowLogMax); }

}  // namespace bpfplug::datapath
