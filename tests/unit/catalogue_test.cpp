// The built-in catalogue, describing objects, and "did you mean" for mistyped names.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bpf/libbpf.h>

#include <algorithm>
#include <stdexcept>
#include <tuple>

#include "bpfplug/bpf_object_view.hpp"
#include "bpfplug/catalogue.hpp"
#include "bpfplug/error.hpp"
#include "test_objects.hpp"
#include "error_of.hpp"

namespace bpfplug {
namespace {

using test::error_of;

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

// (plugin name, default variant first, variant name): the order entries() promises.
std::tuple<std::string, bool, std::string> sort_key(const CatalogueEntry& e) {
  return {e.meta.name, e.meta.variant != "default", e.meta.variant};
}

TEST(Catalogue, BuiltinHasOneEntryPerEmbeddedObjectSortedByNameThenVariant) {
  auto catalogue = Catalogue::builtin();
  EXPECT_EQ(catalogue.entries().size(), embedded_objects().size());
  EXPECT_TRUE(std::is_sorted(catalogue.entries().begin(), catalogue.entries().end(),
                             [](const auto& a, const auto& b) { return sort_key(a) < sort_key(b); }));
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

// ---- variants: the built-in dctcp has "alpha0" (cc_algos/CMakeLists.txt) ----

// The variant as the build made it; each test copies what it needs.
CatalogueEntry builtin_entry(std::string_view name, std::string_view variant) {
  auto catalogue = Catalogue::builtin();
  const auto* e = catalogue.find(name, variant);
  if (!e) throw std::runtime_error("the build carries no " + std::string(name) + "/" + std::string(variant));
  return *e;
}

std::vector<std::string> variant_names(const std::vector<const CatalogueEntry*>& entries) {
  std::vector<std::string> names;
  for (const auto* e : entries) names.push_back(e->meta.variant);
  return names;
}


// The initial value of a .rodata variable: what the kernel gets unless --set overrides it.
std::int64_t rodata_default(const CatalogueEntry& entry, std::string_view var) {
  auto obj = open_object(entry.elf, entry.meta.name);
  bpf_map* map;
  bpf_object__for_each_map(map, obj.get()) {
    if (!bpf_map__is_internal(map) || !std::string_view(bpf_map__name(map)).ends_with(".rodata")) continue;
    std::size_t size = 0;
    const auto* image = static_cast<const std::byte*>(bpf_map__initial_value(map, &size));
    for (const auto& v : datasec_vars(bpf_object__btf(obj.get()), ".rodata"))
      if (v.name == var) return read_var({image, size}, v);
  }
  throw std::runtime_error("no .rodata variable " + std::string(var));
}

TEST(CatalogueVariants, FindByNameIsTheDefaultVariant) {
  auto catalogue = Catalogue::builtin();
  const auto* dctcp = catalogue.find("dctcp");
  ASSERT_NE(dctcp, nullptr);
  EXPECT_EQ(dctcp->meta.variant, "default");
  EXPECT_EQ(dctcp->meta.find_tunable("alpha_on_init")->default_value, 1024);
  EXPECT_EQ(&catalogue.get("dctcp"), dctcp);
  EXPECT_EQ(catalogue.find("dctcp", ""), dctcp);
  EXPECT_EQ(catalogue.find("dctcp", "default"), dctcp);
  EXPECT_EQ(&catalogue.get("dctcp", ""), dctcp);
  EXPECT_EQ(&catalogue.get("dctcp", "default"), dctcp);
}

TEST(CatalogueVariants, FindAndGetAVariant) {
  auto catalogue = Catalogue::builtin();
  const auto* alpha0 = catalogue.find("dctcp", "alpha0");
  ASSERT_NE(alpha0, nullptr);
  EXPECT_EQ(&catalogue.get("dctcp", "alpha0"), alpha0);
  EXPECT_EQ(alpha0->meta.name, "dctcp");
  EXPECT_EQ(alpha0->meta.variant, "alpha0");
  EXPECT_FALSE(alpha0->meta.variant_description.empty());
  EXPECT_EQ(alpha0->ops_name, "bpf_dctcp");
  EXPECT_EQ(alpha0->meta.version, catalogue.get("dctcp").meta.version);
  EXPECT_NE(alpha0->elf.data(), catalogue.get("dctcp").elf.data());
  EXPECT_EQ(alpha0->meta.find_tunable("alpha_on_init")->default_value, 0);
  EXPECT_EQ(catalogue.find("dctcp", "alpha1"), nullptr);
  EXPECT_EQ(catalogue.find("reno", "alpha0"), nullptr);
  EXPECT_EQ(catalogue.find("nosuch", "alpha0"), nullptr);
}

TEST(CatalogueVariants, ObjectDefaultsMatchTheirRecords) {
  auto catalogue = Catalogue::builtin();
  EXPECT_EQ(rodata_default(catalogue.get("dctcp"), "alpha_on_init"), 1024);
  EXPECT_EQ(rodata_default(catalogue.get("dctcp", "alpha0"), "alpha_on_init"), 0);
  EXPECT_EQ(rodata_default(catalogue.get("dctcp", "alpha0"), "shift_g"), 4);
}

TEST(CatalogueVariants, VariantsListsDefaultFirst) {
  auto catalogue = Catalogue::builtin();
  EXPECT_EQ(variant_names(catalogue.variants("dctcp")), (std::vector<std::string>{"default", "alpha0"}));
  EXPECT_EQ(variant_names(catalogue.variants("reno")), (std::vector<std::string>{"default"}));
  EXPECT_TRUE(catalogue.variants("nosuch").empty());
  EXPECT_TRUE(catalogue.variants("").empty());
}

TEST(CatalogueVariants, GetUnknownVariantSuggestsClosestAndListsAll) {
  auto e = error_of([] { Catalogue::builtin().get("dctcp", "alpha1"); });
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_STREQ(e.what(), "plugin dctcp has no variant 'alpha1'");
  EXPECT_THAT(e.hint(), HasSubstr("did you mean 'alpha0'?"));
  EXPECT_THAT(e.hint(), HasSubstr("variants of dctcp: default, alpha0"));
}

TEST(CatalogueVariants, GetFarOffVariantListsAll) {
  auto e = error_of([] { Catalogue::builtin().get("reno", "alpha0"); });
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_STREQ(e.what(), "plugin reno has no variant 'alpha0'");
  EXPECT_THAT(e.hint(), ::testing::Not(HasSubstr("did you mean")));
  EXPECT_EQ(e.hint(), "variants of reno: default");
}

TEST(CatalogueVariants, GetVariantOfUnknownPluginIsUnknownPlugin) {
  auto e = error_of([] { Catalogue::builtin().get("dctpc", "alpha0"); });
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_STREQ(e.what(), "unknown plugin 'dctpc'");
  EXPECT_THAT(e.hint(), HasSubstr("did you mean 'dctcp'"));
}

TEST(CatalogueVariants, ConstructorSortsDefaultFirstThenByVariant) {
  auto alpha0 = builtin_entry("dctcp", "alpha0");
  auto aaa = alpha0;
  aaa.meta.variant = "aaa";
  Catalogue catalogue({alpha0, builtin_entry("reno", ""), aaa, builtin_entry("dctcp", "")});
  std::vector<std::pair<std::string, std::string>> order;
  for (const auto& e : catalogue.entries()) order.emplace_back(e.meta.name, e.meta.variant);
  EXPECT_EQ(order, (std::vector<std::pair<std::string, std::string>>{
                       {"dctcp", "default"}, {"dctcp", "aaa"}, {"dctcp", "alpha0"}, {"reno", "default"}}));
  EXPECT_EQ(catalogue.get("dctcp").meta.variant, "default");
  EXPECT_EQ(variant_names(catalogue.variants("dctcp")), (std::vector<std::string>{"default", "aaa", "alpha0"}));
}

TEST(CatalogueVariants, SamePluginAndVariantTwiceIsRejected) {
  auto dctcp = builtin_entry("dctcp", "");
  auto alpha0 = builtin_entry("dctcp", "alpha0");
  auto twice_default = error_of([&] { Catalogue({dctcp, alpha0, dctcp}); });
  EXPECT_EQ(twice_default.code(), Exit::usage);
  EXPECT_STREQ(twice_default.what(), "two objects are plugin dctcp, variant 'default'");
  EXPECT_THAT(twice_default.hint(), HasSubstr("BPFPLUG_VARIANT"));
  auto twice_variant = error_of([&] { Catalogue({alpha0, dctcp, alpha0}); });
  EXPECT_STREQ(twice_variant.what(), "two objects are plugin dctcp, variant 'alpha0'");
}

TEST(CatalogueVariants, VariantWithoutDefaultIsRejected) {
  auto alpha0 = builtin_entry("dctcp", "alpha0");
  auto e = error_of([&] { Catalogue({alpha0, builtin_entry("reno", "")}); });
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_STREQ(e.what(), "plugin dctcp has variant 'alpha0' but no default variant");
  EXPECT_THAT(e.hint(), HasSubstr("bpfplug_add_plugin(dctcp)"));
  // Another plugin's default sorting just before it does not count.
  auto cubic = builtin_entry("cubic", "");
  EXPECT_STREQ(error_of([&] { Catalogue({cubic, alpha0}); }).what(),
               "plugin dctcp has variant 'alpha0' but no default variant");
}

TEST(CatalogueVariants, VariantRegisteringAnotherKernelNameIsRejected) {
  auto other = builtin_entry("dctcp", "alpha0");
  other.ops_name = "bpf_dctcp0";
  auto e = error_of([&] { Catalogue({builtin_entry("dctcp", ""), other}); });
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_STREQ(e.what(), "variant 'alpha0' of plugin dctcp registers as bpf_dctcp0, its default variant as bpf_dctcp");
  EXPECT_THAT(e.hint(), HasSubstr("same kernel name"));
}

}  // namespace
}  // namespace bpfplug
