// Reconciling the kernel with the boot config: every decision of plan_reconcile(), and
// reconcile() carrying a plan out past failures on a FakeHost (where every load is refused
// before the kernel is asked).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bpfplug/error.hpp"
#include "bpfplug/reconcile.hpp"
#include "fake_host.hpp"

namespace bpfplug {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

class Plan : public ::testing::Test {
 protected:
  std::vector<ReconcileStep> plan() const { return plan_reconcile(config_, catalogue_, current_); }
  ReconcileStep only_step() const {
    auto steps = plan();
    EXPECT_EQ(steps.size(), 1u);
    return steps.empty() ? ReconcileStep{} : steps.front();
  }
  // A plugin loaded exactly as the built-in catalogue's variant would load it, no --set.
  LoadedPlugin running(const std::string& plugin, const std::string& variant = "default") const {
    LoadedPlugin p;
    p.variant = variant;
    for (const auto& t : catalogue_.get(plugin, variant).meta.tunables) p.tunables[t.name] = t.default_value;
    return p;
  }

  Catalogue catalogue_ = Catalogue::builtin();
  BootConfig config_;
  CurrentState current_;
};

TEST_F(Plan, NothingEnabledNothingLoadedIsEmpty) { EXPECT_TRUE(plan().empty()); }

TEST_F(Plan, NotLoadedIsLoadWithEveryTunable) {
  config_.plugins["dctcp"] = {"default", true, true, {{"shift_g", 5}}};
  auto step = only_step();
  EXPECT_EQ(step.action, StepAction::load);
  EXPECT_EQ(step.plugin, "dctcp");
  EXPECT_EQ(step.variant, "default");
  EXPECT_TRUE(step.make_default);
  EXPECT_TRUE(step.allow);
  EXPECT_THAT(step.assignments, ElementsAre("alpha_on_init=1024", "shift_g=5"));
  EXPECT_EQ(step.reason, "not loaded");
}

TEST_F(Plan, LoadedAsConfiguredIsKeep) {
  config_.plugins["reno"] = {};
  current_.loaded["reno"] = running("reno");
  auto step = only_step();
  EXPECT_EQ(step.action, StepAction::keep);
  EXPECT_FALSE(step.make_default);
  EXPECT_FALSE(step.allow);
}

TEST_F(Plan, LoadedButNotTheDefaultIsSelect) {
  config_.plugins["reno"] = {"default", true, false, {}};
  current_.loaded["reno"] = running("reno");
  auto step = only_step();
  EXPECT_EQ(step.action, StepAction::select);
  EXPECT_TRUE(step.make_default);
  EXPECT_FALSE(step.allow);
  EXPECT_EQ(step.reason, "loaded, but not the default");
}

TEST_F(Plan, LoadedButNotAllowedIsSelect) {
  config_.plugins["reno"] = {"default", false, true, {}};
  current_.loaded["reno"] = running("reno");
  auto step = only_step();
  EXPECT_EQ(step.action, StepAction::select);
  EXPECT_FALSE(step.make_default);
  EXPECT_TRUE(step.allow);
}

TEST_F(Plan, AlreadyDefaultAndAllowedIsKeep) {
  config_.plugins["reno"] = {"default", true, true, {}};
  current_.loaded["reno"] = running("reno");
  current_.loaded["reno"].is_default = current_.loaded["reno"].allowed = true;
  EXPECT_EQ(only_step().action, StepAction::keep);
}

TEST_F(Plan, NeverTakesAwayADefaultOrAllowedTheConfigDoesNotAskFor) {
  config_.plugins["reno"] = {};
  current_.loaded["reno"] = running("reno");
  current_.loaded["reno"].is_default = current_.loaded["reno"].allowed = true;
  EXPECT_EQ(only_step().action, StepAction::keep);
}

TEST_F(Plan, OtherTunablesIsSwap) {
  config_.plugins["dctcp"] = {"default", false, false, {{"shift_g", 5}}};
  current_.loaded["dctcp"] = running("dctcp");
  auto step = only_step();
  EXPECT_EQ(step.action, StepAction::swap);
  EXPECT_EQ(step.reason, "tunables shift_g 4 -> 5");
  EXPECT_THAT(step.assignments, ElementsAre("alpha_on_init=1024", "shift_g=5"));
}

TEST_F(Plan, OtherVariantIsSwap) {
  config_.plugins["dctcp"] = {"alpha0", false, false, {}};
  current_.loaded["dctcp"] = running("dctcp");
  auto step = only_step();
  EXPECT_EQ(step.action, StepAction::swap);
  EXPECT_EQ(step.variant, "alpha0");
  // The variant's own default differs too; both are said.
  EXPECT_EQ(step.reason, "variant default -> alpha0; tunables alpha_on_init 1024 -> 0");
}

TEST_F(Plan, VariantWithItsOwnDefaultsIsKeep) {
  config_.plugins["dctcp"] = {"alpha0", false, false, {}};
  current_.loaded["dctcp"] = running("dctcp", "alpha0");
  EXPECT_EQ(only_step().action, StepAction::keep);
}

TEST_F(Plan, SwapAlsoSelectsWhatIsMissing) {
  config_.plugins["dctcp"] = {"default", true, true, {{"shift_g", 6}}};
  current_.loaded["dctcp"] = running("dctcp");
  current_.loaded["dctcp"].allowed = true;
  auto step = only_step();
  EXPECT_EQ(step.action, StepAction::swap);
  EXPECT_TRUE(step.make_default);
  EXPECT_FALSE(step.allow);  // already allowed
}

TEST_F(Plan, TunableMissingFromTheKernelCountsAsDifferent) {
  config_.plugins["dctcp"] = {};
  current_.loaded["dctcp"] = running("dctcp");
  current_.loaded["dctcp"].tunables.erase("shift_g");
  auto step = only_step();
  EXPECT_EQ(step.action, StepAction::swap);
  EXPECT_EQ(step.reason, "tunables shift_g ? -> 4");
}

TEST_F(Plan, LoadedButNotInTheConfigIsLeftAlone) {
  config_.plugins["reno"] = {};
  current_.loaded["cubic"] = running("cubic");
  current_.loaded["dctcp"] = running("dctcp");
  auto steps = plan();
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].plugin, "reno");
  EXPECT_EQ(steps[0].action, StepAction::load);
  for (int i : {1, 2}) {
    EXPECT_EQ(steps[i].action, StepAction::unmanaged);
    EXPECT_EQ(steps[i].reason, "not managed by boot config");
  }
  EXPECT_EQ(steps[1].plugin, "cubic");
  EXPECT_EQ(steps[2].plugin, "dctcp");
}

