#include "comp_bench.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>

#include "../bench_paths.hpp"
#include "../host_info.hpp"
#include "../lean_flow.hpp"
#include "bpfplug/catalogue.hpp"
#include "bpfplug/comp_calibration.hpp"
#include "bpfplug/comp_contract.hpp"
#include "bpfplug/comp_cost.hpp"
#include "bpfplug/error.hpp"
#include "bpfplug/policy_loader.hpp"
#include "bpfplug/policy_manager.hpp"
#include "bpfplug/testbed/bottleneck_path.hpp"
#include "bpfplug/testbed/netns.hpp"
#include "cc_bench.hpp"
#include "comp_bench_report.hpp"
#include "comp_payload.hpp"
#include "comp_peer.hpp"
#include "peer_process.hpp"

namespace fs = std::filesystem;

namespace bpfplug::bench {
namespace {

constexpr std::uint16_t kPort = 5301;  // comp-ports is loaded with ports=5301
constexpr double kWarmUpSeconds = 1.0;


// The benchmark's own cgroup v2 directory: the peers run in it, the policies attach to it.
class BenchCgroup {
 public:
  BenchCgroup() {
    fs::path mount = cgroup2_mount();
    if (mount.empty())
      throw Error(Exit::unsupported, "cgroup v2 is not mounted: the compression policies attach to a cgroup",
                  "mount it (mount -t cgroup2 none /sys/fs/cgroup) and run the benchmark again");
    path_ = mount / ("bpfplug-bench-" + std::to_string(getpid()));
    if (mkdir(path_.c_str(), 0755) && errno != EEXIST)
      throw Error(Exit::failure, "can't create cgroup " + path_.string() + ": " + errno_text(errno));
  }
  ~BenchCgroup() { rmdir(path_.c_str()); }
  BenchCgroup(const BenchCgroup&) = delete;
  BenchCgroup& operator=(const BenchCgroup&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Where a transfer runs: the namespaces of its two ends and the receiver's address.
struct Endpoints {
  std::string sender_ns, receiver_ns, receiver_addr;
};

// One testbed path, built for as long as it lives: a TBF bottleneck, or the bare veth pair.
class TestPath {
 public:
  TestPath(const CompPath& path, const CompBenchConfig& config) {
    std::string prefix = "bpfplug-bench-" + std::to_string(getpid());
    if (!path.rate_bps) {
      veth_ = std::make_unique<testbed::VethPair>(prefix);
      ends_ = {veth_->a.name(), veth_->b.name(), testbed::VethPair::b_addr};
      return;
    }
    testbed::PathConfig pc;
    pc.rate_bps = *path.rate_bps;
    std::uint64_t bdp = static_cast<std::uint64_t>(static_cast<double>(pc.rate_bps) / 8 *
                                                   static_cast<double>(config.rtt.count()) / 1e6);
    pc.buffer_bytes = static_cast<std::uint32_t>(config.buffer_bytes ? config.buffer_bytes
                                                                     : std::max<std::uint64_t>(bdp, 100 * kPacketBytes));
    pc.one_way_delay = config.rtt / 2;
    bottleneck_ = std::make_unique<testbed::BottleneckPath>(prefix, pc);
    ends_ = {bottleneck_->sender().name(), bottleneck_->receiver().name(), testbed::BottleneckPath::receiver_addr};
  }
  const Endpoints& ends() const { return ends_; }

 private:
  std::unique_ptr<testbed::VethPair> veth_;
  std::unique_ptr<testbed::BottleneckPath> bottleneck_;
  Endpoints ends_;
};

// A compression policy loaded for a block of transfers, unloaded when it goes.
class LoadedPolicy {
 public:
  LoadedPolicy(PolicyManager& manager, const std::string& name, const fs::path& cgroup) : manager_(manager), name_(name) {
    PolicyLoadOptions options;
    options.cgroup = cgroup.string();
    options.mechanism = CompMechanism::user;  // the benchmark measures the user-space data path
    if (name == "comp-ports") options.assignments = {"ports=" + std::to_string(kPort)};
    manager_.load(name, options);
  }
  ~LoadedPolicy() {
    try {
      manager_.unload(name_);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "warning: can't unload %s: %s\n", name_.c_str(), e.what());
    }
  }
  LoadedPolicy(const LoadedPolicy&) = delete;
  LoadedPolicy& operator=(const LoadedPolicy&) = delete;
  long long negotiated() const {
    auto counters = manager_.status(name_).counters;
    auto it = counters.find("stat_negotiated");
    return it == counters.end() ? 0 : it->second;
  }

 private:
  PolicyManager& manager_;
  std::string name_;
};

std::string payload_argument(const CompBenchConfig& config, const std::string& payload) {
  return payload == "file" ? fs::absolute(config.payload_file).string() : payload;
}

struct TransferPlan {
  std::string path_label, payload, policy;
  int run = 0;
  std::uint64_t bytes = 0;
  std::optional<std::uint64_t> rate_bps;
};

class Runner {
 public:
  Runner(const CompBenchConfig& config, const fs::path& preload, const fs::path& cgroup, const Paths& paths)
      : config_(config), preload_(preload), cgroup_(cgroup), paths_(paths) {
    std::error_code ec;
    exe_ = fs::read_symlink("/proc/self/exe", ec);
    if (exe_.empty()) throw Error(Exit::failure, "can't find this program's path (/proc/self/exe)");
  }

