// The ldd parser of the matrix runner's initramfs builder, on captured ldd outputs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bpfplug/matrix/ldd.hpp"

namespace bpfplug::matrix {
namespace {

using ::testing::ElementsAre;

TEST(MatrixLdd, KeepsLibrariesAndTheInterpreterAndDropsTheVdso) {
  auto libs = parse_ldd(
      "\tlinux-vdso.so.1 (0x00007ffc8a5f2000)\n"
      "\tlibbpf.so.1 => /lib/x86_64-linux-gnu/libbpf.so.1 (0x00007f1c3a0b1000)\n"
      "\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f1c39e00000)\n"
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f1c39c1f000)\n"
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007f1c3a13c000)\n");
  EXPECT_THAT(libs.paths, ElementsAre("/lib/x86_64-linux-gnu/libbpf.so.1", "/lib/x86_64-linux-gnu/libstdc++.so.6",
                                      "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"));
  EXPECT_TRUE(libs.not_found.empty());
  EXPECT_FALSE(libs.is_static);
}

TEST(MatrixLdd, ReportsWhatIsNotFound) {
  auto libs = parse_ldd(
      "\tlinux-vdso.so.1 (0x00007ffc8a5f2000)\n"
      "\tlibmnl.so.0 => not found\n"
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f1c39c1f000)\n");
  EXPECT_THAT(libs.not_found, ElementsAre("libmnl.so.0"));
  EXPECT_THAT(libs.paths, ElementsAre("/lib/x86_64-linux-gnu/libc.so.6"));
}

TEST(MatrixLdd, StaticBinariesNeedNothing) {
  EXPECT_TRUE(parse_ldd("\tnot a dynamic executable\n").is_static);
  auto libs = parse_ldd("\tstatically linked\n");
  EXPECT_TRUE(libs.is_static);
  EXPECT_TRUE(libs.paths.empty());
}

TEST(MatrixLdd, KernelProvidedObjectsWithAnEmptyTargetAreLeftOut) {
  // Older glibc: "linux-vdso.so.1 =>  (0x...)".
  auto libs = parse_ldd("\tlinux-vdso.so.1 =>  (0x00007ffd5a1e4000)\n\tlibm.so.6 => /lib/libm.so.6 (0x1)\n");
  EXPECT_THAT(libs.paths, ElementsAre("/lib/libm.so.6"));
}

TEST(MatrixLdd, TheHostsOwnLddResolvesTrue) {
  auto libs = shared_libraries_of("/bin/true");
  ASSERT_FALSE(libs.paths.empty());
  for (const auto& p : libs.paths) EXPECT_EQ(p.front(), '/') << p;
}

}  // namespace
}  // namespace bpfplug::matrix
