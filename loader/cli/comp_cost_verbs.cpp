#include "bpfplug/cli/comp_cost_verbs.hpp"

#include <time.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include "bpfplug/comp_calibration.hpp"
#include "bpfplug/comp_contract.hpp"
#include "bpfplug/comp_cost.hpp"
#include "bpfplug/error.hpp"
#include "bpfplug/policy_loader.hpp"

namespace fs = std::filesystem;

namespace bpfplug::cli {
namespace {

fs::path comp_cost_dir(const Paths& paths) { return policies_dir(paths.pin_root) / kCompCostPlugin; }

bool comp_cost_loaded(const Paths& paths) {
  std::error_code ec;
  return fs::exists(comp_cost_dir(paths) / "link", ec);
}

void require_root(const Host& host, const std::string& what) {
  if (!host.privileged())
    throw Error(Exit::permission, "can't " + what + " (comp-cost's maps are in bpffs, which is root-only)",
                "run as root");
}

CompCostMaps open_comp_cost(const Paths& paths) {
  if (!comp_cost_loaded(paths))
    throw Error(Exit::conflict, "policy comp-cost is not loaded", "load it with bpfplug load comp-cost");
  return CompCostMaps(comp_cost_dir(paths));
}

double monotonic_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::string mbytes(double bytes_per_s) {
  char text[64];
  std::snprintf(text, sizeof text, "%.2f MB/s (%.1f Mbit/s)", bytes_per_s / 1e6, bytes_per_s * 8 / 1e6);
  return text;
}

std::string utc(std::uint64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return text;
}

nlohmann::json to_json(const Calibration& c) {
  return {{"codec", "zstd-stream"},   {"level", c.level},
          {"ratio", c.ratio},         {"vc_bytes_per_s", c.vc_bytes_per_s},
          {"vd_bytes_per_s", c.vd_bytes_per_s}, {"corpus", c.corpus},
          {"corpus_bytes", c.corpus_bytes},     {"measured_at", c.measured_at},
          {"break_even_bytes_per_s", c.break_even_bytes_per_s()}};
}

void print_calibration(std::ostream& out, const Calibration& c) {
  char line[256];
  std::snprintf(line, sizeof line, "R %.3f (ratio %.2f:1), Vc %.1f MB/s, Vd %.1f MB/s", c.ratio,
                c.ratio > 0 ? 1 / c.ratio : 0.0, c.vc_bytes_per_s / 1e6, c.vd_bytes_per_s / 1e6);
  out << line << "\n  break-even N (a whole CPU free): " << mbytes(c.break_even_bytes_per_s())
      << ": compression pays on slower paths\n";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(Exit::usage, "can't read corpus " + path, "give a readable file with --corpus");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::atomic<bool> g_stop{false};
extern "C" void stop_agent(int) { g_stop = true; }

}  // namespace

int do_calibrate(bool json, const CalibrateArgs& args, Host& host, const Paths& paths, std::ostream& out) {
  Calibration cal;
  int given = args.ratio.has_value() + args.vc_mbytes.has_value() + args.vd_mbytes.has_value();
  if (given != 0 && given != 3)
    throw Error(Exit::usage, "--ratio, --vc and --vd go together", "give all three, or none to measure");
  if (given == 3) {
    if (*args.ratio <= 0 || *args.ratio > 16 || *args.vc_mbytes <= 0 || *args.vd_mbytes <= 0)
      throw Error(Exit::usage, "--ratio must be in (0, 16], --vc and --vd above 0",
                  "e.g. --ratio 0.35 --vc 470 --vd 1380 (MB/s)");
    cal.ratio = *args.ratio;
    cal.vc_bytes_per_s = *args.vc_mbytes * 1e6;
    cal.vd_bytes_per_s = *args.vd_mbytes * 1e6;
    cal.level = args.level;
    cal.corpus = "given";
    cal.measured_at = static_cast<std::uint64_t>(std::time(nullptr));
  } else {
    if (args.level < 1 || args.level > 19)
      throw Error(Exit::usage, "--level " + std::to_string(args.level) + " is out of range", "zstd levels 1..19");
    std::string corpus = args.corpus.empty() ? builtin_corpus() : read_file(args.corpus);
    cal = calibrate_zstd(corpus, args.level, args.seconds);
    cal.corpus = args.corpus.empty() ? "built-in" : args.corpus;
  }
  bool written = false;
  if (host.privileged() && comp_cost_loaded(paths)) {
    require_root(host, "write the calibration into comp-cost");
    open_comp_cost(paths).set_calibration(cal.to_map_value());
    written = true;
  }
  if (json) {
    auto j = to_json(cal);
    j["written_to"] = written ? nlohmann::json(kCompCostPlugin) : nlohmann::json(nullptr);
    out << j.dump(2) << '\n';
    return 0;
  }
  out << "zstd level " << cal.level << " on " << (cal.corpus == "built-in" ? "the built-in corpus" : cal.corpus);
  if (cal.corpus_bytes) out << " (" << cal.corpus_bytes << " bytes)";
  out << ":\n  ";
  print_calibration(out, cal);
  out << (written              ? "  written to comp-cost\n"
          : host.privileged() ? "  (comp-cost is not loaded: nothing written)\n"
                              : "  (not root: nothing written into comp-cost, if it is loaded)\n");
  return 0;
}

int do_agent(bool json, const AgentArgs& args, Host& host, const Paths& paths, std::ostream& out) {
  if (args.headroom && *args.headroom > 100)
    throw Error(Exit::usage, "--headroom is a percentage of one CPU", "give 0..100");
  if (args.interval_s < 0.05 || args.interval_s > 3600)
    throw Error(Exit::usage, "--interval must be between 0.05 and 3600 seconds");
  require_root(host, "feed comp-cost's CPU headroom");
  open_comp_cost(paths);  // loaded, or a clear error now
  g_stop = false;
  auto old_int = std::signal(SIGINT, stop_agent);
  auto old_term = std::signal(SIGTERM, stop_agent);
  int last = -100;
  auto window = std::chrono::milliseconds(static_cast<long>(args.interval_s * 1000));
  while (!g_stop) {
    unsigned headroom = args.headroom ? *args.headroom : measure_cpu_headroom(window);
    if (!comp_cost_loaded(paths)) {
      out << "comp-cost was unloaded: the agent stops\n";
      break;
    }
    // Opened again each time: comp-cost may have been unloaded and loaded again meanwhile.
    open_comp_cost(paths).set_headroom(headroom);
    bool once = args.once || args.headroom;
    if (json) {
      out << nlohmann::json{{"headroom_pct", headroom}}.dump() << '\n';
    } else if (once || std::abs(static_cast<int>(headroom) - last) >= 5) {
      out << "CPU headroom " << headroom << " % of one CPU\n";
    }
    out.flush();
    last = static_cast<int>(headroom);
    if (once) break;
  }
  std::signal(SIGINT, old_int);
  std::signal(SIGTERM, old_term);
  return 0;
}

nlohmann::json explain_comp_cost(const Paths& paths) {
  CompCostMaps maps = open_comp_cost(paths);
  auto pinned = PinnedPolicy::open(comp_cost_dir(paths));
  auto rodata = pinned ? pinned->variables("rodata") : std::map<std::string, std::int64_t>{};
  const double now = monotonic_s();
  nlohmann::json j;
  unsigned min_headroom = static_cast<unsigned>(rodata["min_headroom"]);
  j["min_headroom_pct"] = min_headroom;
  j["unknown_mbit"] = rodata["unknown_mbit"];
  std::optional<Calibration> cal;
  if (auto v = maps.calibration()) cal = Calibration::from_map_value(*v);
  j["calibration"] = cal ? to_json(*cal) : nlohmann::json(nullptr);
  if (auto h = maps.host()) {
    j["host"] = {{"headroom_pct", h->headroom_pct},
                 {"age_s", static_cast<double>(std::time(nullptr)) - static_cast<double>(h->updated_at)}};
    if (cal) j["break_even_bytes_per_s"] = cal->break_even_bytes_per_s(h->headroom_pct);
  } else {
    j["host"] = nullptr;
  }
  j["paths"] = nlohmann::json::array();
  for (const auto& p : maps.paths())
    j["paths"].push_back({{"address", p.address()},
                          {"bw_bytes_per_s", p.value.bw_bps},
                          {"srtt_us", p.value.srtt_us},
                          {"connections", p.value.connections},
                          {"age_s", now - static_cast<double>(p.value.updated_ns) / 1e9}});
  j["decisions"] = nlohmann::json::array();
  for (const auto& d : maps.decisions()) {
    PathEstimate remote;
    remote.key.family = d.family;
    std::copy(std::begin(d.remote_addr), std::end(d.remote_addr), std::begin(remote.key.addr));
    nlohmann::json cost = d.cost_q == BPFPLUG_COMP_COST_INFINITE
                              ? nlohmann::json(nullptr)
                              : nlohmann::json(static_cast<double>(d.cost_q) / BPFPLUG_COMP_ONE);
    j["decisions"].push_back({{"seq", d.seq},
                              {"age_s", now - static_cast<double>(d.decided_ns) / 1e9},
                              {"role", d.role == BPFPLUG_COMP_CLIENT ? "client" : "server"},
                              {"remote", remote.address()},
                              {"remote_port", d.remote_port},
                              {"local_port", d.local_port},
                              {"estimate", d.known ? "learnt" : "unknown-default"},
                              {"bw_bytes_per_s", d.bw_bps},
                              {"headroom_pct", d.headroom_pct},
                              {"min_headroom_pct", d.min_headroom_pct},
                              {"ratio", static_cast<double>(d.ratio_q) / BPFPLUG_COMP_ONE},
                              {"vc_bytes_per_s", d.vc_bps},
                              {"vd_bytes_per_s", d.vd_bps},
                              {"cost", cost},
                              {"verdict", comp_reason_name(d.reason)}});
  }
  return j;
}

void print_explain(std::ostream& out, const nlohmann::json& j) {
  char line[320];
  out << "model: compress when R + N/Vc' + N/Vd < 1, Vc' = Vc x CPU headroom / 100; nothing below "
      << j["min_headroom_pct"].get<unsigned>() << " % headroom\n";
  if (j["calibration"].is_null()) {
    out << "calibration: none (bpfplug calibrate)\n";
  } else {
    const auto& c = j["calibration"];
    std::snprintf(line, sizeof line, "calibration: zstd level %d, measured %s: R %.3f, Vc %.1f MB/s, Vd %.1f MB/s\n",
                  c["level"].get<int>(), utc(c["measured_at"].get<std::uint64_t>()).c_str(), c["ratio"].get<double>(),
                  c["vc_bytes_per_s"].get<double>() / 1e6, c["vd_bytes_per_s"].get<double>() / 1e6);
    out << line;
  }
  if (j["host"].is_null()) {
    out << "CPU headroom: never written (bpfplug agent)\n";
  } else {
    out << "CPU headroom: " << j["host"]["headroom_pct"].get<unsigned>() << " % of one CPU ("
        << std::lround(j["host"]["age_s"].get<double>()) << " s ago)";
    if (j.contains("break_even_bytes_per_s"))
      out << "; break-even N " << mbytes(j["break_even_bytes_per_s"].get<double>());
    out << "\n";
  }
  auto unknown = j["unknown_mbit"].get<std::int64_t>();
  out << "unknown destinations: "
      << (unknown ? "assumed " + std::to_string(unknown) + " Mbit/s (unknown_mbit)"
                  : std::string("not compressed until a connection has measured the path (unknown_mbit=0)"))
      << "\n";
  out << "paths (" << j["paths"].size() << "):\n";
  for (const auto& p : j["paths"]) {
    std::snprintf(line, sizeof line, "  %-16s N %s, srtt %.1f ms, %u connection(s), %.0f s ago\n",
                  p["address"].get<std::string>().c_str(), mbytes(p["bw_bytes_per_s"].get<double>()).c_str(),
                  p["srtt_us"].get<double>() / 1000, p["connections"].get<unsigned>(), p["age_s"].get<double>());
    out << line;
  }
  out << "recent decisions (" << j["decisions"].size() << ", oldest first):\n";
  for (const auto& d : j["decisions"]) {
    std::string cost = d["cost"].is_null()
                           ? std::string("-")
                           : [&] {
                               char c[32];
                               std::snprintf(c, sizeof c, "%.4f", d["cost"].get<double>());
                               return std::string(c);
                             }();
    std::snprintf(line, sizeof line,
                  "  #%-4llu %6.1f s ago  %-6s %s port %u  N %s (%s)  headroom %u %%  R %.3f  cost %s -> %s\n",
                  static_cast<unsigned long long>(d["seq"].get<std::uint64_t>()), d["age_s"].get<double>(),
                  d["role"].get<std::string>().c_str(), d["remote"].get<std::string>().c_str(),
                  d["role"] == "client" ? d["remote_port"].get<unsigned>() : d["local_port"].get<unsigned>(),
                  mbytes(d["bw_bytes_per_s"].get<double>()).c_str(), d["estimate"].get<std::string>().c_str(),
                  d["headroom_pct"].get<unsigned>(), d["ratio"].get<double>(), cost.c_str(),
                  d["verdict"].get<std::string>().c_str());
    out << line;
  }
}

}  // namespace bpfplug::cli
