// The result parser: serial logs as the guest prints them, kernel messages interleaved.
#include <gtest/gtest.h>

#include <string>

#include "bpfplug/matrix/results.hpp"

namespace bpfplug::matrix {
namespace {

using nlohmann::json;

std::string base64(const std::string& in) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    unsigned n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    out += abc[(n >> 18) & 63];
    out += abc[(n >> 12) & 63];
    out += i + 1 < in.size() ? abc[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? abc[n & 63] : '=';
  }
  std::string wrapped;  // 76 columns, as busybox base64 prints
  for (std::size_t i = 0; i < out.size(); i += 76) wrapped += out.substr(i, 76) + "\r\n";
  return wrapped;
}

std::string block(const std::string& name, const std::string& bytes) {
  return "@@BPFPLUG:" + name + ":bytes:" + std::to_string(bytes.size()) + "@@\r\n@@BPFPLUG:" + name + ":begin@@\r\n" +
         base64(bytes) + "@@BPFPLUG:" + name + ":end@@\r\n";
}

const json kProbe = {{"kernel", "6.1.0-56-cloud-amd64"},
                     {"features",
                      {{"struct_ops_link",
                        {{"supported", false},
                         {"detail", "no bpf_struct_ops_link type"},
                         {"consequence", "fallback: plain map registration (Linux < 6.4); no atomic swap"}}}}}};

const json kGtest = json::parse(R"({"tests": 4, "testsuites": [
  {"name": "Plugins/LoadUnload", "testsuite": [
    {"name": "RegistersPersistsAcrossProcessesAndLeavesNothingBehind/0", "value_param": "\"reno\"",
     "status": "RUN", "result": "COMPLETED"},
    {"name": "RegistersPersistsAcrossProcessesAndLeavesNothingBehind/1", "value_param": "\"dctcp\"",
     "status": "RUN", "result": "COMPLETED",
     "failures": [{"failure": "tests/kernel/load_unload_test.cpp:30\nExpected equality of these values:\n  r.exit_code\n    Which is: 1", "type": ""}]}]},
  {"name": "DefaultCc", "testsuite": [
    {"name": "SysctlSelectsALoadedPlugin", "status": "RUN", "result": "SKIPPED"},
    {"name": "NotSelected", "status": "NOTRUN", "result": "SUPPRESSED"}]}]})");

const std::string kConsole =
    "[ RUN      ] DefaultCc.SysctlSelectsALoadedPlugin\n"
    "tests/kernel/default_cc_test.cpp:50: Skipped\n"
    "bpf_reno is already registered on this host\n"
    "\n"
    "[  SKIPPED ] DefaultCc.SysctlSelectsALoadedPlugin (0 ms)\n";

// A whole run: boot noise, markers, blocks, with kernel messages landing between lines and in
// the middle of a base64 line.
std::string serial_log() {
  std::string gtest_block = block("gtest", kGtest.dump());
  auto mid = gtest_block.find("\r\n", gtest_block.find(":begin@@") + 10) - 20;
  gtest_block.insert(mid, "[   42.123456] random: crng init done\r\n");
  auto next_line = gtest_block.find("\r\n", gtest_block.find(":begin@@") + 10) + 2;
  gtest_block.insert(next_line, "[   43.000001] BUG: soft lockup - CPU#0 stuck for 22s!\r\n");
  return "\x1b" "c\x1b[?7l[    0.000000] Linux version 6.1.0-56-cloud-amd64\r\n"
         "@@BPFPLUG:boot:2.31@@\r\n@@BPFPLUG:release:6.1.0-56-cloud-amd64@@\r\n"
         "@@BPFPLUG:module:veth:loaded@@\r\n@@BPFPLUG:module:sch_red:failed@@\r\n"
         "@@BPFPLUG:module:sch_netem:missing@@\r\n" +
         block("probe", kProbe.dump()) + kConsole + "@@BPFPLUG:exit:1@@\r\n" + block("output", kConsole) +
         gtest_block + "@@BPFPLUG:done@@\r\n[   50.1] reboot: Power down\r\n";
}