  Transfer transfer(const Endpoints& ends, const TransferPlan& plan, const LoadedPolicy* policy) {
    Transfer t;
    t.path = plan.path_label;
    t.payload = plan.payload;
    t.policy = plan.policy;
    t.run = plan.run;
    const std::string payload = payload_argument(config_, plan.payload);
    auto spawn = [&](std::vector<std::string> args, const std::string& ns) {
      PeerSpawn s;
      s.argv = {exe_.string(), "comp-peer"};
      s.argv.insert(s.argv.end(), args.begin(), args.end());
      s.netns = ns;
      s.cgroup = cgroup_;
      if (policy) s.data_path = ProgramLaunch{s.argv, preload_, comp_contract_dir(paths_.pin_root), ""};
      return std::make_unique<PeerProcess>(s);
    };
    const std::string port = std::to_string(kPort), bytes = std::to_string(plan.bytes);
    long long negotiated_before = policy ? policy->negotiated() : 0;
    auto receiver = spawn({"receive", "--port", port, "--bytes", bytes, "--payload", payload}, ends.receiver_ns);
    if (!receiver->wait_for_line(kPeerListening, std::chrono::seconds(30))) {
      receiver->wait(std::chrono::seconds(1));
      t.error = "the receiver did not start listening: " + receiver->output();
      return t;
    }
    auto sender = spawn({"send", "--to", ends.receiver_addr, "--port", port, "--bytes", bytes, "--payload", payload},
                        ends.sender_ns);
    if (!sender->wait_for_line(kPeerReady, std::chrono::seconds(30))) {
      sender->wait(std::chrono::seconds(1));
      t.error = "the sender did not get ready: " + sender->output();
      return t;
    }
    auto before = meter_.now();  // both ends have made their payload: the transfer starts now
    sender->send_line("go");
    double expected_s = static_cast<double>(plan.bytes) * 8 / static_cast<double>(plan.rate_bps.value_or(kUnshapedAssumedBps));
    auto timeout = std::chrono::milliseconds(static_cast<long long>(60'000 + expected_s * 20'000));
    bool sender_done = sender->wait(timeout);
    bool receiver_done = receiver->wait(sender_done ? std::chrono::milliseconds(30'000) : std::chrono::milliseconds(0));
    auto after = meter_.now();
    t.ksoftirqd_cpu_s = after.ksoftirqd_s - before.ksoftirqd_s;
    t.machine_cpu_s = after.machine_busy_s - before.machine_busy_s;
    if (policy) t.negotiated = policy->negotiated() > negotiated_before;
    auto parse = [](const PeerProcess& p) {
      std::string line = p.last_json_line();
      return line.empty() ? nlohmann::json::object() : nlohmann::json::parse(line, nullptr, false);
    };
    nlohmann::json got = parse(*receiver), sent = parse(*sender);
    if (got.is_discarded()) got = nlohmann::json::object();
    if (sent.is_discarded()) sent = nlohmann::json::object();
    t.program_cpu_s = got.value("cpu_s", 0.0) + sent.value("cpu_s", 0.0);
    t.bytes = got.value("bytes", std::uint64_t{0});
    t.wire_bytes = got.value("wire_bytes", std::uint64_t{0});
    t.seconds = got.value("seconds", 0.0);
    t.ok = sender_done && receiver_done && sender->exited_ok() && receiver->exited_ok();
    if (!t.ok) {
      if (!sender_done || !receiver_done) t.error = "timed out after " + std::to_string(timeout.count() / 1000) + " s; ";
      t.error += "receiver: " + trim(receiver->output()) + " | sender: " + trim(sender->output());
    }
    return t;
  }

 private:
  static std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    if (s.size() > 600) s = "..." + s.substr(s.size() - 600);
    return s;
  }

  const CompBenchConfig& config_;
  fs::path preload_, cgroup_, exe_;
  Paths paths_;
  CpuMeter meter_;
};

// zstd -q -b1 on `file`: "-1   704505 (1.797) 291.33 MB/s  910.9 MB/s  name" (ratio = original /
// compressed) into c's zstd figures, which stay unset if zstd is missing or prints something else.
void zstd_bench(const fs::path& file, CodecFigures& c) {
  std::string cmd = "zstd -q -b1 -i3 '" + file.string() + "' 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return;
  char line[512];
  while (std::fgets(line, sizeof line, p)) {
    int level = 0;
    unsigned long long compressed = 0;
    double ratio = 0, vc = 0, vd = 0;
    if (std::sscanf(line, " -%d %llu (%lf) %lf MB/s %lf MB/s", &level, &compressed, &ratio, &vc, &vd) == 5 && ratio > 0) {
      c.zstd_ratio = 1 / ratio;
      c.zstd_vc_mb_s = vc;
      c.zstd_vd_mb_s = vd;
    }
  }
  pclose(p);
}

std::vector<CodecFigures> measure_codec(const CompBenchConfig& config, const fs::path& scratch, std::ostream& progress) {
  std::vector<CodecFigures> out;
  for (const auto& payload : config.payloads) {
    progress << "measuring the codec on " << payload << "\n";
    std::string block = payload_block(payload_argument(config, payload));
    Calibration cal = calibrate_zstd(block, 1, 0.5);
    CodecFigures c;
    c.payload = payload;
    c.ratio = cal.ratio;
    c.vc_mb_s = cal.vc_bytes_per_s / 1e6;
    c.vd_mb_s = cal.vd_bytes_per_s / 1e6;
    fs::path file = scratch / ("payload-" + payload);
    {
      std::ofstream f(file, std::ios::binary);
      f.write(block.data(), static_cast<std::streamsize>(block.size()));
    }
    zstd_bench(file, c);
    std::error_code ec;
    fs::remove(file, ec);
    out.push_back(c);
  }
  return out;
}

std::string calibration_text(const PolicyManager& manager) {
  auto status = manager.status("comp-cost");
  if (!status.calibration) return "";
  Calibration c = Calibration::from_map_value(*status.calibration);
  char buf[200];
  std::snprintf(buf, sizeof buf, "calibration at load: R %.3f, Vc %.0f MB/s, Vd %.0f MB/s; CPU headroom %u %%", c.ratio,
                c.vc_bytes_per_s / 1e6, c.vd_bytes_per_s / 1e6, status.host ? status.host->headroom_pct : 0u);
  return buf;
}

void run_path(const CompPath& path, const CompBenchConfig& config, PolicyManager& manager, Runner& runner,
              const fs::path& cgroup, const Paths& paths, CompBenchReport& report, std::ostream& progress) {
  progress << "building the testbed: " << path.label() << (config.rtt.count() ? ", rtt " + std::to_string(config.rtt.count() / 1000) + " ms" : "")
           << "\n";
  TestPath testpath(path, config);
  const std::uint64_t bytes = config.transfer_bytes(path);
  for (int run = 1; run <= config.runs; ++run) {
    // The order rotates run by run, so that no policy always follows the CPU-heavy
    // compression of another (on a VM that shows in the next transfer's speed).
    std::vector<std::string> order = config.policies;
    std::rotate(order.begin(), order.begin() + (run - 1) % static_cast<int>(order.size()), order.end());
    for (const auto& policy : order) {
      throw_if_interrupted("policies");
      std::unique_ptr<LoadedPolicy> loaded;
      if (policy != "none") {
        progress << "loading " << policy << (policy == "comp-cost" ? " (it calibrates the codec first)" : "") << "\n";
        loaded = std::make_unique<LoadedPolicy>(manager, policy, cgroup);
      }
      if (policy == "comp-cost") {
        report.calibration = calibration_text(manager);
        // The warm-up: unknown destinations are not compressed, and this transfer teaches
        // both ends the path (the sender from its delivery rate, the receiver from what it got).
        TransferPlan warm{path.label(), config.payloads.front(), "comp-cost warm-up", run,
                          std::max<std::uint64_t>(1 << 20, static_cast<std::uint64_t>(
                              static_cast<double>(path.rate_bps.value_or(kUnshapedAssumedBps)) / 8 * kWarmUpSeconds)),
                          path.rate_bps};
        progress << "  " << path.label() << " comp-cost warm-up, " << warm.bytes << " bytes\n";
        Transfer w = runner.transfer(testpath.ends(), warm, loaded.get());
        if (!w.ok) report.notes.push_back("comp-cost warm-up on " + path.label() + " failed: " + w.error);
        CompCostMaps maps(policies_dir(paths.pin_root) / "comp-cost");
        for (const auto& p : maps.paths()) report.learnt.push_back({path.label(), p.address(), static_cast<double>(p.value.bw_bps)});
      }
      for (const auto& payload : config.payloads) {
        throw_if_interrupted("policies");
        TransferPlan plan{path.label(), payload, policy, run, bytes, path.rate_bps};
        progress << "  " << path.label() << " " << payload << " " << policy << " run " << run << ": " << bytes << " bytes";
        progress.flush();
        Transfer t = runner.transfer(testpath.ends(), plan, loaded.get());
        if (t.ok)
          progress << ", " << t.seconds << " s, wire/app " << (t.bytes ? static_cast<double>(t.wire_bytes) / static_cast<double>(t.bytes) : 0)
                   << (loaded ? (t.negotiated ? ", compressed" : ", not compressed") : "") << "\n";
        else
          progress << ": failed: " << t.error << "\n";
        report.transfers.push_back(std::move(t));
      }
    }
  }
}

}  // namespace

int run_comp_bench(const CompBenchConfig& config, const fs::path& preload, std::ostream& out, std::ostream& progress,
                   bool json_out) {
  if (geteuid() != 0)
    throw Error(Exit::permission, "bench --comp builds network namespaces and loads BPF programs: Permission denied",
                "run it as root (sudo bpfplug bench --comp ...)");
  CompBenchReport report;
  report.config = config;
  report.host = host_line();

  Paths paths = private_paths();
  LinuxHost host;
  const Catalogue catalogue = Catalogue::builtin();  // the manager keeps a reference
  PolicyManager manager(host, catalogue, paths);
  if (auto left = manager.loaded(); !left.empty())  // by a killed benchmark that had this pid
    throw Error(Exit::conflict, "policy " + left.front() + " is already loaded under " + paths.pin_root.string(),
                "BPFPLUG_PIN_ROOT=" + paths.pin_root.string() + " bpfplug unload " + left.front());
  BenchCgroup cgroup;
  fs::create_directories(paths.state_dir);
  struct RemoveState {
    Paths p;
    ~RemoveState() {
      std::error_code ec;
      fs::remove_all(p.state_dir, ec);
      fs::remove(p.pin_root, ec);
    }
  } remove_state{paths};

  report.codec = measure_codec(config, paths.state_dir, progress);
  Runner runner(config, preload, cgroup.path(), paths);
  for (const auto& path : config.paths) run_path(path, config, manager, runner, cgroup.path(), paths, report, progress);

  if (!config.json_file.empty()) {
    std::ofstream f(config.json_file);
    f << to_json(report).dump(2) << "\n";
    if (!f) throw Error(Exit::failure, "can't write " + config.json_file + ": " + errno_text(errno));
  }
  if (json_out) out << to_json(report).dump(2) << "\n";
  else print_comp_report(report, out);
  std::size_t failed = std::count_if(report.transfers.begin(), report.transfers.end(), [](const Transfer& t) { return !t.ok; });
  if (failed)
    throw Error(Exit::failure, std::to_string(failed) + " transfer(s) failed", "see the failed: lines above (or the JSON's transfers[].error)");
  return 0;
}

}  // namespace bpfplug::bench
