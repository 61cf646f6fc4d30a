// Driving openEuler's kernel tcp_comp (kernel_comp.hpp), through the command line with a
// FakeHost whose sysctl tree has tcp_comp's two knobs. No kernel here has tcp_comp, so this is
// where its mechanism is tested: what bpfplug writes, refuses and puts back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_fixture.hpp"
#include "bpfplug/error.hpp"
#include "bpfplug/kernel_comp.hpp"
#include "bpfplug/policy_manager.hpp"
#include "error_of.hpp"
#include "fake_host.hpp"

namespace bpfplug {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;
namespace fs = std::filesystem;

TEST(KernelCompMechanism, AutoDrivesTcpCompOnlyForThePolicyItCanExpress) {
  constexpr auto automatic = CompMechanism::automatic;
  EXPECT_EQ(choose_comp_mechanism(automatic, "comp-ports", true, false), CompMechanism::kernel);
  EXPECT_EQ(choose_comp_mechanism(automatic, "comp-ports", false, false), CompMechanism::user);
  EXPECT_EQ(choose_comp_mechanism(automatic, "comp-cost", true, false), CompMechanism::user);
  // Only a sock_ops program can be narrowed to a cgroup.
  EXPECT_EQ(choose_comp_mechanism(automatic, "comp-ports", true, true), CompMechanism::user);
  EXPECT_EQ(choose_comp_mechanism(CompMechanism::user, "comp-ports", true, false), CompMechanism::user);
  EXPECT_EQ(choose_comp_mechanism(CompMechanism::kernel, "comp-ports", true, false), CompMechanism::kernel);
}

TEST(KernelCompMechanism, KernelIsRefusedWhereItCannotWork) {
  auto no_tcp_comp = test::error_of([] { choose_comp_mechanism(CompMechanism::kernel, "comp-ports", false, false); });
  EXPECT_EQ(no_tcp_comp.code(), Exit::unsupported);
  EXPECT_THAT(no_tcp_comp.hint(), HasSubstr("leave out --mechanism kernel"));
  auto per_connection = test::error_of([] { choose_comp_mechanism(CompMechanism::kernel, "comp-cost", true, false); });
  EXPECT_EQ(per_connection.code(), Exit::unsupported);
  EXPECT_THAT(per_connection.what(), HasSubstr("never merged"));
  auto cgroup = test::error_of([] { choose_comp_mechanism(CompMechanism::kernel, "comp-ports", true, true); });
  EXPECT_EQ(cgroup.code(), Exit::usage);
  EXPECT_EQ(test::error_of([] { parse_comp_mechanism("fast"); }).code(), Exit::usage);
  EXPECT_EQ(parse_comp_mechanism("auto"), CompMechanism::automatic);
  EXPECT_EQ(to_string(parse_comp_mechanism("kernel")), "kernel");
}

using test::CliRun;

// A host whose kernel has tcp_comp, its knobs as the kernel shows them when nothing is set.
class KernelComp : public test::CliTest {
 protected:
  KernelComp() {
    host_.features_.tcp_comp = host_.features_.tcp_comp_btf = true;
    test::write_file(ports_file(), "\n");
    test::write_file(local_file(), "0\n");
  }

