#include "bpfplug/comp_calibration.hpp"

// ZSTD_getCParams(): the parameters tcp_comp takes (exported by the shared libzstd too).
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include <array>
#include <chrono>
#include <cmath>
#include <ctime>
#include <memory>
#include <random>
#include <vector>

#include "bpfplug/error.hpp"

namespace bpfplug {
namespace {

constexpr std::size_t kChunk = 65535;          // tcp_comp's largest input chunk
constexpr int kWindowLogMax = 17;              // tcp_comp's receiver accepts 128 KiB windows
constexpr std::size_t kDecompressPage = 65536;  // and decompresses into 64 KiB pages

struct CctxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DctxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

void check(std::size_t rc, const char* what) {
  if (ZSTD_isError(rc))
    throw Error(Exit::failure, std::string("zstd: ") + what + ": " + ZSTD_getErrorName(rc),
                "this is a bug in bpfplug's calibration; report it with the zstd version (" +
                    std::string(ZSTD_versionString()) + ")");
}

// tcp_comp's compressor: ZSTD_getParams(level, 4096, 0), one frame that never ends, a flush
// after every chunk.
std::unique_ptr<ZSTD_CCtx, CctxFree> make_compressor(int level) {
  std::unique_ptr<ZSTD_CCtx, CctxFree> c(ZSTD_createCCtx());
  if (!c) throw Error(Exit::failure, "zstd: out of memory");
  ZSTD_compressionParameters p = ZSTD_getCParams(level, 4096, 0);
  check(ZSTD_CCtx_setParameter(c.get(), ZSTD_c_windowLog, static_cast<int>(p.windowLog)), "windowLog");
  check(ZSTD_CCtx_setParameter(c.get(), ZSTD_c_chainLog, static_cast<int>(p.chainLog)), "chainLog");
  check(ZSTD_CCtx_setParameter(c.get(), ZSTD_c_hashLog, static_cast<int>(p.hashLog)), "hashLog");
  check(ZSTD_CCtx_setParameter(c.get(), ZSTD_c_searchLog, static_cast<int>(p.searchLog)), "searchLog");
  check(ZSTD_CCtx_setParameter(c.get(), ZSTD_c_minMatch, static_cast<int>(p.minMatch)), "minMatch");
  check(ZSTD_CCtx_setParameter(c.get(), ZSTD_c_targetLength, static_cast<int>(p.targetLength)), "targetLength");
  check(ZSTD_CCtx_setParameter(c.get(), ZSTD_c_strategy, static_cast<int>(p.strategy)), "strategy");
  return c;
}

// The whole corpus through one stream, chunk by chunk; the compressed stream.
std::string compress_stream(std::string_view corpus, int level) {
  auto c = make_compressor(level);
  std::string out;
  std::vector<char> buf(ZSTD_compressBound(kChunk) + 64);
  for (std::size_t off = 0; off < corpus.size(); off += kChunk) {
    ZSTD_inBuffer in{corpus.data() + off, std::min(kChunk, corpus.size() - off), 0};
    std::size_t remaining;
    do {
      ZSTD_outBuffer o{buf.data(), buf.size(), 0};
      remaining = ZSTD_compressStream2(c.get(), &o, &in, ZSTD_e_flush);
      check(remaining, "compress");
      out.append(buf.data(), o.pos);
    } while (remaining != 0 || in.pos < in.size);
  }
  return out;
}

// Decompresses `stream` in the pieces it was sent in; returns the bytes out, and compares them
// with `expect` when given.
std::uint64_t decompress_stream(std::string_view stream, std::string_view expect) {
  std::unique_ptr<ZSTD_DCtx, DctxFree> d(ZSTD_createDCtx());
  if (!d) throw Error(Exit::failure, "zstd: out of memory");
  check(ZSTD_DCtx_setParameter(d.get(), ZSTD_d_windowLogMax, kWindowLogMax), "windowLogMax");
  std::vector<char> page(kDecompressPage);
  std::uint64_t produced = 0;
  ZSTD_inBuffer in{stream.data(), stream.size(), 0};
  while (in.pos < in.size) {
    ZSTD_outBuffer o{page.data(), page.size(), 0};
    check(ZSTD_decompressStream(d.get(), &o, &in), "decompress");
    if (!expect.empty() && (produced + o.pos > expect.size() ||
                            std::string_view(page.data(), o.pos) != expect.substr(produced, o.pos)))
      throw Error(Exit::failure, "zstd: the calibration stream did not decompress to its input");
    produced += o.pos;
  }
  return produced;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

double Calibration::break_even_bytes_per_s(unsigned headroom_pct) const {
  double vc = vc_bytes_per_s * std::min(headroom_pct, 100u) / 100.0;
  if (ratio >= 1 || vc <= 0 || vd_bytes_per_s <= 0) return 0;
  return (1 - ratio) / (1 / vc + 1 / vd_bytes_per_s);
}

bpfplug_comp_calibration Calibration::to_map_value() const {
  bpfplug_comp_calibration v{};
  v.vc_bps = static_cast<std::uint64_t>(vc_bytes_per_s);
  v.vd_bps = static_cast<std::uint64_t>(vd_bytes_per_s);
  v.ratio_q = static_cast<std::uint32_t>(std::lround(ratio * BPFPLUG_COMP_ONE));
  v.codec = BPFPLUG_COMP_CODEC_ZSTD_STREAM;
  v.level = level;
  v.measured_at = measured_at;
  return v;
}

Calibration Calibration::from_map_value(const bpfplug_comp_calibration& v) {
  Calibration c;
  c.vc_bytes_per_s = static_cast<double>(v.vc_bps);
  c.vd_bytes_per_s = static_cast<double>(v.vd_bps);
  c.ratio = static_cast<double>(v.ratio_q) / BPFPLUG_COMP_ONE;
  c.level = v.level;
  c.measured_at = v.measured_at;
  return c;
}

std::string builtin_corpus(std::size_t bytes) {
  static constexpr std::array<const char*, 8> kMethods = {"GET", "GET", "GET", "POST", "GET", "PUT", "GET", "DELETE"};
  static constexpr std::array<const char*, 10> kPaths = {
      "/api/v1/orders", "/api/v1/users", "/static/app.js", "/api/v1/cart/items", "/health",
      "/api/v2/search", "/images/banner.png", "/api/v1/payments", "/login", "/api/v1/inventory"};
  static constexpr std::array<const char*, 5> kAgents = {
      "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
      "curl/7.88.1", "okhttp/4.12.0", "Go-http-client/1.1"};
  static constexpr std::array<int, 6> kStatus = {200, 200, 200, 304, 404, 500};
  std::mt19937_64 rng(20261122);  // fixed: the same corpus on every machine
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  std::string out;
  out.reserve(bytes + 512);
  std::uint64_t ts = 1'790'000'000'000;
  char line[640];
  while (out.size() < bytes) {
    ts += pick(40);
    int n = std::snprintf(
        line, sizeof line,
        "{\"ts\":%llu,\"client\":\"10.%zu.%zu.%zu\",\"method\":\"%s\",\"path\":\"%s/%zu\",\"status\":%d,"
        "\"bytes\":%zu,\"ms\":%.3f,\"agent\":\"%s\",\"request_id\":\"%016llx\",\"user\":%zu}\n",
        static_cast<unsigned long long>(ts), pick(4), pick(256), pick(256), kMethods[pick(kMethods.size())],
        kPaths[pick(kPaths.size())], pick(100000), kStatus[pick(kStatus.size())], pick(200000),
        static_cast<double>(pick(500000)) / 1000, kAgents[pick(kAgents.size())],
        static_cast<unsigned long long>(rng()), pick(50000));
    out.append(line, static_cast<std::size_t>(n));
  }
  out.resize(bytes);
  return out;
}

Calibration calibrate_zstd(std::string_view corpus, int level, double min_seconds) {
  if (corpus.empty()) throw Error(Exit::usage, "the calibration corpus is empty", "give a file with data in it");
  Calibration cal;
  cal.level = level;
  cal.corpus_bytes = corpus.size();
  std::string stream = compress_stream(corpus, level);
  decompress_stream(stream, corpus);  // a codec that does not round-trip is no codec
  cal.ratio = static_cast<double>(stream.size()) / static_cast<double>(corpus.size());

  std::uint64_t in_bytes = 0;
  auto t0 = std::chrono::steady_clock::now();
  do {
    in_bytes += corpus.size();
    if (compress_stream(corpus, level).size() != stream.size())
      throw Error(Exit::failure, "zstd: the same input compressed to a different size");
  } while (seconds_since(t0) < min_seconds);
  cal.vc_bytes_per_s = static_cast<double>(in_bytes) / seconds_since(t0);

  std::uint64_t out_bytes = 0;
  t0 = std::chrono::steady_clock::now();
  do out_bytes += decompress_stream(stream, {});
  while (seconds_since(t0) < min_seconds);
  cal.vd_bytes_per_s = static_cast<double>(out_bytes) / seconds_since(t0);
  cal.measured_at = static_cast<std::uint64_t>(std::time(nullptr));
  return cal;
}

}  // namespace bpfplug
