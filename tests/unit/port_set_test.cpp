// PortSet: the `--set ports=...` syntax of compression policies and its bitmap.
#include <gtest/gtest.h>

#include "bpfplug/error.hpp"
#include "bpfplug/port_set.hpp"

namespace bpfplug {
namespace {

TEST(PortSet, ParsesPortsAndRangesAndWritesThemBackMerged) {
  auto set = PortSet::parse("8080,9000-9100,1,65535,8081", "--set ports");
  EXPECT_TRUE(set.contains(8080));
  EXPECT_TRUE(set.contains(8081));
  EXPECT_TRUE(set.contains(9000));
  EXPECT_TRUE(set.contains(9050));
  EXPECT_TRUE(set.contains(9100));
  EXPECT_FALSE(set.contains(9101));
  EXPECT_FALSE(set.contains(8999));
  EXPECT_TRUE(set.contains(1));
  EXPECT_TRUE(set.contains(65535));
  EXPECT_EQ(set.size(), 2u + 101u + 2u);
  EXPECT_EQ(set.to_string(), "1,8080-8081,9000-9100,65535");
  // The bitmap the BPF side tests: bit p % 64 of word p / 64.
  EXPECT_EQ(set.words()[8080 / 64] >> (8080 % 64) & 1, 1u);
  EXPECT_EQ(PortSet::from_words(set.words()).to_string(), set.to_string());
}

TEST(PortSet, EmptyTextIsTheEmptySet) {
  auto set = PortSet::parse("", "--set ports");
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.to_string(), "");
}

TEST(PortSet, RefusesWhatIsNotAPortList) {
  for (const char* bad : {"0", "65536", "-1", "80,", ",80", "80,,81", "http", "0x50", "9000-8000", "1-2-3", "80 ", "80-"}) {
    try {
      PortSet::parse(bad, "--set ports");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Exit::usage) << bad;
      EXPECT_NE(std::string(e.what()).find("--set ports"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace bpfplug
