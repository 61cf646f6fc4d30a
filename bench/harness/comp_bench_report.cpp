#include "comp_bench_report.hpp"

#include <algorithm>
#include <cmath>

#include "../text_format.hpp"

namespace bpfplug::bench {
namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

const Cell* find(const std::vector<Cell>& cells, const std::string& path, const std::string& payload,
                 const std::string& policy) {
  for (const auto& c : cells)
    if (c.path == path && c.payload == payload && c.policy == policy && c.runs > c.failed) return &c;
  return nullptr;
}

// comp-cost's time against the better of none and comp-ports in the same path x payload:
// +3 % = 3 % slower than the best; nullopt if a cell is missing.
struct VersusBest {
  double over_best = 0;   // comp-cost seconds / best seconds - 1
  double over_none = 0;   // none seconds / comp-cost seconds: the speed-up
  std::string best;
};
std::optional<VersusBest> versus_best(const std::vector<Cell>& cells, const std::string& path, const std::string& payload) {
  const Cell* cost = find(cells, path, payload, "comp-cost");
  const Cell* none = find(cells, path, payload, "none");
  const Cell* ports = find(cells, path, payload, "comp-ports");
  if (!cost || (!none && !ports)) return std::nullopt;
  const Cell* best = !ports || (none && none->seconds <= ports->seconds) ? none : ports;
  VersusBest v;
  v.best = best->policy;
  v.over_best = cost->seconds / best->seconds - 1;
  v.over_none = none ? none->seconds / cost->seconds : 0;
  return v;
}

std::string bytes_text(std::uint64_t b) {
  if (b >= (1ULL << 30)) return fixed(static_cast<double>(b) / (1ULL << 30), 2) + " GiB";
  if (b >= (1ULL << 20)) return fixed(static_cast<double>(b) / (1ULL << 20), 1) + " MiB";
  return std::to_string(b) + " B";
}

}  // namespace

std::vector<Cell> CompBenchReport::cells() const {
  std::vector<Cell> out;
  for (const auto& path : config.paths)
    for (const auto& payload : config.payloads)
      for (const auto& policy : config.policies) {
        Cell c{path.label(), payload, policy};
        std::vector<double> secs, goodput, wire, cpu, machine;
        for (const auto& t : transfers) {
          if (t.path != c.path || t.payload != payload || t.policy != policy) continue;
          ++c.runs;
          if (!t.ok) {
            ++c.failed;
            continue;
          }
          c.negotiated += t.negotiated;
          c.bytes = t.bytes;
          secs.push_back(t.seconds);
          goodput.push_back(t.goodput_mbit_s());
          wire.push_back(t.bytes ? static_cast<double>(t.wire_bytes) / static_cast<double>(t.bytes) : 0);
          cpu.push_back(t.cpu_s_per_gb());
          machine.push_back(t.bytes ? t.machine_cpu_s / (static_cast<double>(t.bytes) / 1e9) : 0);
        }
        c.seconds = median(secs);
        c.goodput_mbit_s = median(goodput);
        c.wire_ratio = median(wire);
        c.cpu_s_per_gb = median(cpu);
        c.machine_cpu_s_per_gb = median(machine);
        if (c.runs) out.push_back(c);
      }
  return out;
}

