// The state file: what bpfplug loaded and which default it replaced.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "bpfplug/error.hpp"
#include "bpfplug/state.hpp"
#include "fake_host.hpp"

namespace bpfplug {
namespace {

using ::testing::HasSubstr;
using test::read_file;
using test::write_file;

class StateStoreTest : public ::testing::Test {
 protected:
  std::filesystem::path file() const { return dir_.path() / "run/bpfplug/state.json"; }

  test::TempDir dir_;
  StateStore store_{file()};
};

HostState sample_state() {
  HostState state;
  state.previous_default = "cubic";
  state.plugins["dctcp"] = {"0.1.0", "bpf_dctcp", AttachMode::link, "2025-01-02T03:04:05Z",
                            {{"shift_g", 5}, {"alpha_on_init", 1024}}};
  state.plugins["reno"] = {"1.0.0", "bpf_reno", AttachMode::map, "2025-01-02T03:04:06Z", {}};
  return state;
}

TEST_F(StateStoreTest, MissingFileIsEmptyState) {
  auto state = store_.load();
  EXPECT_FALSE(state.previous_default.has_value());
  EXPECT_TRUE(state.plugins.empty());
  EXPECT_FALSE(std::filesystem::exists(file()));
}

TEST_F(StateStoreTest, SaveLoadRoundTrip) {
  store_.save(sample_state());
  auto state = store_.load();
  EXPECT_EQ(state.previous_default, "cubic");
  ASSERT_EQ(state.plugins.size(), 2u);
  const auto& dctcp = state.plugins.at("dctcp");
  EXPECT_EQ(dctcp.version, "0.1.0");
  EXPECT_EQ(dctcp.ops_name, "bpf_dctcp");
  EXPECT_EQ(dctcp.attach, AttachMode::link);
  EXPECT_EQ(dctcp.loaded_at, "2025-01-02T03:04:05Z");
  EXPECT_EQ(dctcp.tunables, (std::map<std::string, std::int64_t>{{"shift_g", 5}, {"alpha_on_init", 1024}}));
  const auto& reno = state.plugins.at("reno");
  EXPECT_EQ(reno.attach, AttachMode::map);
  EXPECT_TRUE(reno.tunables.empty());
}

TEST_F(StateStoreTest, RoundTripWithoutPreviousDefault) {
  HostState state = sample_state();
  state.previous_default.reset();
  store_.save(state);
  EXPECT_FALSE(store_.load().previous_default.has_value());
  EXPECT_FALSE(nlohmann::json::parse(read_file(file())).contains("previous_default"));
}

TEST_F(StateStoreTest, FileIsJsonWithAttachModeAsText) {
  store_.save(sample_state());
  auto j = nlohmann::json::parse(read_file(file()));
  EXPECT_EQ(j["previous_default"], "cubic");
  EXPECT_EQ(j["plugins"]["dctcp"]["attach"], "link");
  EXPECT_EQ(j["plugins"]["reno"]["attach"], "map");
  EXPECT_EQ(j["plugins"]["dctcp"]["tunables"]["shift_g"], 5);
}

TEST_F(StateStoreTest, SaveLeavesNoTemporaryFile) {
  store_.save(sample_state());
  store_.save(HostState{});
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(file().parent_path()))
    names.push_back(entry.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"state.json"});
  EXPECT_TRUE(store_.load().plugins.empty());
}

TEST_F(StateStoreTest, CorruptJsonIsFailure) {
  write_file(file(), "{\"plugins\": {");
  try {
    store_.load();
    FAIL() << "expected bpfplug::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::failure);
    EXPECT_THAT(e.what(), HasSubstr("is corrupt"));
    EXPECT_THAT(e.what(), HasSubstr(file().string()));
  }
}

TEST_F(StateStoreTest, WrongJsonTypesAreFailure) {
  write_file(file(), R"({"plugins": 5})");
  try {
    store_.load();
    FAIL() << "expected bpfplug::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::failure);
  }
}

TEST_F(StateStoreTest, MissingRecordFieldsTakeDefaults) {
  write_file(file(), R"({"plugins": {"reno": {"ops_name": "bpf_reno"}}})");
  auto state = store_.load();
  EXPECT_EQ(state.plugins.at("reno").ops_name, "bpf_reno");
  EXPECT_EQ(state.plugins.at("reno").attach, AttachMode::link);
  EXPECT_TRUE(state.plugins.at("reno").version.empty());
}

TEST(State, AttachModeToString) {
  EXPECT_EQ(to_string(AttachMode::link), "link");
  EXPECT_EQ(to_string(AttachMode::map), "map");
}

TEST(State, NowIsIso8601Utc) {
  EXPECT_TRUE(std::regex_match(now_iso8601(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"))) << now_iso8601();
}

}  // namespace
}  // namespace bpfplug
