// The boot config (/etc/bpfplug/boot.json): reading, writing, validating, and what enable and
// disable do to it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "bpfplug/boot_config.hpp"
#include "bpfplug/error.hpp"
#include "error_of.hpp"
#include "fake_host.hpp"

namespace bpfplug {
namespace {

using test::error_of;

using ::testing::HasSubstr;
using test::read_file;
using test::write_file;
namespace fs = std::filesystem;


class BootConfigStoreTest : public ::testing::Test {
 protected:
  fs::path file() const { return dir_.path() / "etc/bpfplug/boot.json"; }
  Error load_error(const std::string& text) {
    write_file(file(), text);
    return error_of([&] { store_.load(); });
  }

  test::TempDir dir_;
  BootConfigStore store_{file()};
};

BootConfig sample_config() {
  BootConfig config;
  config.plugins["dctcp"] = {"alpha0", true, false, {{"shift_g", 5}}};
  config.plugins["reno"] = {"default", false, true, {}};
  return config;
}

TEST_F(BootConfigStoreTest, MissingFileIsEmptyConfig) {
  EXPECT_TRUE(store_.load().plugins.empty());
  EXPECT_FALSE(fs::exists(file()));
}

TEST_F(BootConfigStoreTest, SaveLoadRoundTrip) {
  store_.save(sample_config());
  BootConfig config = store_.load();
  ASSERT_EQ(config.plugins.size(), 2u);
  EXPECT_EQ(config.plugins.at("dctcp"), (BootEntry{"alpha0", true, false, {{"shift_g", 5}}}));
  EXPECT_EQ(config.plugins.at("reno"), (BootEntry{"default", false, true, {}}));
  EXPECT_EQ(config.default_plugin(), "dctcp");
}

TEST_F(BootConfigStoreTest, FileIsReadableJson) {
  store_.save(sample_config());
  auto j = nlohmann::json::parse(read_file(file()));
  EXPECT_EQ(j["plugins"]["dctcp"]["variant"], "alpha0");
  EXPECT_EQ(j["plugins"]["dctcp"]["default"], true);
  EXPECT_EQ(j["plugins"]["dctcp"]["allow"], false);
  EXPECT_EQ(j["plugins"]["dctcp"]["tunables"]["shift_g"], 5);
  EXPECT_EQ(j["plugins"]["reno"]["tunables"], nlohmann::json::object());
}

TEST_F(BootConfigStoreTest, SaveCreatesTheDirectoryAndLeavesNoTemporaryFile) {
  store_.save(sample_config());
  store_.save(BootConfig{});
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(file().parent_path())) names.push_back(entry.path().filename());
  EXPECT_EQ(names, std::vector<std::string>{"boot.json"});
  EXPECT_TRUE(store_.load().plugins.empty());
}

TEST_F(BootConfigStoreTest, FileIsWorldReadable) {
  store_.save(sample_config());
  struct stat st {};
  ASSERT_EQ(stat(file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(BootConfigStoreTest, UnwritableLocationIsAnErrorNamingIt) {
  write_file(dir_.path() / "etc/bpfplug", "a file where the directory should be");
  auto e = error_of([&] { store_.save(sample_config()); });
  EXPECT_NE(e.code(), Exit::ok);
  EXPECT_THAT(e.what(), HasSubstr((dir_.path() / "etc/bpfplug").string()));
}

TEST_F(BootConfigStoreTest, MissingFieldsTakeDefaults) {
  write_file(file(), R"({"plugins": {"reno": {}}})");
  EXPECT_EQ(store_.load().plugins.at("reno"), BootEntry{});
  EXPECT_EQ(BootEntry{}.variant, "default");
}

TEST_F(BootConfigStoreTest, NotJsonNamesTheFileAndWhatToDo) {
  auto e = load_error("{\"plugins\": {");
  EXPECT_EQ(e.code(), Exit::failure);
  EXPECT_THAT(e.what(), HasSubstr(file().string()));
  EXPECT_THAT(e.what(), HasSubstr("not valid JSON"));
  EXPECT_THAT(e.hint(), HasSubstr("bpfplug enable"));
}

TEST_F(BootConfigStoreTest, WrongShapesAreInvalid) {
  struct Case {
    const char* text;
    const char* says;
  };
  for (const auto& c : std::vector<Case>{
           {"[]", "expected a JSON object"},
           {R"({"plugins": 5})", "\"plugins\" must be an object"},
           {R"({"plugins": {}, "extra": 1})", "unknown field \"extra\""},
           {R"({"plugins": {"reno": 1}})", "plugin 'reno': expected an object"},
           {R"({"plugins": {"reno": {"default": "yes"}}})", "\"default\" must be true or false"},
           {R"({"plugins": {"reno": {"allow": 1}}})", "\"allow\" must be true or false"},
           {R"({"plugins": {"reno": {"variant": ""}}})", "\"variant\" must be a non-empty string"},
           {R"({"plugins": {"reno": {"variant": 3}}})", "\"variant\" must be a non-empty string"},
           {R"({"plugins": {"dctcp": {"tunables": [5]}}})", "\"tunables\" must be an object"},
           {R"({"plugins": {"dctcp": {"tunables": {"shift_g": "5"}}}})", "tunable \"shift_g\" must be an integer"},
           {R"({"plugins": {"dctcp": {"tunables": {"shift_g": 4.5}}}})", "tunable \"shift_g\" must be an integer"},
           {R"({"plugins": {"dctcp": {"tunables": {"shift_g": 18446744073709551615}}}})",
            "tunable \"shift_g\" must be an integer"},
           {R"({"plugins": {"reno": {"defualt": true}}})", "unknown field \"defualt\""},
       }) {
    auto e = load_error(c.text);
    EXPECT_EQ(e.code(), Exit::failure) << c.text;
    EXPECT_THAT(e.what(), HasSubstr(c.says)) << c.text;
    EXPECT_THAT(e.what(), HasSubstr(file().string())) << c.text;
  }
}

TEST_F(BootConfigStoreTest, TwoDefaultsAreInvalid) {
  auto e = load_error(R"({"plugins": {"dctcp": {"default": true}, "reno": {"default": true}}})");
  EXPECT_EQ(e.code(), Exit::failure);
  EXPECT_THAT(e.what(), HasSubstr("dctcp and reno are both marked default"));
}

TEST(BootConfig, FormatParsesBack) {
  BootConfig config = sample_config();
  EXPECT_EQ(parse_boot_config(format_boot_config(config), "x").plugins, config.plugins);
  EXPECT_FALSE(BootConfig{}.default_plugin());
}

// --- enable / disable against the built-in catalogue ---

class BootEnable : public ::testing::Test {
 protected:
  Catalogue catalogue_ = Catalogue::builtin();
};

EnableOptions options(std::vector<std::string> set = {}, std::string variant = {}) {
  EnableOptions o;
  o.assignments = std::move(set);
  o.variant = std::move(variant);
  return o;
}

TEST_F(BootEnable, EntryRecordsOnlyTheTunablesThatWereSet) {
  EnableOptions o = options({"shift_g=0x5"});
  o.make_default = true;
  o.allow = true;
  BootEntry entry = make_boot_entry(catalogue_, "dctcp", o);
  EXPECT_EQ(entry, (BootEntry{"default", true, true, {{"shift_g", 5}}}));
}

TEST_F(BootEnable, EntryOfAVariant) {
  EXPECT_EQ(make_boot_entry(catalogue_, "dctcp", options({}, "alpha0")).variant, "alpha0");
  EXPECT_EQ(make_boot_entry(catalogue_, "dctcp", options({}, "default")).variant, "default");
}

TEST_F(BootEnable, UnknownPluginIsUsageWithSuggestion) {
  auto e = error_of([&] { make_boot_entry(catalogue_, "dctpc", options()); });
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_THAT(e.hint(), HasSubstr("did you mean 'dctcp'"));
}

TEST_F(BootEnable, UnknownVariantIsUsage) {
  auto e = error_of([&] { make_boot_entry(catalogue_, "dctcp", options({}, "alpha")); });
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_THAT(e.what(), HasSubstr("no variant 'alpha'"));
}

TEST_F(BootEnable, BadTunablesAreUsage) {
  for (const char* bad : {"shift_g=11", "shift_g=x", "shfit_g=4", "shift_g"}) {
    auto e = error_of([&] { make_boot_entry(catalogue_, "dctcp", options({bad})); });
    EXPECT_EQ(e.code(), Exit::usage) << bad;
  }
  EXPECT_EQ(error_of([&] { make_boot_entry(catalogue_, "reno", options({"x=1"})); }).code(), Exit::usage);
}

TEST_F(BootEnable, EnableAddsAndReplaces) {
  BootConfig config;
  auto first = enable_at_boot(config, "dctcp", {"default", false, false, {{"shift_g", 5}}});
  EXPECT_FALSE(first.previous);
  EXPECT_FALSE(first.default_from);
  auto second = enable_at_boot(config, "dctcp", {"alpha0", false, true, {}});
  ASSERT_TRUE(second.previous);
  EXPECT_EQ(second.previous->tunables.at("shift_g"), 5);
  // The command line states the whole entry: nothing of the earlier one is kept.
  EXPECT_EQ(config.plugins.at("dctcp"), (BootEntry{"alpha0", false, true, {}}));
}

TEST_F(BootEnable, OnlyOneDefaultTheNewOneWins) {
  BootConfig config;
  enable_at_boot(config, "reno", {"default", true, false, {}});
  enable_at_boot(config, "cubic", {"default", false, false, {}});
  auto result = enable_at_boot(config, "dctcp", {"default", true, false, {}});
  EXPECT_EQ(result.default_from, "reno");
  EXPECT_EQ(config.default_plugin(), "dctcp");
  EXPECT_FALSE(config.plugins.at("reno").make_default);
  EXPECT_FALSE(config.plugins.at("cubic").make_default);
  // Making the default the default again moves nothing.
  EXPECT_FALSE(enable_at_boot(config, "dctcp", {"default", true, false, {}}).default_from);
  // Re-enabling it without --default leaves no default.
  enable_at_boot(config, "dctcp", {"default", false, false, {}});
  EXPECT_FALSE(config.default_plugin());
}

TEST_F(BootEnable, DisableRemoves) {
  BootConfig config;
  enable_at_boot(config, "dctcp", {"default", true, false, {}});
  enable_at_boot(config, "reno", {});
  auto result = disable_at_boot(config, catalogue_, "dctcp");
  ASSERT_TRUE(result.removed);
  EXPECT_TRUE(result.removed->make_default);
  EXPECT_EQ(config.plugins.size(), 1u);
  EXPECT_FALSE(config.default_plugin());
}

TEST_F(BootEnable, DisableWhatIsNotEnabledChangesNothing) {
  BootConfig config;
  enable_at_boot(config, "reno", {});
  EXPECT_FALSE(disable_at_boot(config, catalogue_, "cubic").removed);
  EXPECT_EQ(config.plugins.size(), 1u);
}

TEST_F(BootEnable, DisableUnknownIsUsageWithSuggestion) {
  BootConfig config;
  auto e = error_of([&] { disable_at_boot(config, catalogue_, "rneo"); });
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_THAT(e.hint(), HasSubstr("did you mean 'reno'"));
}

TEST_F(BootEnable, DisableAPluginThisBuildNoLongerCarries) {
  BootConfig config;
  config.plugins["vegas"] = {};
  EXPECT_THAT(error_of([&] { disable_at_boot(config, catalogue_, "vegsa"); }).hint(), HasSubstr("'vegas'"));
  EXPECT_TRUE(disable_at_boot(config, catalogue_, "vegas").removed);
  EXPECT_TRUE(config.plugins.empty());
}

TEST_F(BootEnable, AssignmentsCoverEveryTunable) {
  const auto& meta = catalogue_.get("dctcp").meta;
  EXPECT_EQ(boot_assignments(meta, {"default", false, false, {{"shift_g", 5}}}),
            (std::vector<std::string>{"alpha_on_init=1024", "shift_g=5"}));
  EXPECT_EQ(boot_assignments(catalogue_.get("dctcp", "alpha0").meta, {}),
            (std::vector<std::string>{"alpha_on_init=0", "shift_g=4"}));
  EXPECT_TRUE(boot_assignments(catalogue_.get("reno").meta, {}).empty());
  EXPECT_EQ(error_of([&] { boot_assignments(meta, {"default", false, false, {{"shift_g", 99}}}); }).code(),
            Exit::usage);
}

}  // namespace
}  // namespace bpfplug
