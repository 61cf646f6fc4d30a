// Sysctl and the congestion-control knobs, rooted in a temporary directory.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bpfplug/error.hpp"
#include "bpfplug/sysctl.hpp"
#include "fake_host.hpp"

namespace bpfplug {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using test::read_file;
using test::write_file;

class SysctlTest : public ::testing::Test {
 protected:
  SysctlTest() {
    write_file(file("tcp_available_congestion_control"), "reno bbr cubic\n");
    write_file(file("tcp_allowed_congestion_control"), "reno bbr\n");
    write_file(file("tcp_congestion_control"), "bbr\n");
  }
  std::filesystem::path file(const std::string& knob) const { return dir_.path() / "net/ipv4" / knob; }

  test::TempDir dir_;
  Sysctl sysctl_{dir_.path()};
  CongestionControlSysctl cc_{sysctl_};
};

TEST_F(SysctlTest, PathOfMapsDotsToSlashes) {
  EXPECT_EQ(sysctl_.path_of("net.ipv4.tcp_congestion_control"), file("tcp_congestion_control"));
  EXPECT_EQ(Sysctl().path_of("net.core.somaxconn"), std::filesystem::path("/proc/sys/net/core/somaxconn"));
}

TEST_F(SysctlTest, ReadTrimsTrailingNewline) {
  EXPECT_EQ(sysctl_.read("net.ipv4.tcp_congestion_control"), "bbr");
  write_file(file("tcp_congestion_control"), "cubic \n\n");
  EXPECT_EQ(sysctl_.read("net.ipv4.tcp_congestion_control"), "cubic");
}

TEST_F(SysctlTest, WriteReplacesValueWithNewline) {
  sysctl_.write("net.ipv4.tcp_congestion_control", "reno");
  EXPECT_EQ(read_file(file("tcp_congestion_control")), "reno\n");
  EXPECT_EQ(sysctl_.read("net.ipv4.tcp_congestion_control"), "reno");
}

TEST_F(SysctlTest, ReadingMissingKeyIsFailure) {
  try {
    sysctl_.read("net.ipv4.no_such_knob");
    FAIL() << "expected bpfplug::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::failure);
    EXPECT_THAT(e.what(), HasSubstr("net.ipv4.no_such_knob"));
  }
}

TEST_F(SysctlTest, WritingIntoMissingDirectoryIsFailure) {
  try {
    sysctl_.write("net.ipv9.tcp_congestion_control", "reno");
    FAIL() << "expected bpfplug::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::failure);
    EXPECT_THAT(e.what(), HasSubstr("net.ipv9.tcp_congestion_control=reno"));
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "net/ipv9"));
}

TEST_F(SysctlTest, AvailableAllowedAndDefault) {
  EXPECT_THAT(cc_.available(), ElementsAre("reno", "bbr", "cubic"));
  EXPECT_THAT(cc_.allowed(), ElementsAre("reno", "bbr"));
  EXPECT_EQ(cc_.current_default(), "bbr");
  EXPECT_TRUE(cc_.is_available("cubic"));
  EXPECT_FALSE(cc_.is_available("bpf_reno"));
  EXPECT_FALSE(cc_.is_available("cub"));
}

TEST_F(SysctlTest, SetDefaultWritesTheKnob) {
  cc_.set_default("cubic");
  EXPECT_EQ(read_file(file("tcp_congestion_control")), "cubic\n");
  EXPECT_EQ(cc_.current_default(), "cubic");
}

TEST_F(SysctlTest, AllowAppendsOnce) {
  cc_.allow("bpf_dctcp");
  EXPECT_EQ(read_file(file("tcp_allowed_congestion_control")), "reno bbr bpf_dctcp\n");
  cc_.allow("bpf_dctcp");
  EXPECT_EQ(read_file(file("tcp_allowed_congestion_control")), "reno bbr bpf_dctcp\n");
  EXPECT_THAT(cc_.allowed(), ElementsAre("reno", "bbr", "bpf_dctcp"));
}

TEST_F(SysctlTest, AllowOfAllowedNameDoesNotWrite) {
  write_file(file("tcp_allowed_congestion_control"), "reno  bbr\n");
  cc_.allow("bbr");
  EXPECT_EQ(read_file(file("tcp_allowed_congestion_control")), "reno  bbr\n");
}

TEST_F(SysctlTest, AllowIntoEmptyList) {
  write_file(file("tcp_allowed_congestion_control"), "\n");
  cc_.allow("bpf_reno");
  EXPECT_EQ(read_file(file("tcp_allowed_congestion_control")), "bpf_reno\n");
}

TEST(SplitWords, SplitsOnAnyWhitespace) {
  EXPECT_THAT(split_words("  reno\tbbr \n cubic\n"), ElementsAre("reno", "bbr", "cubic"));
  EXPECT_TRUE(split_words(" \n").empty());
}

}  // namespace
}  // namespace bpfplug
