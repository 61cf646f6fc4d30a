// PluginManager refusals: each one must name the right exit code and change nothing on the host.
// Every load here fails before the kernel is asked; none may reach load_and_pin().
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bpfplug/error.hpp"
#include "bpfplug/plugin_manager.hpp"
#include "fake_host.hpp"
#include "test_objects.hpp"

namespace bpfplug {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

class ManagerPreflight : public ::testing::Test {
 protected:
  ManagerPreflight() : before_(test::congestion_sysctl_snapshot(sysctl_root())) {}

  fs::path sysctl_root() const { return dir_.path() / "sys"; }
  Paths paths() const { return {dir_.path() / "bpffs/bpfplug", dir_.path() / "state"}; }
  PluginManager manager(Catalogue catalogue = Catalogue::builtin()) {
    return PluginManager(host_, std::move(catalogue), paths());
  }

  // Runs `fn`, which must throw bpfplug::Error, and checks that the host is as before.
  template <typename Fn>
  Error refusal(Fn fn) {
    Error caught(Exit::ok, "");
    try {
      fn();
      ADD_FAILURE() << "expected bpfplug::Error";
    } catch (const Error& e) {
      caught = e;
    }
    EXPECT_EQ(test::congestion_sysctl_snapshot(sysctl_root()), before_);
    EXPECT_FALSE(fs::exists(paths().pin_root));
    EXPECT_FALSE(fs::exists(paths().state_file()));
    return caught;
  }

