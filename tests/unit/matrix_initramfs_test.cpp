// The initramfs builder end to end, on a made-up kernel directory: files keep their paths, ELF
// files bring their libraries, modules are decompressed and ordered, /init is generated.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "bpfplug/matrix/error.hpp"
#include "bpfplug/matrix/initramfs.hpp"
#include "bpfplug/matrix/ldd.hpp"
#include "test_files.hpp"

namespace fs = std::filesystem;

namespace bpfplug::matrix {
namespace {

class MatrixInitramfs : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v cpio >/dev/null && command -v zstd >/dev/null") != 0)
      GTEST_SKIP() << "needs cpio and zstd (apt-get install cpio zstd)";

    // A kernel directory as matrix/fetch-kernels.sh leaves it.
    kernel_ = dir_ / "kernel";
    fs::path mods = kernel_ / "lib/modules/6.1.0-test";
    fs::create_directories(mods / "kernel/net");
    std::ofstream(kernel_ / "release") << "6.1.0-test\n";
    std::ofstream(mods / "kernel/net/base.ko") << "base module";
    std::ofstream(mods / "kernel/net/top.raw") << "top module";
    ASSERT_EQ(std::system(("zstd -q '" + (mods / "kernel/net/top.raw").string() + "' -o '" +
                           (mods / "kernel/net/top.ko.zst").string() + "'").c_str()), 0);
    std::ofstream(mods / "modules.dep") << "kernel/net/top.ko.zst: kernel/net/base.ko\nkernel/net/base.ko:\n";
    std::ofstream(mods / "modules.builtin") << "kernel/net/sch_tbf.ko\n";

    // busybox stand-in: only --list is asked of it on the host.
    busybox_ = dir_ / "busybox";
    std::ofstream(busybox_) << "#!/bin/sh\necho sh; echo mount; echo env; echo insmod\n";
    fs::permissions(busybox_, fs::perms::owner_all);
  }
  static std::string read(const fs::path& p) { return test::read_file(p); }

  test::TempDir tmp_;
  fs::path dir_ = tmp_.path();
  fs::path kernel_, busybox_;
};

TEST_F(MatrixInitramfs, HoldsEverythingTheGuestRunNeeds) {
  fs::path payload = dir_ / "build/bpfplug";
  fs::create_directories(payload.parent_path());
  std::ofstream(payload) << "not an ELF";

  InitramfsSpec spec;
  spec.files = {payload, "/bin/true"};
  spec.tools = {"/usr/bin/env"};  // stands for ip/tc: the real one, not the applet
  spec.busybox = busybox_;
  spec.kernel_dir = kernel_;
  spec.modules = {"top", "sch_tbf", "sch_netem"};
  spec.init.cli = payload.string();
  spec.init.command = {"/bin/true"};

  fs::path archive = dir_ / "initramfs.cpio";
  InitramfsReport report = build_initramfs(spec, dir_ / "work", archive);
  EXPECT_EQ(report.release, "6.1.0-test");
  ASSERT_EQ(report.modules.size(), 3u);
  EXPECT_EQ(report.modules[0].state, WantedModule::State::load);
  EXPECT_EQ(report.modules[1].state, WantedModule::State::builtin);
  EXPECT_EQ(report.modules[2].state, WantedModule::State::missing);

  fs::path out = dir_ / "out";
  fs::create_directories(out);
  ASSERT_EQ(std::system(("cd '" + out.string() + "' && cpio -idm --quiet --nonmatching 'dev/*' < '" + archive.string() + "'").c_str()), 0)
      << "device nodes are left out: creating them needs root";

  EXPECT_EQ(read(out / payload.relative_path()), "not an ELF") << "same absolute path as on the host";
  EXPECT_TRUE(fs::exists(out / "bin/true"));
  for (const auto& lib : shared_libraries_of("/bin/true").paths)
    EXPECT_TRUE(fs::exists(out / fs::path(lib).relative_path())) << lib;
  EXPECT_TRUE(fs::is_regular_file(out / "bin/busybox"));
  EXPECT_EQ(fs::read_symlink(out / "bin/sh"), "busybox");
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(out / "usr/bin/env")));
  EXPECT_FALSE(fs::exists(fs::symlink_status(out / "bin/env"))) << "no applet where a real tool is installed";
  EXPECT_EQ(fs::read_symlink(out / "bin/mount"), "busybox");
  EXPECT_EQ(fs::read_symlink(out / "var/run"), "../run");

  fs::path mods = out / "lib/modules/6.1.0-test/kernel/net";
  EXPECT_EQ(read(mods / "top.ko"), "top module") << "decompressed on the host";
  EXPECT_EQ(read(mods / "base.ko"), "base module");

  std::string init = read(out / "init");
  auto base = init.find("insmod '/lib/modules/6.1.0-test/kernel/net/base.ko'");
  auto top = init.find("insmod '/lib/modules/6.1.0-test/kernel/net/top.ko'");
  ASSERT_NE(base, std::string::npos) << init;
  ASSERT_NE(top, std::string::npos) << init;
  EXPECT_LT(base, top);
  EXPECT_NE(init.find("@@BPFPLUG:module:sch_tbf:builtin@@"), std::string::npos);
  EXPECT_NE(init.find("@@BPFPLUG:module:sch_netem:missing@@"), std::string::npos);
}

TEST_F(MatrixInitramfs, AMissingFileIsAnError) {
  InitramfsSpec spec;
  spec.files = {dir_ / "build/nothing-here"};
  spec.busybox = busybox_;
  spec.kernel_dir = kernel_;
  EXPECT_THROW(build_initramfs(spec, dir_ / "work", dir_ / "x.cpio"), MatrixError);
}

TEST_F(MatrixInitramfs, AKernelDirectoryWithoutReleaseIsAnError) {
  InitramfsSpec spec;
  spec.busybox = busybox_;
  spec.kernel_dir = dir_ / "nothing";
  EXPECT_THROW(build_initramfs(spec, dir_ / "work", dir_ / "x.cpio"), MatrixError);
}

}  // namespace
}  // namespace bpfplug::matrix
