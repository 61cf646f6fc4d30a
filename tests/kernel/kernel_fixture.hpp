// Base fixture of the kernel suite. Each test gets its own bpffs pin root, state directory and
// boot config directory (BPFPLUG_PIN_ROOT / BPFPLUG_STATE_DIR / BPFPLUG_CONFIG_DIR), so it never
// sees or disturbs a bpfplug the host runs; TearDown unloads whatever the test loaded and
// restores the congestion-control sysctls, also when the test failed halfway.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bpfplug/catalogue.hpp"
#include "bpfplug/features.hpp"
#include "bpfplug/paths.hpp"
#include "kernel/process.hpp"

namespace bpfplug::test {

class KernelTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // This test's pin root, state and config directories as the CLI reads them from the environment.
  std::map<std::string, std::string> bpfplug_env() const;
  // Runs the real CLI with this test's environment.
  ProcessResult cli(const std::vector<std::string>& args, std::optional<unsigned> uid = std::nullopt) const;
  // The same with extra environment variables (e.g. BPFPLUG_CRASH_AT).
  ProcessResult cli_with_env(const std::map<std::string, std::string>& env, const std::vector<std::string>& args,
                             std::optional<unsigned> uid = std::nullopt) const;
  // Runs `bpfplug --json ARGS`, expects exit 0 and returns the parsed output.
  nlohmann::json cli_json(const std::vector<std::string>& args) const;

  // Why `ops_name` can't be used by this test (already registered outside it), if so.
  std::optional<std::string> host_conflict(const std::string& ops_name) const;
  const CatalogueEntry& plugin(const std::string& name) const;

  static bool available(const std::string& cc);
  static std::string proc_sys(const std::string& relative);
  static void write_proc_sys(const std::string& relative, const std::string& value);

  Paths paths_;
  KernelFeatures features_;  // of the running kernel: expectations differ where it lacks links or kfuncs
  std::string id_;  // unique name stem for this test's pins, state and namespaces

 private:
  Catalogue catalogue_ = Catalogue::builtin();
  std::string saved_default_;
  std::string saved_allowed_;
};

// Skips the current test when another party already registered the plugin's name.
#define REQUIRE_NAME_FREE(ops_name)                                         \
  do {                                                                      \
    if (auto why = host_conflict(ops_name)) GTEST_SKIP() << *why;           \
  } while (0)

}  // namespace bpfplug::test
