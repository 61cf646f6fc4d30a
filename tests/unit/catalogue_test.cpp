// The built-in catalogue, describing objects, and "did you mean" for mistyped names.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "bpfplug/catalogue.hpp"
#include "bpfplug/error.hpp"
#include "test_objects.hpp"

namespace bpfplug {
namespace {

using ::testing::HasSubstr;

const std::vector<std::string> kPlugins = {"reno", "dctcp", "cubic"};

TEST(ClosestName, CorrectsTypos) {
  EXPECT_EQ(closest_name("rneo", kPlugins), "reno");
  EXPECT_EQ(closest_name("dctpc", kPlugins), "dctcp");
  EXPECT_EQ(closest_name("cubc", kPlugins), "cubic");
  EXPECT_EQ(closest_name("shift-g", {"shift_g", "alpha_on_init"}), "shift_g");
}

TEST(ClosestName, RegisteredNameMapsToPlugin) {
  EXPECT_EQ(closest_name("bpf_dctcp", kPlugins), "dctcp");
  EXPECT_EQ(closest_name("bpf_cubic", kPlugins), "cubic");
}

TEST(ClosestName, NothingCloseGivesEmpty) {
  EXPECT_EQ(closest_name("bbr", kPlugins), "");
  EXPECT_EQ(closest_name("vegas", kPlugins), "");
  EXPECT_EQ(closest_name("reno", {}), "");
}

TEST(ClosestName, ExactMatchIsItself) { EXPECT_EQ(closest_name("cubic", kPlugins), "cubic"); }

TEST(Catalogue, BuiltinCarriesReno) {
  auto catalogue = Catalogue::builtin();
  const auto* reno = catalogue.find("reno");
  ASSERT_NE(reno, nullptr);
  EXPECT_EQ(reno->meta.name, "reno");
  EXPECT_EQ(reno->meta.kind, "cc");
  EXPECT_EQ(reno->ops_name, "bpf_reno");
  EXPECT_FALSE(reno->elf.empty());
}

TEST(Catalogue, BuiltinOptionalPluginsRegisterAsBpfNames) {
  auto catalogue = Catalogue::builtin();
  if (const auto* dctcp = catalogue.find("dctcp")) {
    EXPECT_EQ(dctcp->ops_name, "bpf_dctcp");
    ASSERT_NE(dctcp->meta.find_tunable("shift_g"), nullptr);
    EXPECT_EQ(dctcp->meta.find_tunable("shift_g")->default_value, 4);
  }
  if (const auto* cubic = catalogue.find("cubic")) {
    EXPECT_EQ(cubic->ops_name, "bpf_cubic");
    EXPECT_NE(cubic->meta.find_tunable("beta"), nullptr);
  }
}

TEST(Catalogue, BuiltinHasOneEntryPerEmbeddedObjectSortedByName) {
  auto catalogue = Catalogue::builtin();
  EXPECT_EQ(catalogue.entries().size(), embedded_objects().size());
  EXPECT_TRUE(std::is_sorted(catalogue.entries().begin(), catalogue.entries().end(),
                             [](const auto& a, const auto& b) { return a.meta.name < b.meta.name; }));
}

TEST(Catalogue, FindUnknownIsNull) { EXPECT_EQ(Catalogue::builtin().find("rneo"), nullptr); }

TEST(Catalogue, GetTypoIsUsageErrorWithSuggestion) {
  auto catalogue = Catalogue::builtin();
  try {
    catalogue.get("rneo");
    FAIL() << "expected bpfplug::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_STREQ(e.what(), "unknown plugin 'rneo'");
    EXPECT_THAT(e.hint(), HasSubstr("did you mean 'reno'"));
  }
}

TEST(Catalogue, GetFarOffNameHintsAtList) {
  auto catalogue = Catalogue::builtin();
  try {
    catalogue.get("westwood");
    FAIL() << "expected bpfplug::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_THAT(e.hint(), ::testing::Not(HasSubstr("did you mean")));
    EXPECT_THAT(e.hint(), HasSubstr("bpfplug list"));
  }
}

TEST(Catalogue, GetKnownReturnsEntry) { EXPECT_EQ(Catalogue::builtin().get("reno").ops_name, "bpf_reno"); }

TEST(Catalogue, DescribeClashCubic) {
  auto entry = Catalogue::describe(test::clash_cubic_elf());
  EXPECT_EQ(entry.meta.name, "clash-cubic");
  EXPECT_EQ(entry.ops_name, "cubic");
  EXPECT_EQ(entry.elf.data(), test::clash_cubic_elf().data());
  EXPECT_EQ(entry.elf.size(), test::clash_cubic_elf().size());
}

TEST(Catalogue, DescribeNonElfIsUsageError) {
  std::string junk = "\x7f" "ELX not really";
  try {
    Catalogue::describe(std::as_bytes(std::span(junk)));
    FAIL() << "expected bpfplug::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::usage);
  }
}

TEST(Catalogue, ConstructorSortsEntries) {
  auto clash = Catalogue::describe(test::clash_cubic_elf());
  auto builtin = Catalogue::builtin();
  std::vector<CatalogueEntry> entries = {*builtin.find("reno"), clash};
  Catalogue catalogue(entries);
  ASSERT_EQ(catalogue.entries().size(), 2u);
  EXPECT_EQ(catalogue.entries()[0].meta.name, "clash-cubic");
  EXPECT_EQ(catalogue.entries()[1].meta.name, "reno");
  EXPECT_EQ(catalogue.get("clash-cubic").ops_name, "cubic");
}

}  // namespace
}  // namespace bpfplug