TEST(MatrixResults, ReadsEverythingFromACompleteLogDespiteKernelMessages) {
  GuestResult r = parse_serial_log(serial_log());
  EXPECT_TRUE(r.completed());
  EXPECT_TRUE(r.missing_markers.empty()) << r.missing_markers.front();
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(r.release, "6.1.0-56-cloud-amd64");
  EXPECT_DOUBLE_EQ(r.boot_seconds, 2.31);
  EXPECT_EQ(r.probe, kProbe);
  EXPECT_EQ(r.command_exit, 1);
  EXPECT_EQ(r.modules.at("veth"), "loaded");
  EXPECT_EQ(r.modules.at("sch_red"), "failed");
  EXPECT_EQ(r.modules.at("sch_netem"), "missing");

  ASSERT_EQ(r.tests.size(), 3u) << "the NOTRUN test is left out";
  EXPECT_EQ(r.tests[0].name, "Plugins/LoadUnload.RegistersPersistsAcrossProcessesAndLeavesNothingBehind/0 \"reno\"");
  EXPECT_EQ(r.tests[0].status, "passed");
  EXPECT_EQ(r.tests[1].status, "failed");
  EXPECT_NE(r.tests[1].message.find("Which is: 1"), std::string::npos);
  EXPECT_EQ(r.tests[2].name, "DefaultCc.SysctlSelectsALoadedPlugin");
  EXPECT_EQ(r.tests[2].status, "skipped");
  EXPECT_EQ(r.tests[2].message, "bpf_reno is already registered on this host");
}

TEST(MatrixResults, AGuestThatDiedEarlyHasMissingMarkers) {
  std::string log = serial_log();
  log.resize(log.find("@@BPFPLUG:probe:end@@"));
  GuestResult r = parse_serial_log(log);
  EXPECT_FALSE(r.completed());
  for (const char* m : {"probe:end", "exit", "gtest:begin", "gtest:end", "done"})
    EXPECT_NE(std::find(r.missing_markers.begin(), r.missing_markers.end(), m), r.missing_markers.end()) << m;
  EXPECT_TRUE(r.probe.is_null());
  EXPECT_TRUE(r.tests.empty());
}

TEST(MatrixResults, ADamagedBlockIsAnErrorNotWrongData) {
  std::string log = serial_log();
  auto begin = log.find("@@BPFPLUG:probe:begin@@\r\n") + 25;
  log.erase(begin, 4);  // four base64 characters lost: three bytes short
  GuestResult r = parse_serial_log(log);
  EXPECT_TRUE(r.probe.is_null());
  ASSERT_FALSE(r.errors.empty());
  EXPECT_NE(r.errors.front().find("probe block"), std::string::npos) << r.errors.front();
}

TEST(MatrixResults, WithoutGtestJsonTheConsoleOutputTellsWhatRan) {
  std::string console = kConsole +
                        "[ RUN      ] Plugins/Traffic.LoopbackConnectionRunsPlugin/0\n"
                        "[       OK ] Plugins/Traffic.LoopbackConnectionRunsPlugin/0 (120 ms)\n"
                        "[ RUN      ] Swap.UnderLoadFailsNoConnectionAndKeepsOpenOnesOnTheOldImplementation\n";
  std::string log = "@@BPFPLUG:boot:1.0@@\n@@BPFPLUG:release:5.10.0-35-cloud-amd64@@\n" + block("probe", "{}") +
                    "@@BPFPLUG:exit:137@@\n" + block("output", console) + "@@BPFPLUG:done@@\n";
  GuestResult r = parse_serial_log(log);
  ASSERT_EQ(r.tests.size(), 3u);
  EXPECT_EQ(r.tests[0].status, "skipped");
  EXPECT_EQ(r.tests[1].status, "passed");
  EXPECT_EQ(r.tests[2].status, "failed");
  EXPECT_NE(r.tests[2].message.find("exit 137"), std::string::npos);
  EXPECT_FALSE(r.errors.empty());
}

