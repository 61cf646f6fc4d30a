// `bpfplug enable`, `disable` and `apply` through run_cli(), with a FakeHost and every path
// (pins, state, boot config) in a temporary directory. No invocation may reach the kernel:
// whatever would load is refused first (no struct_ops on the fake host).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "bpfplug/boot_config.hpp"
#include "cli_fixture.hpp"
#include "fake_host.hpp"

namespace bpfplug {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using nlohmann::json;
namespace fs = std::filesystem;

using test::CliRun;

class BootCli : public test::CliTest {
 protected:
  BootCli() { host_.features_.struct_ops = false; }

  BootConfig config() const { return BootConfigStore(paths().config_file()).load(); }
};

TEST_F(BootCli, HelpListsTheVerbs) {
  auto r = run({"--help"});
  for (const char* verb : {"enable", "disable", "apply"})
    EXPECT_THAT(r.out, ::testing::ContainsRegex(std::string("\n +") + verb + " +[A-Z]"));
  EXPECT_THAT(run({"enable", "--help"}).out, HasSubstr("--now"));
  EXPECT_THAT(run({"apply", "--help"}).out, HasSubstr("--dry-run"));
}

TEST_F(BootCli, MistypedVerbsAreSuggested) {
  EXPECT_THAT(run({"enabel", "dctcp"}).err, HasSubstr("did you mean 'enable'"));
  EXPECT_THAT(run({"aply"}).err, HasSubstr("did you mean 'apply'"));
  EXPECT_THAT(run({"disabel"}).err, HasSubstr("did you mean 'disable'"));
}

TEST_F(BootCli, EnableRecordsAndSaysSo) {
  auto r = run({"enable", "dctcp", "--default", "--set", "shift_g=5"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_THAT(r.out, StartsWith("enabled dctcp at boot: variant default, tunables shift_g=5, system default"));
  EXPECT_THAT(r.out, HasSubstr(paths().config_file().string()));
  EXPECT_EQ(config().plugins.at("dctcp"), (BootEntry{"default", true, false, {{"shift_g", 5}}}));
  EXPECT_EQ(host_.ensure_bpffs_calls, 0);  // enable alone touches nothing but the file
  EXPECT_FALSE(fs::exists(paths().pin_root));
}

TEST_F(BootCli, EnableJson) {
  auto r = run({"--json", "enable", "dctcp", "--variant", "alpha0", "--allow"});
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["plugin"], "dctcp");
  EXPECT_EQ(j["config"], paths().config_file().string());
  EXPECT_EQ(j["entry"],
            json({{"variant", "alpha0"}, {"default", false}, {"allow", true}, {"tunables", json::object()}}));
  EXPECT_FALSE(j.contains("previous"));
  EXPECT_FALSE(j.contains("applied"));
}

TEST_F(BootCli, EnablingAnotherDefaultMovesIt) {
  ASSERT_EQ(run({"enable", "reno", "--default"}).code, 0);
  auto r = run({"enable", "dctcp", "--default"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("the boot default moves from reno to dctcp"));
  EXPECT_EQ(config().default_plugin(), "dctcp");
  EXPECT_FALSE(config().plugins.at("reno").make_default);
  ASSERT_EQ(run({"enable", "reno"}).code, 0);
  auto j = json::parse(run({"--json", "enable", "reno", "--default"}).out);
  EXPECT_EQ(j["default_moved_from"], "dctcp");
  EXPECT_EQ(j["previous"]["default"], false);
}

TEST_F(BootCli, EnableTwiceSaysWhatItReplaced) {
  ASSERT_EQ(run({"enable", "dctcp", "--set", "shift_g=5"}).code, 0);
  EXPECT_THAT(run({"enable", "dctcp", "--set", "shift_g=5"}).out, HasSubstr("already enabled with these settings"));
  EXPECT_THAT(run({"enable", "dctcp"}).out, HasSubstr("replaces: variant default, tunables shift_g=5"));
  EXPECT_TRUE(config().plugins.at("dctcp").tunables.empty());
}

TEST_F(BootCli, BadArgumentsAreUsageWithOrWithoutRoot) {
  for (bool privileged : {true, false}) {
    host_.privileged_ = privileged;
    auto unknown = run({"enable", "dctpc"});
    EXPECT_EQ(unknown.code, 2);
    EXPECT_THAT(unknown.err, HasSubstr("did you mean 'dctcp'"));
    EXPECT_EQ(run({"enable", "dctcp", "--set", "shift_g=11"}).code, 2);
    EXPECT_EQ(run({"enable", "dctcp", "--set", "nope=1"}).code, 2);
    EXPECT_EQ(run({"enable", "dctcp", "--variant", "alpha9"}).code, 2);
    EXPECT_EQ(run({"enable"}).code, 2);
    EXPECT_EQ(run({"disable", "rneo"}).code, 2);
    EXPECT_EQ(run({"disable"}).code, 2);
  }
  EXPECT_FALSE(fs::exists(paths().config_dir));
}

TEST_F(BootCli, NotRootIsPermission) {
  host_.privileged_ = false;
  auto r = run({"enable", "dctcp"});
  EXPECT_EQ(r.code, 3);
  EXPECT_THAT(r.err, StartsWith("error: can't enable plugin dctcp at boot: Permission denied"));
  EXPECT_THAT(r.err, HasSubstr(paths().config_file().string()));
  EXPECT_THAT(r.err, HasSubstr("sudo bpfplug enable dctcp"));
  EXPECT_FALSE(fs::exists(paths().config_dir));
  EXPECT_EQ(run({"disable", "dctcp"}).code, 3);
  EXPECT_EQ(run({"apply"}).code, 3);
  EXPECT_EQ(run({"apply", "--dry-run"}).code, 3);
}

TEST_F(BootCli, DisableRemoves) {
  ASSERT_EQ(run({"enable", "dctcp", "--default"}).code, 0);
  ASSERT_EQ(run({"enable", "reno"}).code, 0);
  auto r = run({"disable", "dctcp"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("disabled dctcp at boot: removed from " + paths().config_file().string()));
  EXPECT_THAT(r.out, HasSubstr("no plugin is the boot default any more"));
  EXPECT_EQ(config().plugins.size(), 1u);
  auto again = run({"--json", "disable", "dctcp"});
  EXPECT_EQ(again.code, 0);
  EXPECT_EQ(json::parse(again.out)["was_enabled"], false);
  EXPECT_THAT(run({"disable", "cubic"}).out, HasSubstr("cubic was not enabled at boot"));
}

TEST_F(BootCli, DisableNowOfAPluginNotLoaded) {
  ASSERT_EQ(run({"enable", "reno"}).code, 0);
  auto r = run({"disable", "reno", "--now"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("reno is not loaded; nothing to unload"));
  auto j = json::parse(run({"--json", "disable", "reno", "--now"}).out);
  EXPECT_TRUE(j["unloaded"].is_null());
}

TEST_F(BootCli, ApplyWithNothingEnabled) {
  auto r = run({"apply"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("nothing to do"));
  auto j = json::parse(run({"--json", "apply"}).out);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["plugins"], json::array());
}

TEST_F(BootCli, ApplyDryRunSaysWhatItWouldDo) {
  host_.features_.struct_ops = true;  // a dry run asks nothing of the kernel
  ASSERT_EQ(run({"enable", "dctcp", "--default", "--set", "shift_g=5"}).code, 0);
  auto r = run({"apply", "--dry-run"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("dry run, nothing changed"));
  EXPECT_THAT(r.out, HasSubstr("dctcp  would load it, make it the default (not loaded)"));
  auto j = json::parse(run({"--json", "apply", "--dry-run"}).out);
  EXPECT_EQ(j["dry_run"], true);
  ASSERT_EQ(j["plugins"].size(), 1u);
  EXPECT_EQ(j["plugins"][0]["action"], "load");
  EXPECT_EQ(j["plugins"][0]["outcome"], "planned");
  EXPECT_EQ(j["plugins"][0]["tunables"], json({{"alpha_on_init", 1024}, {"shift_g", 5}}));
  EXPECT_EQ(host_.ensure_bpffs_calls, 0);
  EXPECT_FALSE(fs::exists(paths().pin_root));
}

TEST_F(BootCli, ApplyReportsEveryFailureAndExitsWithTheFirst) {
  ASSERT_EQ(run({"enable", "dctcp"}).code, 0);
  ASSERT_EQ(run({"enable", "reno"}).code, 0);
  auto r = run({"apply"});
  EXPECT_EQ(r.code, 4);  // no struct_ops
  EXPECT_THAT(r.out, HasSubstr("dctcp  FAILED: can't load plugin dctcp"));
  EXPECT_THAT(r.out, HasSubstr("reno   FAILED: can't load plugin reno"));
  EXPECT_EQ(r.err, "error: 2 plugin(s) of the boot config could not be applied (see above)\n");
  auto j = json::parse(run({"--json", "apply"}).out);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["plugins"][1]["outcome"], "failed");
  EXPECT_EQ(j["plugins"][1]["error"]["exit_code"], 4);
}

TEST_F(BootCli, EnableNowRecordsEvenWhenLoadingFails) {
  auto r = run({"enable", "reno", "--now"});
  EXPECT_EQ(r.code, 4);
  EXPECT_THAT(r.out, HasSubstr("enabled reno at boot"));
  EXPECT_THAT(r.out, HasSubstr("reno  FAILED: can't load plugin reno"));
  EXPECT_THAT(r.err, HasSubstr("reno is enabled at boot, but applying it now failed"));
  EXPECT_TRUE(config().plugins.count("reno"));
  auto j = json::parse(run({"--json", "enable", "reno", "--now"}).out);
  EXPECT_EQ(j["applied"]["plugins"][0]["outcome"], "failed");
}

TEST_F(BootCli, CorruptConfigIsOneClearError) {
  test::write_file(paths().config_file(), "{ not json");
  for (const char* verb : {"apply", "enable", "disable"}) {
    std::vector<std::string> args{verb};
    if (std::string(verb) != "apply") args.push_back("reno");
    auto r = run(args);
    EXPECT_EQ(r.code, 1) << verb;
    EXPECT_THAT(r.err, StartsWith("error: boot config " + paths().config_file().string() + " is invalid")) << verb;
    EXPECT_THAT(r.err, HasSubstr("hint: ")) << verb;
  }
  auto j = json::parse(run({"--json", "apply"}).out);
  EXPECT_EQ(j["error"]["exit_code"], 1);
}

}  // namespace
}  // namespace bpfplug
