// Which guest kernel modules to insmod, and in which order, from modules.dep.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bpfplug/matrix/kernel_modules.hpp"

namespace bpfplug::matrix {
namespace {

using ::testing::ElementsAre;
using State = WantedModule::State;

// A modules.dep in depmod's format: each line lists the whole closure, nearest dependency first.
constexpr const char* kDep =
    "kernel/net/ipv4/tcp_dctcp.ko.xz:\n"
    "kernel/net/sched/sch_red.ko.zst: kernel/net/sched/sch_fq.ko kernel/lib/libfoo.ko\n"
    "kernel/net/sched/sch_fq.ko: kernel/lib/libfoo.ko\n"
    "kernel/lib/libfoo.ko:\n"
    "kernel/drivers/net/veth.ko:\n"
    "kernel/net/sched/sch-dashed.ko:\n";

TEST(MatrixKernelModules, NamesComeFromPathsWithoutCompression) {
  EXPECT_EQ(module_name("kernel/net/ipv4/tcp_dctcp.ko.xz"), "tcp_dctcp");
  EXPECT_EQ(module_name("kernel/net/sched/sch_red.ko.zst"), "sch_red");
  EXPECT_EQ(module_name("veth.ko"), "veth");
  EXPECT_EQ(module_name("kernel/x/sch-dashed.ko.gz"), "sch_dashed");
  EXPECT_EQ(uncompressed_module_path("kernel/net/ipv4/tcp_dctcp.ko.xz"), "kernel/net/ipv4/tcp_dctcp.ko");
  EXPECT_EQ(uncompressed_module_path("kernel/net/sched/sch_red.ko.zst"), "kernel/net/sched/sch_red.ko");
  EXPECT_EQ(uncompressed_module_path("kernel/drivers/net/veth.ko"), "kernel/drivers/net/veth.ko");
}

TEST(MatrixKernelModules, DependenciesComeFirstAndOnlyOnce) {
  ModulePlan plan = plan_modules(kDep, "", {"sch_red", "sch_fq", "tcp_dctcp"});
  EXPECT_THAT(plan.load_order, ElementsAre("kernel/lib/libfoo.ko", "kernel/net/sched/sch_fq.ko",
                                           "kernel/net/sched/sch_red.ko.zst", "kernel/net/ipv4/tcp_dctcp.ko.xz"));
  ASSERT_EQ(plan.wanted.size(), 3u);
  for (const auto& w : plan.wanted) EXPECT_EQ(w.state, State::load) << w.name;
}

TEST(MatrixKernelModules, BuiltinAndMissingModulesAreNotedNotFatal) {
  ModulePlan plan = plan_modules(kDep, "kernel/net/sched/sch_tbf.ko\nkernel/net/ipv4/tcp_cubic.ko\n",
                                 {"sch_tbf", "sch_netem", "veth"});
  EXPECT_THAT(plan.load_order, ElementsAre("kernel/drivers/net/veth.ko"));
  ASSERT_EQ(plan.wanted.size(), 3u);
  EXPECT_EQ(plan.wanted[0].state, State::builtin);
  EXPECT_EQ(plan.wanted[1].state, State::missing);
  EXPECT_EQ(plan.wanted[1].name, "sch_netem");
  EXPECT_EQ(plan.wanted[2].state, State::load);
}

TEST(MatrixKernelModules, DashesAndUnderscoresAreTheSameName) {
  ModulePlan plan = plan_modules(kDep, "", {"sch-dashed"});
  EXPECT_THAT(plan.load_order, ElementsAre("kernel/net/sched/sch-dashed.ko"));
}

}  // namespace
}  // namespace bpfplug::matrix
