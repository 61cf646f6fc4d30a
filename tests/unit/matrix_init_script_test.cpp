// The guest's generated /init.
#include <gtest/gtest.h>

#include "bpfplug/matrix/init_script.hpp"

namespace bpfplug::matrix {
namespace {

InitSpec spec() {
  InitSpec s;
  s.modules = {{"libfoo", "/lib/modules/6.1.0/kernel/lib/libfoo.ko", {}},
               {"sch_red", "/lib/modules/6.1.0/kernel/net/sched/sch_red.ko", {}},
               {"sch_netem", {}, "missing"}};
  s.cli = "/tmp/fresh/build/bpfplug";
  s.command = {"/tmp/fresh/build/tests/bpfplug_kernel_tests", "--gtest_filter=*LoadUnload*:DefaultCc.*",
               "--gtest_output=json:/tmp/results.json"};
  s.gtest_output = "/tmp/results.json";
  s.command_timeout_seconds = 500;
  return s;
}

std::size_t at(const std::string& text, const std::string& what) {
  auto pos = text.find(what);
  EXPECT_NE(pos, std::string::npos) << "no '" << what << "' in\n" << text;
  return pos;
}

TEST(MatrixInitScript, MountsWhatTheTestsNeedButNotBpffsNorOverTmp) {
  std::string init = render_init_script(spec());
  EXPECT_EQ(init.rfind("#!/bin/sh\n", 0), 0u);
  for (const char* mount : {"mount -t proc proc /proc", "mount -t sysfs sysfs /sys", "mount -t devtmpfs devtmpfs /dev",
                            "mount -t tmpfs tmpfs /run", "mount --make-rshared /"})
    at(init, mount);
  EXPECT_EQ(init.find("-t bpf"), std::string::npos) << "bpfplug mounts bpffs itself";
  EXPECT_EQ(init.find("tmpfs /tmp"), std::string::npos) << "it would hide what the initramfs has under /tmp";
  at(init, "ip link set lo up");
  at(init, "dmesg -n 1");
}

TEST(MatrixInitScript, InsmodsInOrderAndNotesMissingModules) {
  std::string init = render_init_script(spec());
  auto foo = at(init, "insmod '/lib/modules/6.1.0/kernel/lib/libfoo.ko'");
  auto red = at(init, "insmod '/lib/modules/6.1.0/kernel/net/sched/sch_red.ko'");
  EXPECT_LT(foo, red);
  at(init, "@@BPFPLUG:module:sch_red:loaded@@");
  at(init, "@@BPFPLUG:module:sch_red:failed@@");
  at(init, "echo '@@BPFPLUG:module:sch_netem:missing@@'");
  EXPECT_LT(red, at(init, "'/tmp/fresh/build/bpfplug' --json probe"));
}

TEST(MatrixInitScript, RunsTheCommandAndSendsResultsBetweenMarkersThenPowersOff) {
  std::string init = render_init_script(spec());
  auto release = at(init, "@@BPFPLUG:release:$(uname -r)@@");
  auto probe = at(init, "emit probe /tmp/probe.json");
  auto command = at(init, "timeout -s KILL 500 '/tmp/fresh/build/tests/bpfplug_kernel_tests' "
                          "'--gtest_filter=*LoadUnload*:DefaultCc.*' '--gtest_output=json:/tmp/results.json'");
  auto gtest = at(init, "emit gtest '/tmp/results.json'");
  auto dmesg = at(init, "emit dmesg /tmp/dmesg.txt");
  auto done = at(init, "@@BPFPLUG:done@@");
  auto poweroff = at(init, "poweroff -f");
  EXPECT_LT(release, probe);
  EXPECT_LT(probe, command);
  EXPECT_LT(command, gtest);
  EXPECT_LT(gtest, dmesg);
  EXPECT_LT(dmesg, done);
  EXPECT_LT(done, poweroff);
  // Blocks are base64 between begin/end markers, their size announced first.
  at(init, "@@BPFPLUG:$1:bytes:$(wc -c < \"$2\")@@");
  at(init, "base64 \"$2\"");
}

TEST(MatrixInitScript, ADebugCommandSendsNoGtestBlock) {
  InitSpec s = spec();
  s.command = {"/bin/sh", "-c", "bpfplug -v load reno; dmesg | tail"};
  s.gtest_output.clear();
  s.command_timeout_seconds = 0;
  std::string init = render_init_script(s);
  at(init, "( '/bin/sh' '-c' 'bpfplug -v load reno; dmesg | tail'; echo $? > /tmp/exit )");
  EXPECT_EQ(init.find("emit gtest"), std::string::npos);
  EXPECT_EQ(init.find("timeout -s KILL"), std::string::npos);
}

TEST(MatrixInitScript, ShellQuoting) {
  EXPECT_EQ(shell_quote("plain"), "'plain'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote(""), "''");
}

}  // namespace
}  // namespace bpfplug::matrix