TEST_F(Plan, UnknownPluginIsInvalidAndTheRestIsStillPlanned) {
  config_.plugins["vegas"] = {};
  config_.plugins["reno"] = {};
  auto steps = plan();
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].plugin, "reno");
  EXPECT_EQ(steps[0].action, StepAction::load);
  EXPECT_EQ(steps[1].plugin, "vegas");
  EXPECT_EQ(steps[1].action, StepAction::invalid);
  ASSERT_TRUE(steps[1].error);
  EXPECT_EQ(steps[1].error->code(), Exit::usage);
  EXPECT_THAT(steps[1].error->what(), HasSubstr("boot config entry vegas: unknown plugin 'vegas'"));
}

TEST_F(Plan, UnknownVariantIsInvalid) {
  config_.plugins["dctcp"] = {"alpha1", false, false, {}};
  auto step = only_step();
  EXPECT_EQ(step.action, StepAction::invalid);
  EXPECT_THAT(step.error->what(), HasSubstr("no variant 'alpha1'"));
}

TEST_F(Plan, BadTunableInTheFileIsInvalid) {
  config_.plugins["dctcp"] = {"default", false, false, {{"shift_g", 11}}};
  config_.plugins["cubic"] = {"default", false, false, {{"bogus", 1}}};
  for (const auto& step : plan()) {
    EXPECT_EQ(step.action, StepAction::invalid) << step.plugin;
    EXPECT_EQ(step.error->code(), Exit::usage) << step.plugin;
    EXPECT_THAT(step.error->what(), HasSubstr("boot config entry " + step.plugin)) << step.plugin;
  }
}

TEST_F(Plan, UnreadableLoadedPluginIsInvalid) {
  config_.plugins["reno"] = {};
  current_.loaded["reno"].unreadable = Error(Exit::failure, "pins damaged");
  auto step = only_step();
  EXPECT_EQ(step.action, StepAction::invalid);
  EXPECT_STREQ(step.error->what(), "pins damaged");
}

TEST(ReconcileNames, ActionsAndOutcomes) {
  EXPECT_EQ(to_string(StepAction::load), "load");
  EXPECT_EQ(to_string(StepAction::swap), "swap");
  EXPECT_EQ(to_string(StepAction::select), "select");
  EXPECT_EQ(to_string(StepAction::keep), "keep");
  EXPECT_EQ(to_string(StepAction::unmanaged), "unmanaged");
  EXPECT_EQ(to_string(StepAction::invalid), "invalid");
  EXPECT_EQ(to_string(StepOutcome::planned), "planned");
  EXPECT_EQ(to_string(StepOutcome::done), "done");
  EXPECT_EQ(to_string(StepOutcome::unchanged), "unchanged");
  EXPECT_EQ(to_string(StepOutcome::failed), "failed");
  EXPECT_EQ(to_string(StepOutcome::unmanaged), "unmanaged");
}

