// `--set KEY=VALUE` resolution against a plugin's declared tunables.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bpfplug/error.hpp"
#include "bpfplug/tunables.hpp"

namespace bpfplug {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Values = std::map<std::string, std::int64_t>;

PluginMeta dctcp_like() {
  PluginMeta meta;
  meta.name = "dctcp";
  meta.kind = "cc";
  meta.tunables = {
      {"shift_g", "__u32", 4, 0, 10, "alpha gain g = 1/2^shift_g"},
      {"alpha_on_init", "__u32", 1024, 0, 1024, "initial alpha"},
      {"offset", "__s32", -5, -100, 100, "signed knob"},
  };
  return meta;
}

Error resolve_error(const PluginMeta& meta, const std::vector<std::string>& assignments) {
  try {
    resolve_tunables(meta, assignments);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected bpfplug::Error";
  return Error(Exit::ok, "");
}

TEST(ResolveTunables, NoAssignmentsGiveDefaults) {
  EXPECT_EQ(resolve_tunables(dctcp_like(), {}), (Values{{"shift_g", 4}, {"alpha_on_init", 1024}, {"offset", -5}}));
}

TEST(ResolveTunables, PluginWithoutTunablesGivesEmptyMap) {
  PluginMeta reno;
  reno.name = "reno";
  EXPECT_TRUE(resolve_tunables(reno, {}).empty());
}

TEST(ResolveTunables, OverrideReplacesOnlyThatKey) {
  EXPECT_EQ(resolve_tunables(dctcp_like(), {"shift_g=7"}),
            (Values{{"shift_g", 7}, {"alpha_on_init", 1024}, {"offset", -5}}));
}

TEST(ResolveTunables, LaterAssignmentWins) {
  EXPECT_EQ(resolve_tunables(dctcp_like(), {"shift_g=1", "shift_g=2"}).at("shift_g"), 2);
}

TEST(ResolveTunables, HexAndNegativeValues) {
  auto values = resolve_tunables(dctcp_like(), {"alpha_on_init=0x200", "offset=-100"});
  EXPECT_EQ(values.at("alpha_on_init"), 512);
  EXPECT_EQ(values.at("offset"), -100);
}

TEST(ResolveTunables, RangeBoundsAreInclusive) {
  auto values = resolve_tunables(dctcp_like(), {"shift_g=0", "alpha_on_init=1024", "offset=100"});
  EXPECT_EQ(values.at("shift_g"), 0);
  EXPECT_EQ(values.at("alpha_on_init"), 1024);
  EXPECT_EQ(values.at("offset"), 100);
}

TEST(ResolveTunables, OutOfRangeNamesTheRange) {
  auto e = resolve_error(dctcp_like(), {"shift_g=11"});
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_THAT(e.what(), HasSubstr("shift_g=11"));
  EXPECT_THAT(e.what(), HasSubstr("[0, 10]"));
  EXPECT_THAT(e.hint(), HasSubstr("alpha gain"));
  EXPECT_THAT(resolve_error(dctcp_like(), {"offset=-101"}).what(), HasSubstr("[-100, 100]"));
  EXPECT_EQ(resolve_error(dctcp_like(), {"shift_g=-1"}).code(), Exit::usage);
}

TEST(ResolveTunables, UnknownKeySuggestsClosest) {
  auto e = resolve_error(dctcp_like(), {"shift-g=1"});
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_THAT(e.what(), HasSubstr("plugin dctcp has no tunable 'shift-g'"));
  EXPECT_THAT(e.hint(), HasSubstr("did you mean 'shift_g'"));
}

TEST(ResolveTunables, UnknownKeyWithNothingCloseHasNoGuess) {
  auto e = resolve_error(dctcp_like(), {"zzzzzzzzzz=1"});
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_THAT(e.hint(), Not(HasSubstr("did you mean")));
  EXPECT_THAT(e.hint(), HasSubstr("bpfplug list"));
}

TEST(ResolveTunables, AnyKeyOnPluginWithoutTunables) {
  PluginMeta reno;
  reno.name = "reno";
  auto e = resolve_error(reno, {"beta=1"});
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_EQ(e.hint(), "reno has no tunables");
}

TEST(ResolveTunables, MalformedAssignments) {
  for (const char* bad : {"shift_g", "=1", "shift_g=", "", "="}) {
    SCOPED_TRACE(bad);
    auto e = resolve_error(dctcp_like(), {bad});
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_THAT(e.what(), HasSubstr("malformed --set"));
    EXPECT_THAT(e.hint(), HasSubstr("--set shift_g=4"));
  }
}

TEST(ResolveTunables, NonIntegerValue) {
  for (const char* bad : {"shift_g=four", "shift_g=1=2", "shift_g=1.5", "shift_g= 1"}) {
    SCOPED_TRACE(bad);
    auto e = resolve_error(dctcp_like(), {bad});
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_THAT(e.what(), HasSubstr("is not an integer"));
    EXPECT_THAT(e.hint(), HasSubstr("[0, 10]"));
  }
}

TEST(ResolveTunables, OneBadAssignmentFailsTheWholeSet) {
  EXPECT_EQ(resolve_error(dctcp_like(), {"shift_g=3", "alpha_on_init=2000"}).code(), Exit::usage);
}

}  // namespace
}  // namespace bpfplug
