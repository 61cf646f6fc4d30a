// Lifecycle safety: bpfplug killed with SIGKILL at each step of load / swap / unload (the
// steps are named in the code with crash_point()), several bpfplug processes racing, and
// `restore`. After each, the host must be consistent: pins, bpfplug's state file and the
// kernel's list agree, and `bpfplug status` reports nothing half-done.
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <thread>

#include "bpfplug/sysctl.hpp"
#include "kernel/kernel_fixture.hpp"

namespace fs = std::filesystem;

namespace bpfplug::test {
namespace {

constexpr int kKilled = 128 + 9;  // the exit status process.cpp reports for SIGKILL

class Lifecycle : public KernelTest {
 protected:
  // Everything agrees and nothing is half-done.
  void expect_consistent(const std::string& plugin, const std::string& ops) {
    auto status = cli_json({"status"});
    EXPECT_TRUE(status["problems"].empty()) << status.dump(2);
    bool pinned = fs::exists(paths_.plugin_dir(plugin));
    EXPECT_EQ(pinned, available(ops)) << "pins and the kernel's list disagree";
    bool listed = false;
    for (const auto& p : status["plugins"]) listed |= p["plugin"] == plugin;
    EXPECT_EQ(listed, pinned);
    for (const auto& entry : fs::directory_iterator(paths_.pin_root, ec_)) {
      EXPECT_FALSE(entry.path().filename().string().starts_with("_")) << "staging left: " << entry.path();
    }
    if (pinned) {
      for (const auto& entry : fs::directory_iterator(paths_.plugin_dir(plugin))) {
        EXPECT_FALSE(entry.path().filename().string().starts_with("_")) << "staging left: " << entry.path();
      }
    }
  }
  ProcessResult crash_at(const std::string& point, const std::vector<std::string>& args) {
    return cli_with_env({{"BPFPLUG_CRASH_AT", point}}, args);
  }
  std::error_code ec_;
};

struct CrashCase {
  std::string point;
  std::vector<std::string> setup;    // run first (not crashed)
  std::vector<std::string> command;  // killed at `point`
  bool registered_after;             // whether bpf_dctcp is registered once repaired
  int generation_after;              // 0: not loaded
};

std::ostream& operator<<(std::ostream& os, const CrashCase& c) { return os << c.point; }

class CrashRecovery : public Lifecycle, public ::testing::WithParamInterface<CrashCase> {};

TEST_P(CrashRecovery, StatusExplainsAndRepairRecovers) {
  REQUIRE_NAME_FREE("bpf_dctcp");
  const auto& c = GetParam();
  std::string default_before = proc_sys("net/ipv4/tcp_congestion_control");
  if (!c.setup.empty()) {
    ASSERT_EQ(cli(c.setup).exit_code, 0);
  }
  auto killed = crash_at(c.point, c.command);
  ASSERT_EQ(killed.exit_code, kKilled) << "crash point " << c.point << " was not reached: " << killed.err;

  auto status = cli_json({"status"});
  ASSERT_FALSE(status["problems"].empty()) << "status must explain the half-done change: " << status.dump(2);
  auto text = cli({"status"});
  EXPECT_NE(text.out.find("bpfplug repair"), std::string::npos) << text.out;

  auto repaired = cli({"repair"});
  ASSERT_EQ(repaired.exit_code, 0) << repaired.err;
  EXPECT_NE(repaired.out.find("repaired: "), std::string::npos) << repaired.out;
  EXPECT_EQ(available("bpf_dctcp"), c.registered_after);
  expect_consistent("dctcp", "bpf_dctcp");
  if (c.generation_after) {
    EXPECT_EQ(cli_json({"status", "dctcp"})["generation"], c.generation_after);
    EXPECT_EQ(proc_sys("net/ipv4/tcp_congestion_control"), "bpf_dctcp") << "--default survived";
  } else {
    EXPECT_EQ(proc_sys("net/ipv4/tcp_congestion_control"), default_before) << "the default was put back";
  }
  // And the host is usable: a second repair has nothing to do, the next change works.
  EXPECT_NE(cli({"repair"}).out.find("nothing to repair"), std::string::npos);
  if (c.generation_after) {
    ASSERT_EQ(cli({"swap", "dctcp"}).exit_code, 0);
  } else {
    ASSERT_EQ(cli({"load", "dctcp"}).exit_code, 0);
  }
  expect_consistent("dctcp", "bpf_dctcp");
}

const std::vector<std::string> kLoad = {"load", "dctcp", "--default"};
const std::vector<std::string> kSwap = {"swap", "dctcp", "--to", "alpha0"};
const std::vector<std::string> kUnload = {"unload", "dctcp"};

INSTANTIATE_TEST_SUITE_P(
    Points, CrashRecovery,
    ::testing::Values(CrashCase{"load-journaled", {}, kLoad, false, 0},
                      CrashCase{"load-registered", {}, kLoad, false, 0},
                      CrashCase{"load-pinned", {}, kLoad, false, 0},
                      CrashCase{"load-published", {}, kLoad, false, 0},
                      CrashCase{"load-default-set", {}, kLoad, false, 0},
                      CrashCase{"swap-journaled", kLoad, kSwap, true, 1},
                      CrashCase{"swap-staged", kLoad, kSwap, true, 1},
                      CrashCase{"swap-switched", kLoad, kSwap, true, 2},
                      CrashCase{"swap-published", kLoad, kSwap, true, 2},
                      CrashCase{"unload-journaled", kLoad, kUnload, false, 0},
                      CrashCase{"unload-unpinned", kLoad, kUnload, false, 0}),
    [](const auto& info) {
      std::string name = info.param.point;
      std::replace(name.begin(), name.end(), '-', '_');
      return name;
    });

TEST_F(Lifecycle, TheNextCommandRepairsFirst) {
  REQUIRE_NAME_FREE("bpf_dctcp");
  ASSERT_EQ(crash_at("load-pinned", {"load", "dctcp"}).exit_code, kKilled);
  auto again = cli({"load", "dctcp"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("a load of dctcp was interrupted"), std::string::npos)
      << "the repair is reported: " << again.err;
  expect_consistent("dctcp", "bpf_dctcp");
}

TEST_F(Lifecycle, ASecondBpfplugWaitsForTheLockThenFailsClearly) {
  REQUIRE_NAME_FREE("bpf_reno");
  fs::create_directories(paths_.state_dir);
  int fd = ::open(paths_.lock_file().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX), 0);  // as if another bpfplug were mid-change
  const std::map<std::string, std::string> short_wait = {{"BPFPLUG_LOCK_TIMEOUT_MS", "1000"}};
  auto r = cli_with_env(short_wait, {"load", "reno"});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("another bpfplug is changing plugins"), std::string::npos) << r.err;
  EXPECT_FALSE(available("bpf_reno"));
  // Released while the second one waits: it proceeds.
  std::thread release([fd] {
    usleep(500000);
    ::close(fd);
  });
  auto waited = cli_with_env(short_wait, {"load", "reno"});
  release.join();
  EXPECT_EQ(waited.exit_code, 0) << waited.err;
  EXPECT_TRUE(available("bpf_reno"));
}

TEST_F(Lifecycle, RacingProcessesLeaveAConsistentState) {
  REQUIRE_NAME_FREE("bpf_dctcp");
  const std::vector<std::vector<std::string>> commands = {
      {"load", "dctcp"}, {"swap", "dctcp", "--to", "alpha0"}, {"swap", "dctcp", "--to", "default"},
      {"unload", "dctcp"}};
  std::atomic<int> unexpected{0};
  std::mutex mutex;
  std::string report;
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      std::mt19937 rng(w);
      for (int i = 0; i < 8; ++i) {
        const auto& args = commands[rng() % commands.size()];
        auto r = cli(args);
        // Success, or a clean refusal of a state another process just changed.
        if (r.exit_code != 0 && r.exit_code != 5) {
          ++unexpected;
          std::lock_guard lock(mutex);
          report += args[0] + " exited " + std::to_string(r.exit_code) + ": " + r.err + "\n";
        }
      }
    });
  }
  for (auto& t : workers) t.join();
  EXPECT_EQ(unexpected, 0) << report;
  expect_consistent("dctcp", "bpf_dctcp");
  if (available("bpf_dctcp")) {
    auto status = cli_json({"status", "dctcp"});
    EXPECT_EQ(status["generations"].size(), 1u) << status.dump(2);
  }
}

