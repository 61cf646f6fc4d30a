#include "bench_config.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <utility>

#include "bpfplug/error.hpp"

namespace bpfplug::bench {
namespace {

// The lowest round-trip delay the user-space delay line can add faithfully: below it, its own
// per-packet cost (wake-up, two copies, a TUN write: tens of microseconds each way, see
// docs/benchmarks.md "Delay line accuracy") is no longer small against what is asked.
constexpr std::chrono::microseconds kMinEmulatedRtt{1000};
constexpr std::chrono::microseconds kMaxRtt{2'000'000};
constexpr std::uint64_t kMinRate = 1'000'000;
constexpr std::uint64_t kMaxRate = 10'000'000'000ULL;
constexpr std::uint64_t kMinBuffer = 2 * kPacketBytes;
constexpr std::uint64_t kMaxBuffer = 1ULL << 30;
constexpr std::uint64_t kDefaultMinBuffer = 10 * kPacketBytes;

[[noreturn]] void bad(const std::string& what, const std::string& hint) { throw Error(Exit::usage, what, hint); }

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Splits "100mbit" into 100 and "mbit"; throws for anything but a non-negative number + unit.
std::pair<double, std::string> number_and_unit(const std::string& word, const std::string& what,
                                               const std::string& example) {
  std::string w = lower(word);
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(w, &used);
  } catch (const std::exception&) {
    bad(what + " '" + word + "' is not a number with a unit", "for example " + example);
  }
  if (!std::isfinite(value) || value < 0) bad(what + " '" + word + "' must be a non-negative number", "for example " + example);
  return {value, w.substr(used)};
}

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string human_rate(std::uint64_t bps) {
  if (bps >= 1'000'000'000 && bps % 1'000'000'000 == 0) return std::to_string(bps / 1'000'000'000) + " Gbit/s";
  if (bps >= 1'000'000) return fmt("%g Mbit/s", bps / 1e6);
  return fmt("%g kbit/s", bps / 1e3);
}

std::string human_bytes(std::uint64_t b) {
  if (b >= 1024 * 1024) return fmt("%.1f MiB", b / 1048576.0);
  if (b >= 1024) return fmt("%.1f KiB", b / 1024.0);
  return std::to_string(b) + " B";
}

}  // namespace

std::uint64_t BenchConfig::bdp_bytes() const {
  return static_cast<std::uint64_t>(static_cast<double>(rate_bps) / 8 * static_cast<double>(rtt.count()) / 1e6);
}

std::uint64_t parse_rate(const std::string& word) {
  auto [value, unit] = number_and_unit(word, "rate", "--rate 100mbit");
  static const std::pair<const char*, double> units[] = {
      {"", 1},      {"bit", 1},   {"kbit", 1e3}, {"mbit", 1e6}, {"gbit", 1e9},
      {"bps", 8},   {"kbps", 8e3}, {"mbps", 8e6}, {"gbps", 8e9}};
  for (const auto& [name, scale] : units)
    if (unit == name) return static_cast<std::uint64_t>(std::llround(value * scale));
  bad("rate '" + word + "' has an unknown unit '" + unit + "'",
      "use bit, kbit, mbit or gbit (bits per second), or kbps, mbps, gbps (bytes per second, as tc reads them)");
}

std::chrono::microseconds parse_time(const std::string& word) {
  auto [value, unit] = number_and_unit(word, "time", "--rtt 20ms");
  static const std::pair<const char*, double> units[] = {{"", 1e3}, {"us", 1}, {"ms", 1e3}, {"s", 1e6}};
  for (const auto& [name, scale] : units)
    if (unit == name) return std::chrono::microseconds(std::llround(value * scale));
  bad("time '" + word + "' has an unknown unit '" + unit + "'", "use us, ms or s (a bare number is milliseconds)");
}

std::uint64_t parse_size(const std::string& word, std::uint64_t bdp_bytes) {
  auto [value, unit] = number_and_unit(word, "size", "--buffer 1bdp or --buffer 256kb");
  static const std::pair<const char*, double> units[] = {
      {"", 1}, {"b", 1}, {"k", 1024}, {"kb", 1024}, {"m", 1048576}, {"mb", 1048576}, {"pkt", kPacketBytes}};
  for (const auto& [name, scale] : units)
    if (unit == name) return static_cast<std::uint64_t>(std::llround(value * scale));
  if (unit == "bdp") return static_cast<std::uint64_t>(std::llround(value * static_cast<double>(bdp_bytes)));
  bad("size '" + word + "' has an unknown unit '" + unit + "'",
      "use b, kb, mb (x1024, as tc), pkt (" + std::to_string(kPacketBytes) + " bytes) or bdp (rate x rtt)");
}

double parse_probability(const std::string& word) {
  std::string w = word;
  bool percent = !w.empty() && w.back() == '%';
  if (percent) w.pop_back();
  auto [value, unit] = number_and_unit(w, "probability", "--loss 1% or --loss 0.01");
  if (!unit.empty()) bad("probability '" + word + "' has trailing '" + unit + "'", "for example --loss 1% or --loss 0.01");
  value = percent ? value / 100 : value;
  if (value > 1) bad("probability '" + word + "' is above 1", "for example --loss 1% or --loss 0.01");
  return value;
}

BenchConfig resolve(const BenchWords& words) {
  BenchConfig c;
  if (words.algorithms.empty())
    bad("bench needs at least one congestion control to run",
        "for example: bpfplug bench bpf_cubic cubic --rate 100mbit --rtt 20ms (or bpfplug bench --comp for the compression data path)");
  c.algorithms = words.algorithms;
  for (std::size_t i = 0; i < c.algorithms.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (c.algorithms[i] == c.algorithms[j])
        bad("'" + c.algorithms[i] + "' is named twice", "name each algorithm once; --runs N repeats them");

  c.rate_bps = parse_rate(words.rate);
  if (c.rate_bps < kMinRate || c.rate_bps > kMaxRate)
    bad("rate " + human_rate(c.rate_bps) + " is outside what the testbed shapes faithfully (1 Mbit/s to 10 Gbit/s)",
        "choose a rate in that range, e.g. --rate 10mbit");

  c.rtt = parse_time(words.rtt);
  if (c.rtt.count() > 0 && c.rtt < kMinEmulatedRtt)
    bad("an RTT of " + std::to_string(c.rtt.count()) + " us is below what the delay line adds faithfully (1 ms)",
        "use --rtt 1ms or more, or --rtt 0 for no added delay (the namespaces' own RTT, tens of microseconds)");
  if (c.rtt > kMaxRtt) bad("an RTT above 2 s is not a path this testbed emulates", "use --rtt 2s or less");

  const std::uint64_t bdp = c.bdp_bytes();
  c.buffer_bytes = parse_size(words.buffer, bdp);
  if (words.buffer == BenchWords{}.buffer) c.buffer_bytes = std::max(c.buffer_bytes, kDefaultMinBuffer);
  if (c.buffer_bytes < kMinBuffer || c.buffer_bytes > kMaxBuffer)
    bad("a bottleneck buffer of " + human_bytes(c.buffer_bytes) + " is outside 2 packets .. 1 GiB",
        "for example --buffer 1bdp or --buffer 100pkt");

  if (!words.ecn_k.empty()) {
    c.ecn_k_bytes = parse_size(words.ecn_k, bdp);
    if (*c.ecn_k_bytes < kPacketBytes)
      bad("ECN threshold K of " + human_bytes(*c.ecn_k_bytes) + " is below one packet", "for example --ecn-k 20pkt");
    if (*c.ecn_k_bytes >= c.buffer_bytes)
      bad("ECN threshold K (" + human_bytes(*c.ecn_k_bytes) + ") is not below the buffer (" +
              human_bytes(c.buffer_bytes) + "): the buffer would drop before anything is marked",
          "lower --ecn-k or raise --buffer");
  }
  c.loss = parse_probability(words.loss);
  if (c.loss > 0.5) bad("a random loss above 50 % leaves no path to measure", "for example --loss 1%");

  if (words.flows < 1 || words.flows > 32) bad("--flows must be 1 to 32", "for example --flows 3");
  c.flows = words.flows;
  if (words.duration_s < 1 || words.duration_s > 3600) bad("--duration must be 1 to 3600 seconds", "for example --duration 10");
  c.duration_s = words.duration_s;
  if (words.runs < 1 || words.runs > 100) bad("--runs must be 1 to 100", "for example --runs 3");
  c.runs = words.runs;

  if (!words.stagger.empty()) c.stagger_s = static_cast<double>(parse_time(words.stagger).count()) / 1e6;
  double stagger = c.stagger_s.value_or(c.flows > 1 ? c.duration_s / (2.0 * (c.flows - 1)) : 0);
  c.stagger_s = stagger;
  if ((c.flows - 1) * stagger > c.duration_s / 2 + 1e-9)
    bad("the last flow would start at " + fmt("%g", (c.flows - 1) * stagger) + " s of a " + fmt("%g", c.duration_s) +
            " s run, leaving it less than half the run",
        "shorten --stagger or lengthen --duration");

  if (words.short_flows_per_s < 0 || words.short_flows_per_s > 100)
    bad("--short-flows must be 0 to 100 arrivals per second", "for example --short-flows 5");
  c.short_flows_per_s = words.short_flows_per_s;
  c.short_flow_bytes = parse_size(words.short_flow_size, bdp);
  if (c.short_flow_bytes < 1 || c.short_flow_bytes > 100 * 1048576ULL)
    bad("--short-size must be 1 byte to 100 MiB", "for example --short-size 64kb");

  c.sample_every = parse_time(words.sample_every);
  if (c.sample_every.count() < 1000 || c.sample_every.count() > 100'000)
    bad("--sample-every must be 1 ms to 100 ms", "for example --sample-every 10ms");
  c.bpf_stats = !words.no_bpf_stats;
  c.json_file = words.json_file;
  c.plot_file = words.plot_file;
  if (!c.plot_file.empty()) {
    std::string ext = lower(c.plot_file.substr(c.plot_file.find_last_of('.') == std::string::npos ? c.plot_file.size()
                                                                                                    : c.plot_file.find_last_of('.')));
    if (ext != ".png" && ext != ".svg")
      bad("--plot '" + c.plot_file + "': the image type comes from the name, and only .png and .svg are made",
          "for example --plot out.png");
  }
  return c;
}

std::string describe(const BenchConfig& c) {
  std::string s = human_rate(c.rate_bps) + ", RTT " + (c.rtt.count() ? fmt("%g ms", c.rtt.count() / 1e3) : "not added") +
                  ", buffer " + human_bytes(c.buffer_bytes);
  if (c.bdp_bytes()) s += " (" + fmt("%.2g", double(c.buffer_bytes) / double(c.bdp_bytes())) + " BDP)";
  s += c.ecn_k_bytes ? ", ECN K " + human_bytes(*c.ecn_k_bytes) : ", no ECN marking";
  if (c.loss > 0) s += ", random loss " + fmt("%g %%", c.loss * 100);
  s += "; " + std::to_string(c.flows) + (c.flows == 1 ? " bulk flow" : " bulk flows");
  if (c.flows > 1) s += fmt(" started %g s apart", c.stagger_s.value_or(0));
  if (c.short_flows_per_s > 0) s += fmt(", %g short flows/s of ", c.short_flows_per_s) + human_bytes(c.short_flow_bytes);
  s += fmt(", %g s", c.duration_s) + " x " + std::to_string(c.runs) + (c.runs == 1 ? " run" : " runs");
  return s;
}

}  // namespace bpfplug::bench