void print_comp_report(const CompBenchReport& r, std::ostream& out) {
  const auto cells = r.cells();
  out << "Compression benchmark: " << r.config.runs << " run(s) per cell, medians; rtt "
      << fixed(static_cast<double>(r.config.rtt.count()) / 1000, 1) << " ms\n"
      << r.host << "\n";
  if (!r.calibration.empty()) out << "comp-cost " << r.calibration << "\n";
  out << "\n"
      << pad("path", 12) << pad("payload", 9) << pad("policy", 12) << pad("size", 11) << pad("time s", 9)
      << pad("Mbit/s", 10) << pad("wire/app", 10) << pad("CPU s/GB", 10) << pad("machine", 9) << "compressed\n";
  for (const auto& c : cells) {
    out << pad(c.path, 12) << pad(c.payload, 9) << pad(c.policy, 12) << pad(bytes_text(c.bytes), 11);
    if (c.failed == c.runs) {
      out << "failed\n";
      continue;
    }
    out << pad(fixed(c.seconds, 2), 9) << pad(fixed(c.goodput_mbit_s, 1), 10) << pad(fixed(c.wire_ratio, 3), 10)
        << pad(fixed(c.cpu_s_per_gb, 2), 10) << pad(fixed(c.machine_cpu_s_per_gb, 2), 9)
        << (c.policy == "none" ? "-" : std::to_string(c.negotiated) + "/" + std::to_string(c.runs - c.failed));
    if (c.failed) out << " (" << c.failed << " failed)";
    out << "\n";
  }

  out << "\ncomp-cost against the better of none and comp-ports (time; + is slower):\n";
  int within = 0, total = 0;
  for (const auto& path : r.config.paths)
    for (const auto& payload : r.config.payloads) {
      auto v = versus_best(cells, path.label(), payload);
      if (!v) continue;
      ++total;
      bool ok = v->over_best <= 0.05;
      within += ok;
      out << "  " << pad(path.label(), 12) << pad(payload, 9) << (v->over_best >= 0 ? "+" : "")
          << fixed(v->over_best * 100, 1) << " % vs " << v->best;
      if (v->over_none > 0) out << ", " << fixed(v->over_none, 2) << "x none's speed";
      out << (ok ? "" : "  (outside 5 %)") << "\n";
    }
  if (total) out << "  within 5 % of the best: " << within << " of " << total << " cells\n";

  if (!r.codec.empty()) {
    out << "\ncodec on one CPU (the data path's stream: zstd -1, a flush per write of at most 64 KiB, 128 KiB "
           "window) against zstd -b1 on the same 16 MiB (MB = 10^6 bytes):\n"
        << "  " << pad("payload", 9) << pad("R", 7) << pad("Vc MB/s", 9) << pad("Vd MB/s", 9) << "| "
        << pad("zstd -b1 R", 11) << pad("Vc MB/s", 9) << pad("Vd MB/s", 9) << "| Vc, Vd of zstd -b1's\n";
    for (const auto& c : r.codec) {
      out << "  " << pad(c.payload, 9) << pad(fixed(c.ratio, 3), 7) << pad(fixed(c.vc_mb_s, 0), 9)
          << pad(fixed(c.vd_mb_s, 0), 9) << "| ";
      if (c.zstd_ratio)
        out << pad(fixed(*c.zstd_ratio, 3), 11) << pad(fixed(*c.zstd_vc_mb_s, 0), 9) << pad(fixed(*c.zstd_vd_mb_s, 0), 9)
            << "| " << fixed(c.vc_mb_s / *c.zstd_vc_mb_s * 100, 0) << " %, " << fixed(c.vd_mb_s / *c.zstd_vd_mb_s * 100, 0)
            << " %\n";
      else
        out << "(zstd not run)\n";
    }
  }
  if (!r.learnt.empty()) {
    out << "\ncomp-cost's learnt bandwidth after each warm-up transfer:\n";
    for (const auto& l : r.learnt)
      out << "  " << pad(l.path, 12) << pad(l.address, 13) << fixed(l.bytes_per_s * 8 / 1e6, 1) << " Mbit/s\n";
  }
  for (const auto& n : r.notes) out << "note: " << n << "\n";
  for (const auto& t : r.transfers)
    if (!t.ok)
      out << "failed: " << t.path << " " << t.payload << " " << t.policy << " run " << t.run << ": " << t.error << "\n";
}

nlohmann::json to_json(const CompBenchReport& r) {
  nlohmann::json j;
  j["host"] = r.host;
  j["calibration"] = r.calibration;
  j["rtt_ms"] = static_cast<double>(r.config.rtt.count()) / 1000;
  j["runs"] = r.config.runs;
  for (const auto& t : r.transfers)
    j["transfers"].push_back({{"path", t.path}, {"payload", t.payload}, {"policy", t.policy}, {"run", t.run},
                              {"ok", t.ok}, {"error", t.error}, {"bytes", t.bytes}, {"wire_bytes", t.wire_bytes},
                              {"seconds", t.seconds}, {"goodput_mbit_s", t.goodput_mbit_s()},
                              {"program_cpu_s", t.program_cpu_s}, {"ksoftirqd_cpu_s", t.ksoftirqd_cpu_s},
                              {"machine_cpu_s", t.machine_cpu_s}, {"cpu_s_per_gb", t.cpu_s_per_gb()},
                              {"negotiated", t.negotiated}});
  const auto cells = r.cells();
  for (const auto& c : cells) {
    nlohmann::json cj = {{"path", c.path}, {"payload", c.payload}, {"policy", c.policy}, {"runs", c.runs},
                         {"failed", c.failed}, {"negotiated", c.negotiated}, {"bytes", c.bytes},
                         {"seconds", c.seconds}, {"goodput_mbit_s", c.goodput_mbit_s}, {"wire_ratio", c.wire_ratio},
                         {"cpu_s_per_gb", c.cpu_s_per_gb}, {"machine_cpu_s_per_gb", c.machine_cpu_s_per_gb}};
    if (c.policy == "comp-cost")
      if (auto v = versus_best(cells, c.path, c.payload)) {
        cj["over_best"] = v->over_best;
        cj["best"] = v->best;
        cj["speedup_over_none"] = v->over_none;
      }
    j["cells"].push_back(cj);
  }
  for (const auto& c : r.codec) {
    nlohmann::json cj = {{"payload", c.payload}, {"ratio", c.ratio}, {"vc_mb_s", c.vc_mb_s}, {"vd_mb_s", c.vd_mb_s}};
    if (c.zstd_ratio) cj["zstd_b1"] = {{"ratio", *c.zstd_ratio}, {"vc_mb_s", *c.zstd_vc_mb_s}, {"vd_mb_s", *c.zstd_vd_mb_s}};
    j["codec"].push_back(cj);
  }
  for (const auto& l : r.learnt) j["learnt"].push_back({{"path", l.path}, {"address", l.address}, {"bytes_per_s", l.bytes_per_s}});
  j["notes"] = r.notes;
  return j;
}

}  // namespace bpfplug::bench
