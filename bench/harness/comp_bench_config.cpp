#include "comp_bench_config.hpp"

#include <algorithm>
#include <cstdio>

#include "bench_config.hpp"
#include "bpfplug/error.hpp"

namespace bpfplug::bench {
namespace {

constexpr std::uint64_t kMinRate = 1'000'000;
constexpr std::uint64_t kMaxRate = 10'000'000'000ULL;
constexpr std::uint64_t kMaxTransfer = 64ULL << 30;
constexpr std::uint64_t kDefaultBufferPackets = 100;

[[noreturn]] void bad(const std::string& what, const std::string& hint) { throw Error(Exit::usage, what, hint); }

template <typename T>
bool contains(const std::vector<T>& v, const T& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

std::string CompPath::label() const {
  if (!rate_bps) return "unshaped";
  char buf[32];
  if (*rate_bps % 1'000'000'000 == 0) std::snprintf(buf, sizeof buf, "%llu Gbit/s", static_cast<unsigned long long>(*rate_bps / 1'000'000'000));
  else std::snprintf(buf, sizeof buf, "%g Mbit/s", static_cast<double>(*rate_bps) / 1e6);
  return buf;
}

std::uint64_t CompBenchConfig::transfer_bytes(const CompPath& path) const {
  if (size_bytes) return *size_bytes;
  double bps = static_cast<double>(path.rate_bps.value_or(kUnshapedAssumedBps));
  return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(bps / 8 * seconds));
}

CompBenchConfig resolve_comp(const CompBenchWords& words) {
  CompBenchConfig c;
  if (words.rates.empty()) bad("--rates is empty", "for example --rates 10mbit,1gbit,unshaped");
  for (const auto& word : words.rates) {
    CompPath p;
    if (word != "unshaped") {
      p.rate_bps = parse_rate(word);
      if (*p.rate_bps < kMinRate || *p.rate_bps > kMaxRate)
        bad("rate '" + word + "' is outside 1 Mbit/s .. 10 Gbit/s", "for example --rates 10mbit,100mbit,unshaped");
    }
    if (std::any_of(c.paths.begin(), c.paths.end(), [&](const CompPath& q) { return q.rate_bps == p.rate_bps; }))
      bad("rate '" + word + "' is given twice", "name each path once");
    c.paths.push_back(p);
  }

  if (words.payloads.empty()) bad("--payloads is empty", "for example --payloads text,random");
  for (const auto& p : words.payloads) {
    if (p != "text" && p != "random" && p != "file")
      bad("unknown payload '" + p + "'",
          "use text (generated JSON request-log lines), random, or file (with --payload-file FILE)");
    if (contains(c.payloads, p)) bad("payload '" + p + "' is given twice", "name each payload once");
    c.payloads.push_back(p);
  }
  c.payload_file = words.payload_file;
  if (!c.payload_file.empty() && !contains(c.payloads, std::string("file"))) c.payloads.push_back("file");
  if (contains(c.payloads, std::string("file")) && c.payload_file.empty())
    bad("payload 'file' needs --payload-file FILE", "give the file whose bytes to send");

  if (words.policies.empty()) bad("--policies is empty", "for example --policies none,comp-cost");
  for (const auto& p : words.policies)
    if (!contains(kCompPolicies, p))
      bad("unknown policy '" + p + "' for the compression benchmark", "use none, comp-ports or comp-cost");
  for (const auto& p : kCompPolicies)
    if (contains(words.policies, p)) c.policies.push_back(p);

  if (!(words.seconds > 0 && words.seconds <= 600))
    bad("--duration " + std::to_string(words.seconds) + " is outside (0, 600] seconds", "for example --duration 4");
  c.seconds = words.seconds;
  if (!words.size.empty()) {
    c.size_bytes = parse_size(words.size, 0);
    if (*c.size_bytes == 0 || *c.size_bytes > kMaxTransfer)
      bad("--size " + words.size + " is outside 1 byte .. 64 GiB", "for example --size 100mb");
  }
  c.rtt = parse_time(words.rtt);
  if (c.rtt.count() > 0 && c.rtt < std::chrono::milliseconds(1))
    bad("--rtt " + words.rtt + " is below what the delay line emulates faithfully (1 ms)", "use 0 or at least 1ms");
  if (c.rtt > std::chrono::seconds(2)) bad("--rtt " + words.rtt + " is above 2 s", "for example --rtt 20ms");
  if (c.rtt.count() > 0 && std::any_of(c.paths.begin(), c.paths.end(), [](const CompPath& p) { return !p.rate_bps; }))
    bad("the unshaped path has no delay line: --rtt needs every path to have a rate",
        "drop unshaped from --rates, or --rtt 0");
  if (!words.buffer.empty()) {
    c.buffer_bytes = parse_size(words.buffer, 0);
    if (c.buffer_bytes < 2 * kPacketBytes || c.buffer_bytes > (1ULL << 30))
      bad("--buffer " + words.buffer + " is outside 2 packets .. 1 GiB", "for example --buffer 100pkt");
  }
  if (words.runs < 1 || words.runs > 100) bad("--runs " + std::to_string(words.runs) + " is outside 1..100", "for example --runs 3");
  c.runs = words.runs;
  c.json_file = words.json_file;
  return c;
}

}  // namespace bpfplug::bench