  fs::path ports_file() const { return dir_.path() / "sys/net/ipv4/tcp_compression_ports"; }
  fs::path local_file() const { return dir_.path() / "sys/net/ipv4/tcp_compression_local"; }
  std::string knobs() const { return test::read_file(ports_file()) + "|" + test::read_file(local_file()); }
};

TEST_F(KernelComp, CompPortsSetsTcpCompsSysctlsAndUnloadPutsThemBack) {
  auto load = run({"load", "comp-ports", "--set", "ports=8080,9000-9100", "--set", "local=1"});
  ASSERT_EQ(load.code, 0) << load.err;
  EXPECT_THAT(load.out, HasSubstr("loaded policy comp-ports 1.0.0 (openEuler tcp_comp"));
  EXPECT_EQ(knobs(), "8080,9000-9100\n|1\n");
  EXPECT_FALSE(fs::exists(paths().pin_root)) << "the kernel mechanism attaches no program";

  auto status = run({"status", "comp-ports", "--json"});
  ASSERT_EQ(status.code, 0) << status.err;
  auto j = json::parse(status.out);
  EXPECT_EQ(j["mechanism"], "kernel");
  EXPECT_EQ(j["portsets"]["ports"], "8080,9000-9100");
  EXPECT_EQ(j["tunables"]["local"], 1);
  EXPECT_FALSE(j.contains("set_by_bpfplug"));

  auto again = run({"load", "comp-ports", "--set", "ports=80"});
  EXPECT_EQ(again.code, 5);
  EXPECT_THAT(again.err, HasSubstr("already loaded"));
  auto other = run({"load", "comp-cost"});
  EXPECT_EQ(other.code, 5);
  EXPECT_THAT(other.err, HasSubstr("the compression policy comp-ports is loaded"));
  EXPECT_EQ(knobs(), "8080,9000-9100\n|1\n");

  auto unload = run({"unload", "comp-ports"});
  ASSERT_EQ(unload.code, 0) << unload.err;
  EXPECT_EQ(knobs(), "\n|0\n");
  EXPECT_FALSE(fs::exists(paths().tcp_comp_record()));
  EXPECT_EQ(run({"status", "comp-ports"}).code, 5);
}

TEST_F(KernelComp, APortSetLeftByOthersIsNotOverwritten) {
  test::write_file(ports_file(), "443\n");
  auto r = run({"load", "comp-ports", "--set", "ports=8080"});
  EXPECT_EQ(r.code, 5);
  EXPECT_THAT(r.err, HasSubstr("already compresses ports 443"));
  EXPECT_THAT(r.err, HasSubstr("sysctl -w net.ipv4.tcp_compression_ports="));
  EXPECT_EQ(knobs(), "443\n|0\n");
  EXPECT_FALSE(fs::exists(paths().tcp_comp_record()));
}

TEST_F(KernelComp, ValuesChangedAfterLoadAreShownAndLeftAtUnload) {
  ASSERT_EQ(run({"load", "comp-ports", "--set", "ports=8080"}).code, 0);
  test::write_file(ports_file(), "22\n");
  auto status = run({"status", "comp-ports"});
  ASSERT_EQ(status.code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("ports = 22"));
  EXPECT_THAT(status.out, HasSubstr("changed outside bpfplug since load: bpfplug set ports = 8080"));
  ASSERT_EQ(run({"unload", "comp-ports"}).code, 0);
  EXPECT_EQ(knobs(), "22\n|0\n") << "an administrator's later change is theirs";
  EXPECT_FALSE(fs::exists(paths().tcp_comp_record()));
}

TEST_F(KernelComp, UserPathPoliciesAreRefusedWhileTcpCompCompresses) {
  if (cgroup2_mount().empty()) GTEST_SKIP() << "needs a cgroup v2 mount to get past argument checks";
  test::write_file(ports_file(), "443\n");
  for (auto args : std::vector<std::vector<std::string>>{{"load", "comp-ports", "--mechanism", "user"},
                                                         {"load", "comp-cost"}}) {
    auto r = run(args);
    EXPECT_EQ(r.code, 5) << args[1];
    EXPECT_THAT(r.err, HasSubstr("compressed twice"));
    EXPECT_THAT(r.err, HasSubstr("--mechanism kernel"));
  }
  EXPECT_EQ(knobs(), "443\n|0\n");
  EXPECT_FALSE(fs::exists(paths().pin_root));
}

TEST_F(KernelComp, MechanismArgumentsAreCheckedFirst) {
  struct Case {
    std::vector<std::string> args;
    int code;
    const char* says;
  };
  host_.privileged_ = false;  // argument errors come before the privilege check
  for (const auto& c : std::vector<Case>{
           {{"load", "comp-ports", "--mechanism", "fast"}, 2, "unknown mechanism"},
           {{"load", "comp-cost", "--mechanism", "kernel"}, 4, "decides per connection"},
           {{"load", "comp-ports", "--mechanism", "kernel", "--cgroup", "x"}, 2, "whole host"},
           {{"load", "reno", "--mechanism", "kernel"}, 2, "--mechanism is for compression policies"},
       }) {
    auto r = run(c.args);
    EXPECT_EQ(r.code, c.code) << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.says));
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_EQ(knobs(), "\n|0\n");
}

TEST_F(KernelComp, UnreadableStateIsReportedWithWhatToDo) {
  test::write_file(ports_file(), "0\n");  // the kernel's bitmap allows port 0; bpfplug's port sets do not
  auto bad_sysctl = run({"load", "comp-ports", "--set", "ports=80"});
  EXPECT_EQ(bad_sysctl.code, 1);
  EXPECT_THAT(bad_sysctl.err, HasSubstr("holds what bpfplug can't read"));
  EXPECT_THAT(bad_sysctl.err, HasSubstr("sysctl -w net.ipv4.tcp_compression_ports="));
  EXPECT_EQ(knobs(), "0\n|0\n");

  test::write_file(ports_file(), "\n");
  test::write_file(paths().tcp_comp_record(), "{ not json");
  auto bad_record = run({"status", "comp-ports"});
  EXPECT_EQ(bad_record.code, 1);
  EXPECT_THAT(bad_record.err, HasSubstr("is corrupt"));
  EXPECT_THAT(bad_record.err, HasSubstr("then remove it"));
}

TEST_F(KernelComp, StockKernelHasNoKernelMechanism) {
  host_.features_.tcp_comp = false;
  auto r = run({"load", "comp-ports", "--mechanism", "kernel", "--set", "ports=80"});
  EXPECT_EQ(r.code, 4);
  EXPECT_THAT(r.err, HasSubstr("no openEuler tcp_comp"));
}

TEST_F(KernelComp, ProbeSaysWhichPolicyDrivesTcpComp) {
  auto with = describe_features(host_.features_);
  auto line = std::find_if(with.begin(), with.end(), [](const auto& f) { return f.name == "tcp_comp"; });
  ASSERT_NE(line, with.end());
  EXPECT_TRUE(line->present);
  EXPECT_THAT(line->detail, HasSubstr("BTF type tcp_comp_context"));
  EXPECT_THAT(line->consequence, HasSubstr("comp-ports drives its sysctls"));
  host_.features_.tcp_comp = host_.features_.tcp_comp_btf = false;
  auto without = describe_features(host_.features_);
  line = std::find_if(without.begin(), without.end(), [](const auto& f) { return f.name == "tcp_comp"; });
  EXPECT_FALSE(line->present);
  EXPECT_THAT(line->consequence, HasSubstr("user-space data path"));
}

}  // namespace
}  // namespace bpfplug
