// The state file: what bpfplug loaded and which default it replaced; and the lock that keeps
// two bpfplug processes from changing it at once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "bpfplug/error.hpp"
#include "bpfplug/file_lock.hpp"
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
  state.plugins["dctcp"] = {"0.1.0", "alpha0", "", "bpf_dctcp", AttachMode::link, "2025-01-02T03:04:05Z",
                            {{"shift_g", 5}, {"alpha_on_init", 1024}}, 3,
                            {{1, "0.1.0", "default", "2025-01-02T03:04:06Z"}}};
  state.plugins["reno"] = {"1.0.0", "default", "/tmp/reno.bpf.o", "bpf_reno", AttachMode::map,
                           "2025-01-02T03:04:06Z", {}, 1, {}};
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
  EXPECT_EQ(dctcp.variant, "alpha0");
  EXPECT_EQ(dctcp.generation, 3);
  ASSERT_EQ(dctcp.retired.size(), 1u);
  EXPECT_EQ(dctcp.retired[0].generation, 1);
  EXPECT_EQ(dctcp.retired[0].variant, "default");
  const auto& reno = state.plugins.at("reno");
  EXPECT_EQ(reno.attach, AttachMode::map);
  EXPECT_EQ(reno.object, "/tmp/reno.bpf.o");
  EXPECT_TRUE(reno.tunables.empty());
  EXPECT_FALSE(state.pending.has_value());
  EXPECT_FALSE(state.original.has_value());
}

TEST_F(StateStoreTest, PendingChangeAndOriginalSettingsRoundTrip) {
  HostState state = sample_state();
  state.original = CongestionSettings{"bbr", {"reno", "bbr"}};
  PluginRecord next = state.plugins.at("dctcp");
  next.generation = 4;
  state.pending = PendingChange{"swap", "dctcp", "2025-01-02T03:04:07Z", "cubic", true, next};
  store_.save(state);
  auto loaded = store_.load();
  ASSERT_TRUE(loaded.original.has_value());
  EXPECT_EQ(loaded.original->default_cc, "bbr");
  EXPECT_EQ(loaded.original->allowed, (std::vector<std::string>{"reno", "bbr"}));
  ASSERT_TRUE(loaded.pending.has_value());
  EXPECT_EQ(loaded.pending->op, "swap");
  EXPECT_EQ(loaded.pending->plugin, "dctcp");
  EXPECT_EQ(loaded.pending->default_before, "cubic");
  EXPECT_TRUE(loaded.pending->allowed);
  EXPECT_EQ(loaded.pending->next.generation, 4);
  EXPECT_EQ(loaded.pending->next.variant, "alpha0");
}

TEST_F(StateStoreTest, RecordsOfOlderBpfplugLoadWithDefaults) {
  std::filesystem::create_directories(file().parent_path());
  std::ofstream(file()) << R"({"plugins": {"reno": {"version": "1.0.0", "ops_name": "bpf_reno"}}})";
  auto state = store_.load();
  const auto& reno = state.plugins.at("reno");
  EXPECT_EQ(reno.variant, "default");
  EXPECT_EQ(reno.generation, 1);
  EXPECT_TRUE(reno.retired.empty());
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

namespace bpfplug {
namespace {

TEST(FileLockTest, ASecondHolderWaitsThenFailsWithAConflict) {
  test::TempDir dir;
  auto path = dir.path() / "lock";
  FileLock first(path, 0);
  auto start = std::chrono::steady_clock::now();
  try {
    FileLock second(path, 200);
    FAIL() << "two holders at once";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::conflict);
    EXPECT_NE(std::string(e.what()).find("another bpfplug is changing plugins"), std::string::npos);
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200)) << "it waited";
}

TEST(FileLockTest, FreeAgainOnceReleased) {
  test::TempDir dir;
  auto path = dir.path() / "lock";
  { FileLock first(path, 0); }
  EXPECT_NO_THROW(FileLock(path, 0));
}

}  // namespace
}  // namespace bpfplug
