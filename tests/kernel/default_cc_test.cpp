// Selecting a plugin system-wide: --default, plain sysctl writes, and --allow for
// unprivileged programs.
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "kernel/kernel_fixture.hpp"
#include "bpfplug/sysctl.hpp"
#include "bpfplug/testbed/tcp_connection.hpp"

namespace bpfplug::test {
namespace {

using namespace bpfplug::testbed;

constexpr unsigned kNobody = 65534;

// setsockopt(TCP_CONGESTION, cc) from a child process running as an unprivileged user.
int unprivileged_set_cc(const std::string& cc) {
  pid_t pid = fork();
  if (pid == 0) {
    if (setgid(kNobody) != 0 || setuid(kNobody) != 0) _exit(255);
    _exit(try_set_cc(cc));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The congestion control a new socket gets when the program does not choose one.
std::string new_socket_cc() {
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  return socket_cc(fd.get());
}

class DefaultCc : public KernelTest {};

TEST_F(DefaultCc, DefaultFlagSetsSysctlAndUnloadRestoresIt) {
  REQUIRE_NAME_FREE("bpf_dctcp");
  std::string before = proc_sys("net/ipv4/tcp_congestion_control");
  auto load = cli({"--json", "load", "dctcp", "--default"});
  ASSERT_EQ(load.exit_code, 0) << load.err;
  EXPECT_EQ(nlohmann::json::parse(load.out)["replaced_default"], before);
  EXPECT_EQ(proc_sys("net/ipv4/tcp_congestion_control"), "bpf_dctcp");
  EXPECT_EQ(new_socket_cc(), "bpf_dctcp");
  EXPECT_TRUE(cli_json({"status", "dctcp"})["default"].get<bool>());

  auto unload = cli({"--json", "unload", "dctcp"});
  ASSERT_EQ(unload.exit_code, 0) << unload.err;
  EXPECT_EQ(nlohmann::json::parse(unload.out)["restored_default"], before);
  EXPECT_EQ(proc_sys("net/ipv4/tcp_congestion_control"), before);
  EXPECT_FALSE(available("bpf_dctcp"));
}

TEST_F(DefaultCc, SysctlSelectsALoadedPlugin) {
  REQUIRE_NAME_FREE("bpf_cubic");
  ASSERT_EQ(cli({"load", "cubic"}).exit_code, 0);
  // What `sysctl -w net.ipv4.tcp_congestion_control=bpf_cubic` does.
  write_proc_sys("net/ipv4/tcp_congestion_control", "bpf_cubic");
  EXPECT_EQ(proc_sys("net/ipv4/tcp_congestion_control"), "bpf_cubic");
  EXPECT_EQ(new_socket_cc(), "bpf_cubic");
  // Set outside bpfplug, so bpfplug has no earlier default to restore: it refuses, clearly.
  auto unload = cli({"unload", "cubic"});
  EXPECT_EQ(unload.exit_code, 5);
  EXPECT_NE(unload.err.find("system default"), std::string::npos) << unload.err;
  EXPECT_TRUE(available("bpf_cubic"));
}

TEST_F(DefaultCc, AllowLetsUnprivilegedProgramsChooseThePlugin) {
  REQUIRE_NAME_FREE("bpf_reno");
  REQUIRE_NAME_FREE("bpf_cubic");
  ASSERT_EQ(cli({"load", "reno", "--allow"}).exit_code, 0);
  ASSERT_EQ(cli({"load", "cubic"}).exit_code, 0);
  auto allowed = split_words(proc_sys("net/ipv4/tcp_allowed_congestion_control"));
  EXPECT_NE(std::find(allowed.begin(), allowed.end(), "bpf_reno"), allowed.end());
  EXPECT_EQ(std::find(allowed.begin(), allowed.end(), "bpf_cubic"), allowed.end());
  EXPECT_EQ(unprivileged_set_cc("bpf_reno"), 0);
  EXPECT_EQ(unprivileged_set_cc("bpf_cubic"), EPERM);
  EXPECT_TRUE(cli_json({"status", "reno"})["allowed"].get<bool>());
}

}  // namespace
}  // namespace bpfplug::test
