// The newc cpio writer, checked by extracting its archives with GNU cpio.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "bpfplug/matrix/cpio.hpp"
#include "bpfplug/matrix/error.hpp"
#include "test_files.hpp"

namespace fs = std::filesystem;

namespace bpfplug::matrix {
namespace {

class MatrixCpio : public ::testing::Test {
 protected:
  // Extracts `archive` with `cpio -idm` into dir_/out; false when cpio is not installed.
  bool extract(const fs::path& archive) {
    if (std::system("command -v cpio >/dev/null") != 0) return false;
    fs::create_directories(dir_ / "out");
    std::string cmd = "cd '" + (dir_ / "out").string() + "' && cpio -idm --quiet < '" + archive.string() + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return true;
  }

  static std::string read(const fs::path& p) { return test::read_file(p); }

  test::TempDir tmp_;
  fs::path dir_ = tmp_.path();
};

TEST_F(MatrixCpio, ArchiveExtractsToTheSameTree) {
  fs::path source = dir_ / "source.bin";
  std::string bytes;
  for (int i = 0; i < 70001; ++i) bytes += static_cast<char>(i * 7);  // not a multiple of 4
  std::ofstream(source, std::ios::binary) << bytes;
  fs::permissions(source, fs::perms::owner_all | fs::perms::group_read);

  ArchiveLayout layout;
  layout.add_file("/usr/sbin/tool", source);
  layout.add_text("/init", "#!/bin/sh\necho hi\n", 0755);
  layout.add_symlink("/bin/sh", "busybox");
  layout.add_directory("/proc");
  fs::path archive = dir_ / "a.cpio";
  write_cpio(layout, archive);

  if (!extract(archive)) GTEST_SKIP() << "cpio is not installed (apt-get install cpio)";
  fs::path out = dir_ / "out";
  EXPECT_EQ(read(out / "usr/sbin/tool"), bytes);
  EXPECT_EQ(fs::status(out / "usr/sbin/tool").permissions(), fs::perms::owner_all | fs::perms::group_read);
  EXPECT_EQ(read(out / "init"), "#!/bin/sh\necho hi\n");
  EXPECT_TRUE((fs::status(out / "init").permissions() & fs::perms::owner_exec) != fs::perms::none);
  EXPECT_TRUE(fs::is_symlink(out / "bin/sh"));
  EXPECT_EQ(fs::read_symlink(out / "bin/sh"), "busybox");
  EXPECT_TRUE(fs::is_directory(out / "proc"));
}

TEST_F(MatrixCpio, HeadersAreNewcWithParentsFirstAndATrailer) {
  ArchiveLayout layout;
  layout.add_char_device("/dev/console", 5, 1, 0600);
  std::ostringstream out;
  write_cpio(layout, out);
  std::string a = out.str();
  EXPECT_EQ(a.size() % 4, 0u);
  // dev (directory) first, then dev/console, then the trailer.
  EXPECT_EQ(a.substr(0, 6), "070701");
  EXPECT_EQ(a.substr(6 + 8, 8), "000041ED");  // S_IFDIR | 0755
  EXPECT_EQ(a.substr(110, 4), std::string("dev\0", 4));
  auto console = a.find("dev/console");
  ASSERT_NE(console, std::string::npos);
  std::string header = a.substr(console - 110, 110);
  EXPECT_EQ(header.substr(6 + 8, 8), "00002180");   // S_IFCHR | 0600
  EXPECT_EQ(header.substr(6 + 8 * 9, 8), "00000005");  // rdevmajor
  EXPECT_EQ(header.substr(6 + 8 * 10, 8), "00000001"); // rdevminor
  EXPECT_NE(a.find(std::string("TRAILER!!!\0", 11)), std::string::npos);
}

TEST_F(MatrixCpio, RefusesWhatIsNotARegularFile) {
  ArchiveLayout layout;
  EXPECT_THROW(layout.add_file("/x", dir_ / "nonexistent"), MatrixError);
  EXPECT_THROW(layout.add_text("relative", "", 0644), MatrixError);
}

}  // namespace
}  // namespace bpfplug::matrix
