#include "bpfplug/comp_calibration.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <ctime>
#include <random>
#include <string_view>
#include <vector>

#include "bpfplug/datapath/stream_codec.hpp"
#include "bpfplug/error.hpp"

namespace bpfplug {
namespace {

constexpr std::size_t kDecompressPage = 65536;  // tcp_comp decompresses into 64 KiB pages

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// The whole corpus through one tcp_comp stream, chunk by chunk (datapath/stream_codec.hpp);
// the compressed stream.
std::string compress_stream(std::string_view corpus, int level) {
  datapath::StreamEncoder encoder(level);
  std::string out;
  std::vector<std::uint8_t> buf(datapath::StreamEncoder::max_output(datapath::kMaxChunk));
  for (std::size_t off = 0; off < corpus.size(); off += datapath::kMaxChunk) {
    std::size_t n = encoder.compress(bytes(corpus.substr(off, datapath::kMaxChunk)), buf);
    out.append(reinterpret_cast<const char*>(buf.data()), n);
  }
  return out;
}

// Decompresses `stream` into 64 KiB pages; returns the bytes out, and compares them with
// `expect` when given.
std::uint64_t decompress_stream(std::string_view stream, std::string_view expect) {
  datapath::StreamDecoder decoder;
  std::vector<std::uint8_t> page(kDecompressPage);
  std::uint64_t produced = 0;
  auto in = bytes(stream);
  for (;;) {
    datapath::StreamDecoder::Progress p;
    try {
      p = decoder.decompress(in, page);
    } catch (const datapath::CodecError& e) {
      throw Error(Exit::failure, std::string("zstd: ") + e.what(), "this is a bug in bpfplug's calibration; report it");
    }
    in = in.subspan(p.consumed);
    std::string_view got(reinterpret_cast<const char*>(page.data()), p.produced);
    if (!expect.empty() && (produced + p.produced > expect.size() || got != expect.substr(produced, p.produced)))
      throw Error(Exit::failure, "zstd: the calibration stream did not decompress to its input");
    produced += p.produced;
    if (in.empty() && p.produced < page.size()) return produced;
  }
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
