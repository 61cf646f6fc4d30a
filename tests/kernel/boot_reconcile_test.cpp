// Boot persistence: `bpfplug enable` records plugins in the boot config (this test's own
// BPFPLUG_CONFIG_DIR), and reconcile() -- what `bpfplug apply` and bpfplug.service run at boot
// -- makes the kernel match it: loads what is missing, swaps what differs, makes the configured
// default the default, leaves everything else alone, and does nothing the second time.
#include <algorithm>
#include <sstream>

#include "bpfplug/boot_config.hpp"
#include "bpfplug/host.hpp"
#include "bpfplug/reconcile.hpp"
#include "kernel/kernel_fixture.hpp"

namespace bpfplug::test {
namespace {

class BootReconcile : public KernelTest {
 protected:
  // The library call, in this process, with this test's paths and the real host.
  ReconcileReport reconcile_now(bool dry_run = false) {
    LinuxHost host(paths_.bpffs());
    PluginManager manager(host, Catalogue::builtin(), paths_);
    return reconcile(manager, BootConfigStore(paths_.config_file()).load(), dry_run);
  }
  BootConfig config() const { return BootConfigStore(paths_.config_file()).load(); }
  static std::string default_cc() { return proc_sys("net/ipv4/tcp_congestion_control"); }

  static const ReconcileResult* result_of(const ReconcileReport& report, const std::string& plugin) {
    for (const auto& r : report.plugins)
      if (r.step.plugin == plugin) return &r;
    return nullptr;
  }
  // Every plugin's outcome, for failure messages.
  static std::string describe(const ReconcileReport& report) {
    std::ostringstream s;
    for (const auto& r : report.plugins) {
      s << r.step.plugin << ": " << to_string(r.step.action) << " " << to_string(r.outcome) << " (" << r.step.reason
        << ")";
      if (r.error) s << " error: " << r.error->what();
      s << "\n";
    }
    return s.str();
  }
};

TEST_F(BootReconcile, LoadsWhatIsEnabledOnceAndDisableUnloads) {
  REQUIRE_NAME_FREE("bpf_dctcp");
  REQUIRE_NAME_FREE("bpf_reno");
  const std::string before = default_cc();
  auto enable = cli({"enable", "dctcp", "--default", "--set", "shift_g=5"});
  ASSERT_EQ(enable.exit_code, 0) << enable.err;
  ASSERT_EQ(cli({"enable", "reno"}).exit_code, 0);
  EXPECT_FALSE(available("bpf_dctcp")) << "enable without --now must only record";
  EXPECT_EQ(config().default_plugin(), "dctcp");

  auto first = reconcile_now();
  ASSERT_TRUE(first.ok()) << describe(first);
  ASSERT_EQ(first.plugins.size(), 2u) << describe(first);
  for (const auto& r : first.plugins) {
    EXPECT_EQ(r.step.action, StepAction::load) << r.step.plugin;
    EXPECT_EQ(r.outcome, StepOutcome::done) << r.step.plugin;
  }
  EXPECT_TRUE(available("bpf_dctcp"));
  EXPECT_TRUE(available("bpf_reno"));
  EXPECT_EQ(default_cc(), "bpf_dctcp");
  EXPECT_EQ(result_of(first, "dctcp")->replaced_default, before);
  EXPECT_EQ(cli_json({"status", "dctcp"})["tunables"]["shift_g"], 5);

  auto second = reconcile_now();
  ASSERT_TRUE(second.ok()) << describe(second);
  ASSERT_EQ(second.plugins.size(), 2u);
  for (const auto& r : second.plugins) {
    EXPECT_EQ(r.step.action, StepAction::keep) << describe(second);
    EXPECT_EQ(r.outcome, StepOutcome::unchanged) << describe(second);
  }
  EXPECT_EQ(default_cc(), "bpf_dctcp");

  auto disable = cli({"--json", "disable", "dctcp", "--now"});
  ASSERT_EQ(disable.exit_code, 0) << disable.out << disable.err;
  auto j = nlohmann::json::parse(disable.out);
  EXPECT_TRUE(j["was_enabled"].get<bool>());
  EXPECT_EQ(j["unloaded"]["restored_default"], before);
  EXPECT_FALSE(available("bpf_dctcp"));
  EXPECT_EQ(default_cc(), before);
  ASSERT_EQ(cli({"disable", "reno", "--now"}).exit_code, 0);
  EXPECT_FALSE(available("bpf_reno"));
  EXPECT_TRUE(config().plugins.empty());
  EXPECT_TRUE(reconcile_now().plugins.empty());
}

TEST_F(BootReconcile, ApplyIsWhatTheUnitRuns) {
  REQUIRE_NAME_FREE("bpf_reno");
  ASSERT_EQ(cli({"enable", "reno", "--allow"}).exit_code, 0);
  auto dry = cli_json({"apply", "--dry-run"});
  EXPECT_EQ(dry["plugins"][0]["outcome"], "planned");
  EXPECT_FALSE(available("bpf_reno"));

  auto applied = cli_json({"apply"});
  EXPECT_EQ(applied["ok"], true);
  EXPECT_EQ(applied["plugins"][0]["action"], "load");
  EXPECT_EQ(applied["plugins"][0]["outcome"], "done");
  EXPECT_TRUE(available("bpf_reno"));
  EXPECT_TRUE(cli_json({"status", "reno"})["allowed"].get<bool>());

  auto again = cli({"apply"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("reno  nothing to do (loaded as configured)"), std::string::npos) << again.out;
}

TEST_F(BootReconcile, SwapsWhenTheConfigChangesTunables) {
  REQUIRE_NAME_FREE("bpf_cubic");
  ASSERT_EQ(cli({"enable", "cubic", "--set", "beta=700"}).exit_code, 0);
  auto first = reconcile_now();
  ASSERT_TRUE(first.ok()) << describe(first);
  EXPECT_EQ(cli_json({"status", "cubic"})["tunables"]["beta"], 700);

  ASSERT_EQ(cli({"enable", "cubic", "--set", "beta=600"}).exit_code, 0);
  auto second = reconcile_now();
  ASSERT_TRUE(second.ok()) << describe(second);
  ASSERT_EQ(second.plugins.size(), 1u);
  EXPECT_EQ(second.plugins[0].step.action, StepAction::swap);
  EXPECT_EQ(second.plugins[0].step.reason, "tunables beta 700 -> 600");
  EXPECT_EQ(second.plugins[0].outcome, StepOutcome::done);
  EXPECT_EQ(cli_json({"status", "cubic"})["tunables"]["beta"], 600);
  EXPECT_EQ(reconcile_now().plugins.at(0).step.action, StepAction::keep);
}

TEST_F(BootReconcile, SwapsToTheConfiguredVariant) {
  REQUIRE_NAME_FREE("bpf_dctcp");
  ASSERT_EQ(cli({"load", "dctcp"}).exit_code, 0);
  ASSERT_EQ(cli({"enable", "dctcp", "--variant", "alpha0"}).exit_code, 0);
  auto report = reconcile_now();
  ASSERT_TRUE(report.ok()) << describe(report);
  EXPECT_EQ(report.plugins.at(0).step.action, StepAction::swap);
  auto status = cli_json({"status", "dctcp"});
  EXPECT_EQ(status["tunables"]["alpha_on_init"], 0);
  auto again = reconcile_now();
  EXPECT_EQ(again.plugins.at(0).step.action, StepAction::keep) << describe(again);
}

TEST_F(BootReconcile, MakesALoadedPluginTheDefaultAndUnloadRestoresTheOldOne) {
  REQUIRE_NAME_FREE("bpf_reno");
  const std::string before = default_cc();
  ASSERT_EQ(cli({"load", "reno"}).exit_code, 0);
  ASSERT_EQ(cli({"enable", "reno", "--default"}).exit_code, 0);
  auto report = reconcile_now();
  ASSERT_TRUE(report.ok()) << describe(report);
  EXPECT_EQ(report.plugins.at(0).step.action, StepAction::select);
  EXPECT_EQ(report.plugins.at(0).replaced_default, before);
  EXPECT_EQ(default_cc(), "bpf_reno");
  auto unload = cli({"unload", "reno"});
  ASSERT_EQ(unload.exit_code, 0) << unload.err;
  EXPECT_EQ(default_cc(), before);
}

TEST_F(BootReconcile, LeavesOtherPluginsAloneAndGoesPastFailures) {
  REQUIRE_NAME_FREE("bpf_reno");
  REQUIRE_NAME_FREE("bpf_cubic");
  ASSERT_EQ(cli({"load", "cubic"}).exit_code, 0);
  ASSERT_EQ(cli({"enable", "reno"}).exit_code, 0);
  // An entry this build can't apply, as a hand edit or an older build might leave.
  BootConfig edited = config();
  edited.plugins["vegas"] = {};
  BootConfigStore(paths_.config_file()).save(edited);

  auto apply = cli({"--json", "apply"});
  EXPECT_EQ(apply.exit_code, 2) << apply.out;  // the failure's code: unknown plugin
  auto j = nlohmann::json::parse(apply.out);
  EXPECT_EQ(j["ok"], false);
  std::map<std::string, std::string> outcome;
  for (const auto& p : j["plugins"]) outcome[p["plugin"]] = p["outcome"];
  EXPECT_EQ(outcome,
            (std::map<std::string, std::string>{{"cubic", "unmanaged"}, {"reno", "done"}, {"vegas", "failed"}}));
  EXPECT_TRUE(available("bpf_reno"));
  EXPECT_TRUE(available("bpf_cubic")) << "apply must never unload what the config does not name";
}

TEST_F(BootReconcile, EnableNowLoadsImmediately) {
  REQUIRE_NAME_FREE("bpf_reno");
  auto r = cli({"enable", "reno", "--now"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("reno  loaded (was not loaded)"), std::string::npos) << r.out;
  EXPECT_TRUE(available("bpf_reno"));
  EXPECT_TRUE(config().plugins.count("reno"));
}

}  // namespace
}  // namespace bpfplug::test