  test::TempDir dir_;
  test::FakeHost host_{sysctl_root()};
  std::string before_;
};

LoadOptions with_set(std::vector<std::string> assignments) {
  LoadOptions options;
  options.assignments = std::move(assignments);
  return options;
}

TEST_F(ManagerPreflight, LoadUnknownPluginIsUsage) {
  auto e = refusal([&] { manager().load("rneo", {}); });
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_THAT(e.hint(), HasSubstr("did you mean 'reno'"));
  EXPECT_EQ(host_.ensure_bpffs_calls, 0);
  EXPECT_FALSE(fs::exists(paths().state_dir));
}

TEST_F(ManagerPreflight, LoadMalformedSetIsUsage) {
  auto e = refusal([&] { manager().load("reno", with_set({"x"})); });
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_THAT(e.what(), HasSubstr("malformed --set 'x'"));
  EXPECT_EQ(host_.ensure_bpffs_calls, 0);
}

TEST_F(ManagerPreflight, LoadUnknownTunableIsUsage) {
  auto e = refusal([&] { manager().load("reno", with_set({"beta=1"})); });
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_THAT(e.what(), HasSubstr("no tunable 'beta'"));
}

TEST_F(ManagerPreflight, ArgumentErrorsComeBeforePrivilegeCheck) {
  host_.privileged_ = false;
  EXPECT_EQ(refusal([&] { manager().load("nosuch", {}); }).code(), Exit::usage);
  EXPECT_EQ(refusal([&] { manager().load("reno", with_set({"=1"})); }).code(), Exit::usage);
}

TEST_F(ManagerPreflight, LoadUnprivilegedIsPermission) {
  host_.privileged_ = false;
  auto e = refusal([&] { manager().load("reno", {}); });
  EXPECT_EQ(e.code(), Exit::permission);
  EXPECT_STREQ(e.what(), "can't load plugin reno: Permission denied");
  EXPECT_THAT(e.hint(), HasSubstr("run as root"));
  EXPECT_EQ(host_.ensure_bpffs_calls, 0);
  EXPECT_FALSE(fs::exists(paths().state_dir));
}

TEST_F(ManagerPreflight, LoadWithoutBtfIsUnsupported) {
  host_.features_.btf = false;
  auto e = refusal([&] { manager().load("reno", {}); });
  EXPECT_EQ(e.code(), Exit::unsupported);
  EXPECT_THAT(e.what(), HasSubstr("no BTF"));
  EXPECT_EQ(host_.ensure_bpffs_calls, 0);
}

TEST_F(ManagerPreflight, LoadWithoutStructOpsIsUnsupported) {
  host_.features_.struct_ops = false;
  auto e = refusal([&] { manager().load("reno", {}); });
  EXPECT_EQ(e.code(), Exit::unsupported);
  EXPECT_THAT(e.what(), HasSubstr("struct_ops"));
  EXPECT_EQ(host_.ensure_bpffs_calls, 0);
}

TEST_F(ManagerPreflight, LoadWhenBpffsCannotBeMountedIsUnsupported) {
  host_.bpffs_mountable = false;
  auto e = refusal([&] { manager().load("reno", {}); });
  EXPECT_EQ(e.code(), Exit::unsupported);
  EXPECT_THAT(e.what(), HasSubstr(paths().bpffs().string()));
  EXPECT_EQ(host_.ensure_bpffs_calls, 1);
  EXPECT_FALSE(fs::exists(paths().state_dir));  // the lock is taken only after bpffs is there
}

TEST_F(ManagerPreflight, LoadClashingWithKernelNameIsConflict) {
  Catalogue clash({Catalogue::describe(test::clash_cubic_elf())});
  LoadOptions options;
  options.make_default = options.allow = true;
  auto e = refusal([&] { manager(clash).load("clash-cubic", options); });
  EXPECT_EQ(e.code(), Exit::conflict);
  EXPECT_THAT(e.what(), HasSubstr("already has a congestion control named cubic"));
}

TEST_F(ManagerPreflight, UnloadNotLoadedIsConflict) {
  auto e = refusal([&] { manager().unload("reno", false); });
  EXPECT_EQ(e.code(), Exit::conflict);
  EXPECT_THAT(e.what(), HasSubstr("not loaded"));
}

TEST_F(ManagerPreflight, UnloadUnknownIsUsage) {
  auto e = refusal([&] { manager().unload("rneo", false); });
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_THAT(e.hint(), HasSubstr("did you mean 'reno'"));
}

TEST_F(ManagerPreflight, UnloadUnprivilegedIsPermission) {
  host_.privileged_ = false;
  auto e = refusal([&] { manager().unload("reno", false); });
  EXPECT_EQ(e.code(), Exit::permission);
  EXPECT_FALSE(fs::exists(paths().state_dir));
}

TEST_F(ManagerPreflight, UnloadAllWithNothingLoadedDoesNothing) {
  EXPECT_TRUE(manager().unload_all(false).empty());
  EXPECT_EQ(test::congestion_sysctl_snapshot(sysctl_root()), before_);
  EXPECT_FALSE(fs::exists(paths().pin_root));
  EXPECT_FALSE(fs::exists(paths().state_file()));
}

TEST_F(ManagerPreflight, StatusNotLoadedIsConflict) {
  auto e = refusal([&] { manager().status("reno"); });
  EXPECT_EQ(e.code(), Exit::conflict);
  EXPECT_STREQ(e.what(), "plugin reno is not loaded");
}

TEST_F(ManagerPreflight, StatusUnknownIsUsage) {
  EXPECT_EQ(refusal([&] { manager().status("rneo"); }).code(), Exit::usage);
}

TEST_F(ManagerPreflight, StatusUnprivilegedIsPermission) {
  host_.privileged_ = false;
  EXPECT_EQ(refusal([&] { manager().status("reno"); }).code(), Exit::permission);
}

TEST_F(ManagerPreflight, NothingLoadedWithoutPins) { EXPECT_TRUE(manager().loaded().empty()); }

TEST_F(ManagerPreflight, UnprivilegedLoadedComesFromStateCheckedAgainstKernel) {
  host_.privileged_ = false;
  HostState state;
  state.plugins["clash-cubic"].ops_name = "cubic";  // "cubic" is in the fake kernel's list
  state.plugins["reno"].ops_name = "bpf_reno";      // "bpf_reno" is not
  StateStore(paths().state_file()).save(state);
  EXPECT_THAT(manager().loaded(), ElementsAre("clash-cubic"));
}

TEST_F(ManagerPreflight, KernelCongestionReadsSysctlsAndPreviousDefault) {
  auto kernel = manager().kernel_congestion();
  EXPECT_THAT(kernel.available, ElementsAre("reno", "bbr", "cubic"));
  EXPECT_THAT(kernel.allowed, ElementsAre("reno", "bbr"));
  EXPECT_EQ(kernel.current_default, "bbr");
  EXPECT_FALSE(kernel.previous_default.has_value());

  HostState state;
  state.previous_default = "cubic";
  StateStore(paths().state_file()).save(state);
  EXPECT_EQ(manager().kernel_congestion().previous_default, "cubic");
}

// dctcp declares that it needs bpf_setsockopt from BPF congestion control (Linux 5.10 lacks
// it): on such a kernel it is refused with the reason, before anything is touched.
TEST_F(ManagerPreflight, PluginNeedingAMissingKernelFeatureIsUnsupported) {
  host_.features_.cc_setsockopt = false;
  auto e = refusal([&] { manager().load("dctcp", {}); });
  EXPECT_EQ(e.code(), Exit::unsupported);
  EXPECT_THAT(e.what(), HasSubstr("not supported on this kernel"));
  EXPECT_THAT(e.what(), HasSubstr("cc_setsockopt"));
  EXPECT_THAT(e.what(), HasSubstr("RFC 8257"));
  EXPECT_THAT(e.hint(), HasSubstr("bpfplug probe"));
  EXPECT_EQ(host_.ensure_bpffs_calls, 0);
}

// A plugin built against newer headers may name a feature this bpfplug cannot check.
TEST_F(ManagerPreflight, RequirementThisBpfplugDoesNotKnowIsUnsupported) {
  CatalogueEntry reno = Catalogue::builtin().get("reno");
  reno.meta.requirements.push_back({"frobnication", "needs it"});
  auto e = refusal([&] { manager(Catalogue({reno})).load("reno", {}); });
  EXPECT_EQ(e.code(), Exit::unsupported);
  EXPECT_THAT(e.what(), HasSubstr("'frobnication', which this bpfplug does not know"));
  EXPECT_THAT(e.hint(), HasSubstr("upgrade bpfplug"));
}

}  // namespace
}  // namespace bpfplug
