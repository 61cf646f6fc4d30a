// Each plugin of the catalogue really registers in the kernel, is seen by other processes,
// and leaves nothing behind when unloaded.
#include <filesystem>

#include "kernel/kernel_fixture.hpp"
#include "kernel/kernel_objects.hpp"

namespace bpfplug::test {
namespace {

class LoadUnload : public KernelTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(LoadUnload, RegistersPersistsAcrossProcessesAndLeavesNothingBehind) {
  const auto& entry = plugin(GetParam());
  REQUIRE_NAME_FREE(entry.ops_name);
  auto progs_before = struct_ops_prog_ids();
  auto maps_before = struct_ops_map_ids();

  auto load = cli({"load", GetParam()});
  ASSERT_EQ(load.exit_code, 0) << load.err;
  EXPECT_TRUE(available(entry.ops_name)) << "not in tcp_available_congestion_control after load";

  // The loading process has exited; a new one finds the plugin through its pins.
  auto status = cli_json({"status", GetParam()});
  EXPECT_EQ(status["registered_as"], entry.ops_name);
  EXPECT_TRUE(status["registered"].get<bool>());
  EXPECT_EQ(status["version"], entry.meta.version);
  EXPECT_EQ(status["sockets"], 0);
  EXPECT_GT(status["ops_map_id"].get<int>(), 0);
  auto list = cli_json({"list"});
  bool listed_loaded = false;
  for (const auto& p : list["plugins"])
    if (p["name"] == GetParam()) listed_loaded = p["loaded"].get<bool>();
  EXPECT_TRUE(listed_loaded);

  std::set<std::uint32_t> new_progs, new_maps;
  for (auto id : struct_ops_prog_ids()) if (!progs_before.count(id)) new_progs.insert(id);
  for (auto id : struct_ops_map_ids()) if (!maps_before.count(id)) new_maps.insert(id);
  EXPECT_FALSE(new_progs.empty()) << "no struct_ops programs appeared in the kernel";
  EXPECT_TRUE(new_maps.count(status["ops_map_id"].get<std::uint32_t>()));

  auto unload = cli({"unload", GetParam()});
  ASSERT_EQ(unload.exit_code, 0) << unload.err;
  EXPECT_FALSE(available(entry.ops_name)) << "still registered after unload";
  EXPECT_FALSE(std::filesystem::exists(paths_.pin_root)) << "pins left in bpffs";
  EXPECT_TRUE(wait_until_freed(new_progs, new_maps).empty()) << "programs or maps left in the kernel";
  EXPECT_EQ(cli({"status", GetParam()}).exit_code, 5);  // not loaded any more
}

// The compat decision reaches the kernel: where it has the congestion-control kfuncs (Linux
// 5.13+) the verified programs call them, elsewhere the verifier removed those branches and
// the BPF fallbacks run (struct_ops/bpfplug_compat.h).
TEST_P(LoadUnload, CallsTheKernelsKfuncsExactlyWhereTheKernelHasThem) {
  const auto& entry = plugin(GetParam());
  REQUIRE_NAME_FREE(entry.ops_name);
  auto before = struct_ops_prog_ids();
  ASSERT_EQ(cli({"load", GetParam()}).exit_code, 0);
  std::size_t calls = 0;
  for (auto id : struct_ops_prog_ids())
    if (!before.count(id)) calls += kfunc_calls(id);
  if (features_.cc_kfuncs) {
    EXPECT_GT(calls, 0u) << GetParam() << " should call the kernel's tcp_* kfuncs here";
  } else {
    EXPECT_EQ(calls, 0u) << GetParam() << " must run its BPF fallbacks on this kernel";
  }
}

class Tunables : public KernelTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(Tunables, ReachTheKernel) {
  const auto& entry = plugin(GetParam());
  REQUIRE_NAME_FREE(entry.ops_name);
  ASSERT_FALSE(entry.meta.tunables.empty());
  const auto& t = entry.meta.tunables.front();
  std::int64_t value = t.default_value == t.max ? t.min : t.max;
  auto load = cli({"load", GetParam(), "--set", t.name + "=" + std::to_string(value)});
  ASSERT_EQ(load.exit_code, 0) << load.err;
  // Read back from the kernel's copy of .rodata, not from bpfplug's notes.
  EXPECT_EQ(cli_json({"status", GetParam()})["tunables"][t.name], value);
}

INSTANTIATE_TEST_SUITE_P(Plugins, LoadUnload, ::testing::Values("reno", "dctcp", "cubic"));
INSTANTIATE_TEST_SUITE_P(PluginsWithTunables, Tunables, ::testing::Values("dctcp", "cubic"));

}  // namespace
}  // namespace bpfplug::test
