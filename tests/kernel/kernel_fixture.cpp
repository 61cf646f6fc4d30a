#include "kernel/kernel_fixture.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "bpfplug/features.hpp"
#include "bpfplug/libbpf_log.hpp"
#include "bpfplug/sysctl.hpp"

namespace fs = std::filesystem;

namespace bpfplug::test {
namespace {

std::atomic<int> test_counter{0};

// libbpf's notes (e.g. on the .bpfplug.meta section it skips) go to spdlog, not the test log.
const bool libbpf_logs_routed = (route_libbpf_logs(), true);

}  // namespace

void KernelTest::SetUp() {
  if (geteuid() != 0) GTEST_SKIP() << "kernel tests load BPF programs: run them as root";
  features_ = probe_kernel("/sys/fs/bpf");
  if (!features_.struct_ops) GTEST_SKIP() << "this kernel has no BPF struct_ops";
  std::string unique = std::to_string(getpid()) + "-" + std::to_string(test_counter++);
  id_ = "bpfplug-t-" + unique;
  paths_.pin_root = "/sys/fs/bpf/bpfplug-test-" + unique;
  paths_.state_dir = "/tmp/" + paths_.pin_root.filename().string();
  paths_.config_dir = paths_.state_dir.string() + "-config";
  saved_default_ = proc_sys("net/ipv4/tcp_congestion_control");
  saved_allowed_ = proc_sys("net/ipv4/tcp_allowed_congestion_control");
}

void KernelTest::TearDown() {
  if (id_.empty()) return;  // skipped in SetUp
  // Sysctls first: a default the test set by hand would (rightly) make unload refuse.
  if (proc_sys("net/ipv4/tcp_congestion_control") != saved_default_)
    write_proc_sys("net/ipv4/tcp_congestion_control", saved_default_);
  if (proc_sys("net/ipv4/tcp_allowed_congestion_control") != saved_allowed_)
    write_proc_sys("net/ipv4/tcp_allowed_congestion_control", saved_allowed_);
  cli({"unload", "--all", "--force"});
  std::error_code ec;
  fs::remove_all(paths_.state_dir, ec);
  fs::remove_all(paths_.config_dir, ec);
  // A pin root still present means unload failed: fail the test, then remove the pins.
  EXPECT_FALSE(fs::exists(paths_.pin_root)) << "unload --all left pins in " << paths_.pin_root;
  fs::remove_all(paths_.pin_root, ec);
}

std::map<std::string, std::string> KernelTest::bpfplug_env() const {
  return {{"BPFPLUG_PIN_ROOT", paths_.pin_root.string()},
          {"BPFPLUG_STATE_DIR", paths_.state_dir.string()},
          {"BPFPLUG_CONFIG_DIR", paths_.config_dir.string()}};
}

ProcessResult KernelTest::cli(const std::vector<std::string>& args, std::optional<unsigned> uid) const {
  return cli_with_env({}, args, uid);
}

ProcessResult KernelTest::cli_with_env(const std::map<std::string, std::string>& env,
                                       const std::vector<std::string>& args, std::optional<unsigned> uid) const {
  Command command;
  command.argv = {BPFPLUG_CLI};
  command.argv.insert(command.argv.end(), args.begin(), args.end());
  command.env = bpfplug_env();
  command.env.insert(env.begin(), env.end());
  command.run_as_uid = uid;
  return run(command);
}

nlohmann::json KernelTest::cli_json(const std::vector<std::string>& args) const {
  std::vector<std::string> with_json = {"--json"};
  with_json.insert(with_json.end(), args.begin(), args.end());
  auto r = cli(with_json);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return nlohmann::json::parse(r.out);
}

std::optional<std::string> KernelTest::host_conflict(const std::string& ops_name) const {
  // A plugin this kernel can't run (its metadata names what it lacks) is skipped with why.
  for (const auto& entry : catalogue_.entries()) {
    if (entry.ops_name != ops_name) continue;
    for (const auto& r : unmet_requirements(entry.meta, features_))
      return "unsupported on this kernel: " + entry.meta.name + " needs " + r.feature + " (" + r.why + ")";
  }
  if (!available(ops_name)) return std::nullopt;
  return ops_name + " is already registered on this host (e.g. by `bpfplug load`); " +
         "unload it to run this test";
}

const CatalogueEntry& KernelTest::plugin(const std::string& name) const { return catalogue_.get(name); }

bool KernelTest::available(const std::string& cc) {
  auto names = split_words(proc_sys("net/ipv4/tcp_available_congestion_control"));
  return std::find(names.begin(), names.end(), cc) != names.end();
}

std::string KernelTest::proc_sys(const std::string& relative) {
  std::ifstream in("/proc/sys/" + relative);
  std::string value;
  std::getline(in, value);
  return value;
}

void KernelTest::write_proc_sys(const std::string& relative, const std::string& value) {
  std::ofstream("/proc/sys/" + relative) << value << '\n';
}

}  // namespace bpfplug::test
