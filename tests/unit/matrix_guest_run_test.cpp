// Booting a guest: the qemu command line, and the time bound on whatever runs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "bpfplug/matrix/guest_run.hpp"
#include "bpfplug/matrix/subprocess.hpp"

namespace fs = std::filesystem;

namespace bpfplug::matrix {
namespace {

TEST(MatrixGuestRun, QemuCommandLine) {
  GuestBoot boot;
  boot.kernel = "/cache/6.1/vmlinuz";
  boot.initrd = "/tmp/x/initramfs.cpio";
  auto argv = qemu_command(boot);
  std::string line;
  for (const auto& a : argv) line += a + " ";
  for (const char* part : {"qemu-system-x86_64 ", "-accel tcg ", "-m 2048 ", "-smp 1 ", "-nographic ", "-no-reboot ",
                           "-kernel /cache/6.1/vmlinuz ", "-initrd /tmp/x/initramfs.cpio "})
    EXPECT_NE(line.find(part), std::string::npos) << part << " not in " << line;
  EXPECT_EQ(argv.back(), "console=ttyS0 panic=-1 quiet rdinit=/init");
}

TEST(MatrixGuestRun, AProcessPastItsTimeIsKilledWithItsChildren) {
  fs::path log = fs::temp_directory_path() / ("matrix-bounded-" + std::to_string(getpid()) + ".log");
  fs::path marker = log.string() + ".late";
  auto start = std::chrono::steady_clock::now();
  // The child's own child would write `marker` after 2 s if it outlived the kill.
  Bounded r = run_bounded({"sh", "-c", "echo started; (sleep 2; touch '" + marker.string() + "') & sleep 30"}, log,
                          std::chrono::milliseconds(300));
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_FALSE(fs::exists(marker)) << "a grandchild survived the timeout";
  std::ifstream in(log);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, "started");
  fs::remove(log);
  fs::remove(marker);
}

TEST(MatrixGuestRun, AProcessThatEndsInTimeReportsItsExit) {
  fs::path log = fs::temp_directory_path() / ("matrix-bounded-ok-" + std::to_string(getpid()) + ".log");
  Bounded r = run_bounded({"sh", "-c", "exit 3"}, log, std::chrono::seconds(10));
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 3);
  fs::remove(log);
}

}  // namespace
}  // namespace bpfplug::matrix
