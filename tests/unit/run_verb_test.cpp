// `bpfplug run` up to the exec (run_verb.hpp): what it refuses before starting anything, and the
// launch it hands the host (a FakeHost records it instead of exec'ing). The launched program's
// behaviour is the data-path kernel tests' subject (tests/kernel/datapath_test.cpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "bpfplug/policy_loader.hpp"
#include "bpfplug/program_launch.hpp"
#include "cli_fixture.hpp"
#include "fake_host.hpp"

namespace bpfplug {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class RunVerb : public test::CliTest {
 protected:
  RunVerb() {
    test::write_file(dir_.path() / "lib/libbpfplug_preload.so", "");
    setenv("BPFPLUG_PRELOAD_LIBRARY", (dir_.path() / "lib/libbpfplug_preload.so").c_str(), 1);
  }
  ~RunVerb() override { unsetenv("BPFPLUG_PRELOAD_LIBRARY"); }

  // What a loaded user-space-path policy leaves in bpffs, as far as run looks.
  void pin_policy(const std::string& name) { test::write_file(policies_dir(paths().pin_root) / name / "link", ""); }
};

TEST_F(RunVerb, HandsTheProgramTheLibraryTheMapsAndTheLogSetting) {
  pin_policy("comp-ports");
  auto r = run({"run", "--policy", "comp-ports", "--log", "off", "--", "socat", "-u", "TCP-LISTEN:80", "-"});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(host_.launched.size(), 1u);
  const ProgramLaunch& launch = host_.launched[0];
  EXPECT_EQ(launch.argv, (std::vector<std::string>{"socat", "-u", "TCP-LISTEN:80", "-"}));
  EXPECT_EQ(launch.preload, dir_.path() / "lib/libbpfplug_preload.so");
  EXPECT_EQ(launch.contract_dir, paths().pin_root / "_comp");
  EXPECT_EQ(launch.log, "off");
  // Without --policy, whichever policy is loaded.
  EXPECT_EQ(run({"run", "--", "true"}).code, 0);
}

TEST_F(RunVerb, TheEnvironmentPutsTheLibraryFirstAndKeepsTheProgramsOwnPreloads) {
  ProgramLaunch launch{{"redis-server"}, "/usr/lib/bpfplug/libbpfplug_preload.so", "/sys/fs/bpf/bpfplug/_comp", ""};
  auto env = launch_environment(launch, 64, 65, "/usr/lib/libjemalloc.so");
  std::map<std::string, std::string> vars(env.begin(), env.end());
  EXPECT_EQ(vars["LD_PRELOAD"], "/usr/lib/bpfplug/libbpfplug_preload.so:/usr/lib/libjemalloc.so");
  EXPECT_EQ(vars["BPFPLUG_COMP_MAP_FDS"], "64,65");
  EXPECT_EQ(vars["BPFPLUG_PIN_ROOT"], "/sys/fs/bpf/bpfplug");
  EXPECT_FALSE(vars.count("BPFPLUG_PRELOAD_LOG")) << "the program's stderr by default";
  launch.log = "/var/log/comp.log";
  auto with_log = launch_environment(launch, 64, 65, nullptr);
  std::map<std::string, std::string> vars2(with_log.begin(), with_log.end());
  EXPECT_EQ(vars2["LD_PRELOAD"], "/usr/lib/bpfplug/libbpfplug_preload.so");
  EXPECT_EQ(vars2["BPFPLUG_PRELOAD_LOG"], "/var/log/comp.log");
}

TEST_F(RunVerb, RefusesWhatCannotCompressAndStartsNothing) {
  auto no_program = run({"run"});
  EXPECT_EQ(no_program.code, 2);

  auto none_loaded = run({"run", "--", "socat"});
  EXPECT_EQ(none_loaded.code, 1);
  EXPECT_THAT(none_loaded.err, HasSubstr("no compression policy is loaded"));
  EXPECT_THAT(none_loaded.err, HasSubstr("bpfplug load comp-ports"));

  pin_policy("comp-ports");
  auto other = run({"run", "--policy", "comp-cost", "--", "socat"});
  EXPECT_EQ(other.code, 5);
  EXPECT_THAT(other.err, HasSubstr("the loaded compression policy is comp-ports, not comp-cost"));

  auto cc = run({"run", "--policy", "cubic", "--", "socat"});
  EXPECT_EQ(cc.code, 2);
  EXPECT_THAT(cc.err, HasSubstr("not a compression policy"));
  auto unknown = run({"run", "--policy", "comp-cots", "--", "socat"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("comp-cost"));

  host_.privileged_ = false;
  auto user = run({"run", "--", "socat"});
  EXPECT_EQ(user.code, 3);
  EXPECT_THAT(user.err, HasSubstr("sudo bpfplug run"));
  host_.privileged_ = true;

  setenv("BPFPLUG_PRELOAD_LIBRARY", (dir_.path() / "nowhere.so").c_str(), 1);
  auto no_library = run({"run", "--", "socat"});
  EXPECT_EQ(no_library.code, 1);
  EXPECT_THAT(no_library.err, HasSubstr("can't find libbpfplug_preload.so"));

  EXPECT_TRUE(host_.launched.empty());
}

TEST_F(RunVerb, RefusedWhereTheKernelsTcpCompCompresses) {
  host_.features_.tcp_comp = true;
  test::write_file(dir_.path() / "sys/net/ipv4/tcp_compression_ports", "\n");
  test::write_file(dir_.path() / "sys/net/ipv4/tcp_compression_local", "0\n");
  ASSERT_EQ(run({"load", "comp-ports", "--set", "ports=8080"}).code, 0);
  auto r = run({"run", "--", "socat"});
  EXPECT_EQ(r.code, 5);
  EXPECT_THAT(r.err, HasSubstr("drives the kernel's tcp_comp"));
  EXPECT_TRUE(host_.launched.empty());
}

}  // namespace
}  // namespace bpfplug