TEST(ReconcileReportTest, ExitCodeIsTheFirstFailure) {
  ReconcileReport report;
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.exit_code(), Exit::ok);
  report.plugins.push_back({{}, StepOutcome::done, {}, {}});
  report.plugins.push_back({{}, StepOutcome::failed, {}, Error(Exit::unsupported, "no struct_ops")});
  report.plugins.push_back({{}, StepOutcome::failed, {}, Error(Exit::conflict, "taken")});
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.exit_code(), Exit::unsupported);
}

// --- reconcile() on a FakeHost: nothing here may reach the kernel ---

class ReconcileOnFakeHost : public ::testing::Test {
 protected:
  ReconcileOnFakeHost() : before_(test::congestion_sysctl_snapshot(dir_.path() / "sys")) {}
  Paths paths() const { return {dir_.path() / "bpffs/bpfplug", dir_.path() / "state", dir_.path() / "etc"}; }
  ReconcileReport run(bool dry_run = false) {
    PluginManager manager(host_, Catalogue::builtin(), paths());
    return reconcile(manager, config_, dry_run);
  }
  void expect_host_unchanged() {
    EXPECT_EQ(test::congestion_sysctl_snapshot(dir_.path() / "sys"), before_);
    EXPECT_FALSE(fs::exists(paths().pin_root));
    EXPECT_FALSE(fs::exists(paths().state_file()));
  }

  test::TempDir dir_;
  test::FakeHost host_{dir_.path() / "sys"};
  std::string before_;
  BootConfig config_;
};

TEST_F(ReconcileOnFakeHost, EveryPluginIsTriedPastFailures) {
  host_.features_.struct_ops = false;  // every load is refused before the kernel is asked
  config_.plugins["dctcp"] = {"default", true, false, {}};
  config_.plugins["reno"] = {};
  config_.plugins["vegas"] = {};
  auto report = run();
  ASSERT_EQ(report.plugins.size(), 3u);
  for (const auto& r : report.plugins) {
    EXPECT_EQ(r.outcome, StepOutcome::failed) << r.step.plugin;
    ASSERT_TRUE(r.error) << r.step.plugin;
  }
  EXPECT_EQ(report.plugins[0].error->code(), Exit::unsupported);
  EXPECT_THAT(report.plugins[0].error->what(), HasSubstr("can't load plugin dctcp"));
  EXPECT_THAT(report.plugins[1].error->what(), HasSubstr("can't load plugin reno"));
  EXPECT_EQ(report.plugins[2].error->code(), Exit::usage);
  EXPECT_EQ(report.exit_code(), Exit::unsupported);
  expect_host_unchanged();
}

TEST_F(ReconcileOnFakeHost, UnprivilegedFailsEachPluginWithPermission) {
  host_.privileged_ = false;
  config_.plugins["reno"] = {};
  auto report = run();
  ASSERT_EQ(report.plugins.size(), 1u);
  EXPECT_EQ(report.plugins[0].outcome, StepOutcome::failed);
  EXPECT_EQ(report.exit_code(), Exit::permission);
  expect_host_unchanged();
}

TEST_F(ReconcileOnFakeHost, DryRunOnlyPlans) {
  config_.plugins["dctcp"] = {"default", true, false, {}};
  config_.plugins["vegas"] = {};
  auto report = run(/*dry_run=*/true);
  EXPECT_TRUE(report.dry_run);
  ASSERT_EQ(report.plugins.size(), 2u);
  EXPECT_EQ(report.plugins[0].outcome, StepOutcome::planned);
  EXPECT_EQ(report.plugins[0].step.action, StepAction::load);
  EXPECT_EQ(report.plugins[1].outcome, StepOutcome::failed);  // invalid entries fail a dry run too
  EXPECT_EQ(host_.ensure_bpffs_calls, 0);
  expect_host_unchanged();
}

TEST_F(ReconcileOnFakeHost, EmptyConfigDoesNothing) {
  auto report = run();
  EXPECT_TRUE(report.plugins.empty());
  EXPECT_TRUE(report.ok());
  expect_host_unchanged();
}

TEST_F(ReconcileOnFakeHost, SelectRefusesWhatIsNotLoaded) {
  PluginManager manager(host_, Catalogue::builtin(), paths());
  try {
    manager.select("reno", true, false);
    FAIL() << "expected bpfplug::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::conflict);
    EXPECT_THAT(e.what(), HasSubstr("not loaded"));
  }
  host_.privileged_ = false;
  try {
    manager.select("reno", true, false);
    FAIL() << "expected bpfplug::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::permission);
  }
  EXPECT_EQ(test::congestion_sysctl_snapshot(dir_.path() / "sys"), before_);
}

}  // namespace
}  // namespace bpfplug