TEST(MatrixResults, AGuestKernelPanicFailsTheTestThatRanAndKeepsTheOnesBefore) {
  std::string log = "@@BPFPLUG:boot:1.0@@\r\n@@BPFPLUG:release:6.12.95@@\r\n" + block("probe", "{}") +
                    "[ RUN      ] Lifecycle.TheNextCommandRepairsFirst\r\n"
                    "[       OK ] Lifecycle.TheNextCommandRepairsFirst (2685 ms)\r\n"
                    "[ RUN      ] Lifecycle.RacingProcessesLeaveAConsistentState\r\n"
                    "[  111.000059] traps: PANIC: double fault, error_code: 0x0\r\n"
                    "[  111.002313] Oops: double fault: 0000 [#1] PREEMPT SMP NOPTI\r\n"
                    "[  111.008182] Kernel panic - not syncing: Fatal exception in interrupt\r\n";
  GuestResult r = parse_serial_log(log);
  EXPECT_FALSE(r.completed());
  ASSERT_EQ(r.tests.size(), 2u);
  EXPECT_EQ(r.tests[0].status, "passed");
  EXPECT_EQ(r.tests[1].status, "failed");
  EXPECT_EQ(r.tests[1].message,
            "the guest kernel died during this test: Kernel panic - not syncing: Fatal exception in interrupt "
            "(Oops: double fault: 0000 [#1] PREEMPT SMP NOPTI)");
  EXPECT_NE(std::find(r.errors.begin(), r.errors.end(),
                      "Kernel panic - not syncing: Fatal exception in interrupt (Oops: double fault: 0000 [#1] PREEMPT SMP NOPTI)"),
            r.errors.end());
}

TEST(MatrixResults, KernelWarningsInTheGuestsLogAreReported) {
  std::string log = serial_log();
  std::string dmesg =
      "[    1.0] Linux version 6.12\n"
      "[   42.5] WARNING: CPU: 0 PID: 321 at net/ipv4/tcp_cong.c:123 tcp_set_congestion_control+0x1/0x2\n";
  log.insert(log.find("@@BPFPLUG:done@@"), block("dmesg", dmesg));
  GuestResult r = parse_serial_log(log);
  EXPECT_EQ(r.dmesg, dmesg);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "kernel: WARNING: CPU: 0 PID: 321 at net/ipv4/tcp_cong.c:123 tcp_set_congestion_control+0x1/0x2");
}

TEST(MatrixResults, SkipMessagesSpanLinesAndMayBeEmpty) {
  auto m = skip_messages(
      "[ RUN      ] A.One\nx.cpp:1: Skipped\nfirst line\nsecond line\n\n[  SKIPPED ] A.One (0 ms)\n"
      "[ RUN      ] A.Two\nx.cpp:2: Skipped\n\n[  SKIPPED ] A.Two (1 ms)\n"
      "[ RUN      ] A.Three\n[       OK ] A.Three (1 ms)\n");
  EXPECT_EQ(m.at("A.One"), "first line\nsecond line");
  EXPECT_EQ(m.at("A.Two"), "");
  EXPECT_EQ(m.count("A.Three"), 0u);
}

TEST(MatrixResults, FiguresATestRecordedAreKeptAsTextAndGtestsOwnMembersAreNot) {
  const json gtest = json::parse(R"({"testsuites": [{"name": "Swap", "testsuite": [
    {"name": "UnderLoad", "file": "swap_test.cpp", "line": 40, "status": "RUN", "result": "COMPLETED",
     "timestamp": "2026-11-22T03:00:00Z", "time": "11.5s", "classname": "Swap",
     "connections_attempted": "7296", "connections_failed": 0}]}]})");
  auto tests = tests_from_gtest_json(gtest);
  ASSERT_EQ(tests.size(), 1u);
  EXPECT_EQ(tests[0].properties,
            (std::map<std::string, std::string>{{"connections_attempted", "7296"}, {"connections_failed", "0"}}));
  GuestResult r;
  r.tests = tests;
  EXPECT_EQ(guest_result_from_json(to_json(r)).tests[0].properties, tests[0].properties);
}

TEST(MatrixResults, JsonRoundTrip) {
  GuestResult r = parse_serial_log(serial_log());
  r.guest = "6.1";
  r.wall_seconds = 61.5;
  json j = to_json(r);
  for (const char* key : {"guest", "release", "probe", "tests", "boot_seconds", "wall_seconds", "timed_out", "missing_markers"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["tests"][1]["status"], "failed");
  GuestResult back = guest_result_from_json(j);
  EXPECT_EQ(to_json(back), j);
}

}  // namespace
}  // namespace bpfplug::matrix