TEST_F(Lifecycle, RestoreReturnsTheExactDefaultAndAllowedList) {
  REQUIRE_NAME_FREE("bpf_dctcp");
  REQUIRE_NAME_FREE("bpf_reno");
  // Start from a setting of our own so that "exact" is checked, not just "the usual one".
  write_proc_sys("net/ipv4/tcp_allowed_congestion_control", "cubic reno");
  write_proc_sys("net/ipv4/tcp_congestion_control", "cubic");
  std::string default_before = proc_sys("net/ipv4/tcp_congestion_control");
  std::string allowed_before = proc_sys("net/ipv4/tcp_allowed_congestion_control");

  ASSERT_EQ(cli({"load", "dctcp", "--default", "--allow"}).exit_code, 0);
  ASSERT_EQ(cli({"load", "reno", "--allow"}).exit_code, 0);
  ASSERT_EQ(cli({"swap", "dctcp", "--to", "alpha0"}).exit_code, 0);
  ASSERT_NE(proc_sys("net/ipv4/tcp_allowed_congestion_control"), allowed_before);

  auto r = cli({"--json", "restore"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["unloaded"].size(), 2u);
  EXPECT_EQ(j["restored"]["default"], default_before);
  EXPECT_EQ(proc_sys("net/ipv4/tcp_congestion_control"), default_before);
  EXPECT_EQ(proc_sys("net/ipv4/tcp_allowed_congestion_control"), allowed_before);
  EXPECT_FALSE(available("bpf_dctcp"));
  EXPECT_FALSE(available("bpf_reno"));
  EXPECT_FALSE(fs::exists(paths_.pin_root));
  EXPECT_FALSE(fs::exists(paths_.state_file()));
  // Nothing left to restore now.
  auto again = cli({"restore"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("nothing to restore"), std::string::npos) << again.out;
}

}  // namespace
}  // namespace bpfplug::test
