// The command line through run_cli(), with a FakeHost and paths in a temporary directory.
// No invocation here may get as far as the kernel: every load is refused first.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_fixture.hpp"
#include "fake_host.hpp"

namespace bpfplug {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using nlohmann::json;

using test::CliRun;

using Cli = test::CliTest;

bool one_error_line(const std::string& text) {
  return text.starts_with("error: ") && text.ends_with('\n') && std::count(text.begin(), text.end(), '\n') == 1;
}

TEST_F(Cli, HelpListsVerbs) {
  auto r = run({"--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* verb : {"list", "load", "swap", "unload", "status", "repair", "restore", "probe"})
    EXPECT_THAT(r.out, ::testing::ContainsRegex(std::string("\n +") + verb + " +[A-Z]"));
  EXPECT_THAT(r.out, HasSubstr("--json"));
}

TEST_F(Cli, VersionExitsZero) {
  auto r = run({"--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("bpfplug "));
}

TEST_F(Cli, NoVerbIsUsage) {
  auto r = run({});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(one_error_line(r.err)) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST_F(Cli, UnknownVerbIsUsage) {
  auto r = run({"frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(one_error_line(r.err)) << r.err;
}

TEST_F(Cli, LoadWithoutNameIsUsage) {
  auto r = run({"load"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("NAME"));
}

TEST_F(Cli, LoadUnknownPluginIsOneErrorLine) {
  auto r = run({"load", "nosuch"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(one_error_line(r.err)) << r.err;
  EXPECT_THAT(r.err, HasSubstr("unknown plugin 'nosuch'"));
  EXPECT_TRUE(r.out.empty());
}

TEST_F(Cli, JsonErrorGoesToStdout) {
  for (auto args : {std::vector<std::string>{"--json", "load", "nosuch"}, {"load", "nosuch", "--json"}}) {
    auto r = run(args);
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(r.err.empty()) << r.err;
    auto j = json::parse(r.out);
    ASSERT_TRUE(j.contains("error")) << r.out;
    EXPECT_EQ(j["error"]["message"], "unknown plugin 'nosuch'");
    EXPECT_TRUE(j["error"]["hint"].is_string());
    EXPECT_EQ(j["error"]["exit_code"], 2);
  }
}

TEST_F(Cli, JsonParseErrorIsJsonToo) {
  auto r = run({"--json", "frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(json::parse(r.out)["error"]["exit_code"], 2);
}

TEST_F(Cli, LoadMalformedSetIsUsage) {
  auto r = run({"load", "reno", "--set", "x"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("malformed --set 'x'"));
}

TEST_F(Cli, LoadTypoSuggestsPlugin) {
  auto r = run({"load", "rneo"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("(hint: did you mean 'reno'?"));
}

TEST_F(Cli, LoadAsNonRootIsPermission) {
  host_.privileged_ = false;
  auto r = run({"load", "reno"});
  EXPECT_EQ(r.code, 3);
  EXPECT_TRUE(one_error_line(r.err)) << r.err;
  EXPECT_THAT(r.err, HasSubstr("run as root"));
}

TEST_F(Cli, LoadOnKernelWithoutStructOpsIsUnsupported) {
  host_.features_.struct_ops = false;
  EXPECT_EQ(run({"load", "reno"}).code, 4);
}

TEST_F(Cli, UnloadNeedsNameOrAll) {
  auto neither = run({"unload"});
  EXPECT_EQ(neither.code, 2);
  EXPECT_THAT(neither.err, HasSubstr("NAME or --all"));
  EXPECT_EQ(run({"unload", "reno", "--all"}).code, 2);
}

TEST_F(Cli, UnloadNotLoadedIsConflict) {
  auto r = run({"unload", "reno"});
  EXPECT_EQ(r.code, 5);
  EXPECT_THAT(r.err, HasSubstr("not loaded"));
}

TEST_F(Cli, UnloadAllWithNothingLoaded) {
  auto r = run({"unload", "--all"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "no plugin was loaded\n");
  EXPECT_EQ(json::parse(run({"unload", "--all", "--json"}).out), (json{{"unloaded", json::array()}}));
}

TEST_F(Cli, StatusWithNothingLoaded) {
  auto r = run({"status"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, StartsWith("no plugin loaded"));
  auto j = json::parse(run({"--json", "status"}).out);
  EXPECT_EQ(j["plugins"], json::array());
  EXPECT_EQ(j["default"], "bbr");
}

TEST_F(Cli, StatusOfNotLoadedPluginIsConflict) { EXPECT_EQ(run({"status", "reno"}).code, 5); }

TEST_F(Cli, ProbeTextShowsFeatures) {
  auto r = run({"probe"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("kernel 6.18.0-fake (running as root)"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("struct_ops_link +yes"));
  host_.features_.struct_ops_link = false;
  host_.privileged_ = false;
  r = run({"probe"});
  EXPECT_THAT(r.out, ::testing::ContainsRegex("struct_ops_link +no"));
  EXPECT_THAT(r.out, HasSubstr("not root"));
}

TEST_F(Cli, ProbeJsonFollowsFeatures) {
  auto j = json::parse(run({"probe", "--json"}).out);
  EXPECT_EQ(j["kernel"], "6.18.0-fake");
  EXPECT_EQ(j["privileged"], true);
  EXPECT_EQ(j["features"]["struct_ops_link"]["supported"], true);
  EXPECT_EQ(j["features"]["btf"]["supported"], true);
  host_.features_.struct_ops_link = false;
  j = json::parse(run({"probe", "--json"}).out);
  EXPECT_EQ(j["features"]["struct_ops_link"]["supported"], false);
  EXPECT_THAT(j["features"]["struct_ops_link"]["consequence"].get<std::string>(), HasSubstr("fallback"));
}

TEST_F(Cli, ListJsonShowsRenoAndKernel) {
  auto r = run({"list", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = json::parse(r.out);
  auto plugins = j["plugins"];
  auto reno = std::find_if(plugins.begin(), plugins.end(), [](const json& p) { return p["name"] == "reno"; });
  ASSERT_NE(reno, plugins.end()) << r.out;
  EXPECT_EQ((*reno)["registers_as"], "bpf_reno");
  EXPECT_EQ((*reno)["kind"], "cc");
  EXPECT_EQ((*reno)["loaded"], false);
  EXPECT_EQ((*reno)["default"], false);
  EXPECT_EQ(j["kernel"]["default"], "bbr");
  EXPECT_EQ(j["kernel"]["available"], (json{"reno", "bbr", "cubic"}));
  EXPECT_EQ(j["kernel"]["allowed"], (json{"reno", "bbr"}));
  EXPECT_FALSE(j["kernel"].contains("previous_default"));
}

TEST_F(Cli, ListTextHasHeaderAndRows) {
  auto r = run({"list"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("PLUGIN "));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("\nreno +1\\.0\\.0 +bpf_reno +not loaded"));
  EXPECT_THAT(r.out, HasSubstr("default    bbr\n"));
}

TEST_F(Cli, ListTextShowsOneRowPerPluginAndItsOtherVariants) {
  auto r = run({"list"});
  ASSERT_EQ(r.code, 0) << r.err;
  // dctcp's row, its tunables, then the line naming its other variants.
  EXPECT_THAT(r.out, ::testing::ContainsRegex("\ndctcp +0\\.1\\.0 +bpf_dctcp +not loaded +DCTCP [^\n]*\n"
                                              " +tunables: [^\n]*alpha_on_init=1024[^\n]*\n"
                                              " +variants: alpha0 \\(DCTCP starting with alpha_on_init=0 [^\n]*\\)\n"));
  std::istringstream lines(r.out);
  int dctcp_rows = 0, variant_lines = 0;
  for (std::string line; std::getline(lines, line);) {
    dctcp_rows += line.starts_with("dctcp ");
    variant_lines += line.find("variants:") != std::string::npos;
    EXPECT_FALSE(line.starts_with("alpha0")) << r.out;
  }
  EXPECT_EQ(dctcp_rows, 1) << r.out;
  EXPECT_EQ(variant_lines, 1) << "only dctcp has other variants:\n" << r.out;
}

TEST_F(Cli, ListJsonHasOnePluginObjectWithItsVariants) {
  auto r = run({"list", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto plugins = json::parse(r.out)["plugins"];
  std::vector<std::string> names;
  for (const auto& p : plugins) names.push_back(p["name"]);
  EXPECT_EQ(std::count(names.begin(), names.end(), "dctcp"), 1) << r.out;
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end()) << "a plugin listed twice: " << r.out;
  for (const auto& p : plugins) {
    SCOPED_TRACE(p["name"].get<std::string>());
    ASSERT_TRUE(p["variants"].is_array());
    ASSERT_FALSE(p["variants"].empty());
    EXPECT_EQ(p["variants"][0], (json{{"name", "default"}, {"description", p["description"]}}));
  }
  auto dctcp = std::find_if(plugins.begin(), plugins.end(), [](const json& p) { return p["name"] == "dctcp"; });
  ASSERT_NE(dctcp, plugins.end());
  const auto& variants = (*dctcp)["variants"];
  ASSERT_EQ(variants.size(), 2u) << variants;
  EXPECT_EQ(variants[1]["name"], "alpha0");
  EXPECT_EQ(variants[1]["description"], catalogue_.get("dctcp", "alpha0").meta.variant_description);
  // The plugin object describes the default variant: alpha_on_init defaults to 1024, not 0.
  auto tunables = (*dctcp)["tunables"];
  auto alpha = std::find_if(tunables.begin(), tunables.end(), [](const json& t) { return t["name"] == "alpha_on_init"; });
  ASSERT_NE(alpha, tunables.end());
  EXPECT_EQ((*alpha)["default"], 1024);
}

TEST_F(Cli, CommandsLeaveSysctlsUntouched) {
  auto before = test::congestion_sysctl_snapshot(dir_.path() / "sys");
  for (auto args : {std::vector<std::string>{"list"}, {"probe"}, {"status"}, {"load", "nosuch"}, {"unload", "reno"}})
    run(args);
  EXPECT_EQ(test::congestion_sysctl_snapshot(dir_.path() / "sys"), before);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "bpffs/bpfplug"));
}

TEST_F(Cli, SwapChecksItsArgumentsBeforePrivileges) {
  auto unknown_variant = run({"swap", "dctcp", "--to", "alpha1"});
  EXPECT_EQ(unknown_variant.code, 2);
  EXPECT_THAT(unknown_variant.err, HasSubstr("no variant 'alpha1'"));
  EXPECT_THAT(unknown_variant.err, HasSubstr("did you mean 'alpha0'"));
  EXPECT_TRUE(one_error_line(unknown_variant.err)) << unknown_variant.err;

  auto both = run({"swap", "dctcp", "--to", "alpha0", "--object", "x.bpf.o"});
  EXPECT_EQ(both.code, 2);
  EXPECT_THAT(both.err, HasSubstr("not both"));

  auto missing = run({"swap", "dctcp", "--object", (dir_.path() / "missing.bpf.o").string()});
  EXPECT_EQ(missing.code, 2);
  EXPECT_THAT(missing.err, HasSubstr("can't read object"));

  auto bad_set = run({"swap", "dctcp", "--to", "alpha0", "--set", "shift_g=11"});
  EXPECT_EQ(bad_set.code, 2);
  EXPECT_THAT(bad_set.err, HasSubstr("outside [0, 10]"));

  auto typo = run({"swap", "dctpc"});
  EXPECT_EQ(typo.code, 2);
  EXPECT_THAT(typo.err, HasSubstr("did you mean 'dctcp'"));

  auto no_name = run({"swap"});
  EXPECT_EQ(no_name.code, 2);
}

TEST_F(Cli, ChangingVerbsNeedRoot) {
  host_.privileged_ = false;
  for (std::vector<std::string> args : {std::vector<std::string>{"swap", "dctcp", "--to", "alpha0"},
                                        std::vector<std::string>{"repair"}, std::vector<std::string>{"restore"}}) {
    auto r = run(args);
    EXPECT_EQ(r.code, 3) << args[0] << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("run as root")) << args[0];
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "state")) << "a refused command created nothing";
}

TEST_F(Cli, LoadVariantIsCheckedLikeTheName) {
  auto r = run({"load", "dctcp", "--variant", "nosuch"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("no variant 'nosuch'"));
}

// Compression policies and comp-cost's verbs: every refusal comes before any kernel object.
TEST_F(Cli, CgroupIsForPoliciesOnly) {
  auto r = run({"load", "reno", "--cgroup", "/sys/fs/cgroup"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(one_error_line(r.err)) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--cgroup is for compression policies"));
}

TEST_F(Cli, PolicyLoadAsNonRootIsPermission) {
  host_.privileged_ = false;
  auto r = run({"load", "comp-ports", "--set", "ports=8080"});
  EXPECT_EQ(r.code, 3);
  EXPECT_THAT(r.err, HasSubstr("run as root"));
}

TEST_F(Cli, UnloadOfAPolicyNotLoadedIsConflict) {
  auto r = run({"unload", "comp-ports"});
  EXPECT_EQ(r.code, 5);
  EXPECT_THAT(r.err, HasSubstr("not loaded"));
  EXPECT_THAT(r.err, HasSubstr("bpfplug load comp-ports"));
}

TEST_F(Cli, CompCostVerbsRefuseBadArgumentsWithWhatToDo) {
  struct Case {
    std::vector<std::string> args;
    int code;
    const char* says;
  };
  for (const Case& c : {
           Case{{"calibrate", "--ratio", "0.3"}, 2, "go together"},
           Case{{"calibrate", "--ratio", "0", "--vc", "470", "--vd", "1380"}, 2, "e.g. --ratio 0.35"},
           Case{{"calibrate", "--level", "30"}, 2, "zstd levels 1..19"},
           Case{{"calibrate", "--corpus", "/nonexistent/corpus"}, 2, "give a readable file"},
           Case{{"agent", "--headroom", "150"}, 2, "give 0..100"},
           Case{{"agent", "--interval", "0"}, 2, "--interval"},
           Case{{"agent", "--once"}, 5, "bpfplug load comp-cost"},  // root, but comp-cost is not loaded
           Case{{"status", "reno", "--explain"}, 2, "bpfplug status comp-cost --explain"},
       }) {
    auto r = run(c.args);
    EXPECT_EQ(r.code, c.code) << ::testing::PrintToString(c.args) << ": " << r.err;
    EXPECT_TRUE(one_error_line(r.err)) << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.says)) << ::testing::PrintToString(c.args);
  }
  host_.privileged_ = false;
  auto r = run({"agent", "--once"});
  EXPECT_EQ(r.code, 3);
  EXPECT_THAT(r.err, HasSubstr("run as root"));
}

TEST_F(Cli, CalibrateWithKnownValuesPrintsTheBreakEvenAndWritesNothingWithoutRoot) {
  host_.privileged_ = false;
  auto r = run({"--json", "calibrate", "--ratio", "0.35", "--vc", "470", "--vd", "1380"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_TRUE(j["written_to"].is_null());
  EXPECT_NEAR(j["break_even_bytes_per_s"].get<double>() / 1e6, 227.9, 0.1);
  auto text = run({"calibrate", "--ratio", "0.35", "--vc", "470", "--vd", "1380"});
  EXPECT_THAT(text.out, HasSubstr("not root: nothing written"));
}

}  // namespace
}  // namespace bpfplug
