// The ".bpfplug.meta" records (struct_ops/bpfplug_meta.h) and the ELF reading around them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "bpfplug/catalogue.hpp"
#include "bpfplug/error.hpp"
#include "bpfplug/plugin_metadata.hpp"
#include "test_objects.hpp"
#include "error_of.hpp"

namespace bpfplug {
namespace {

using test::error_of;

using ::testing::HasSubstr;
using namespace std::string_literals;

// Records as the macros emit them: each NUL-terminated.
std::string records(const std::vector<std::string>& list) {
  std::string section;
  for (const auto& r : list) section += r + '\0';
  return section;
}

const std::string kPlugin = "plugin|dctcp|cc|0.1.0|Data Center TCP";


Error parse_error(const std::vector<std::string>& list) {
  return error_of([&] { parse_metadata_records(records(list)); });
}

TEST(ParseMetadata, PluginRecordFillsNameKindVersionDescription) {
  auto meta = parse_metadata_records(records({kPlugin}));
  EXPECT_EQ(meta.name, "dctcp");
  EXPECT_EQ(meta.kind, "cc");
  EXPECT_EQ(meta.version, "0.1.0");
  EXPECT_EQ(meta.description, "Data Center TCP");
  EXPECT_TRUE(meta.tunables.empty());
  EXPECT_TRUE(meta.counters.empty());
}

TEST(ParseMetadata, RequirementsNameAFeatureAndWhy) {
  auto meta = parse_metadata_records(records({kPlugin, "requires|cc_setsockopt|to fall back | to reno"}));
  ASSERT_EQ(meta.requirements.size(), 1u);
  EXPECT_EQ(meta.requirements[0].feature, "cc_setsockopt");
  EXPECT_EQ(meta.requirements[0].why, "to fall back | to reno");
  EXPECT_EQ(error_of([&] { parse_metadata_records(records({kPlugin, "requires||why"})); }).code(), Exit::usage);
}

TEST(ParseMetadata, DctcpRequiresSetsockoptFromBpfCongestionControl) {
  Catalogue catalogue = Catalogue::builtin();
  const auto& meta = catalogue.get("dctcp").meta;
  ASSERT_EQ(meta.requirements.size(), 1u);
  EXPECT_EQ(meta.requirements[0].feature, "cc_setsockopt");
  EXPECT_TRUE(catalogue.get("reno").meta.requirements.empty());
}

TEST(ParseMetadata, PolicyKindIsAccepted) {
  EXPECT_EQ(parse_metadata_records(records({"plugin|zstd-opt|policy|1|compress"})).kind, "policy");
}

TEST(ParseMetadata, DescriptionKeepsBars) {
  auto meta = parse_metadata_records(records({"plugin|x|cc|1|a|b||c", "counter|n|hits | misses"}));
  EXPECT_EQ(meta.description, "a|b||c");
  EXPECT_EQ(meta.counters.at(0).description, "hits | misses");
}

TEST(ParseMetadata, TunableRecord) {
  auto meta = parse_metadata_records(records({kPlugin, "tunable|shift_g|__u32|4|0|10|gain 1/2^g"}));
  ASSERT_EQ(meta.tunables.size(), 1u);
  const auto& t = meta.tunables[0];
  EXPECT_EQ(t.name, "shift_g");
  EXPECT_EQ(t.type, "__u32");
  EXPECT_EQ(t.default_value, 4);
  EXPECT_EQ(t.min, 0);
  EXPECT_EQ(t.max, 10);
  EXPECT_EQ(t.description, "gain 1/2^g");
  EXPECT_EQ(meta.find_tunable("shift_g"), &t);
  EXPECT_EQ(meta.find_tunable("shift-g"), nullptr);
}

TEST(ParseMetadata, TunableAcceptsHexAndNegativeBounds) {
  auto meta = parse_metadata_records(records({kPlugin, "tunable|off|__s32|-1|-0x10|0x10|offset"}));
  EXPECT_EQ(meta.tunables.at(0).default_value, -1);
  EXPECT_EQ(meta.tunables.at(0).min, -16);
  EXPECT_EQ(meta.tunables.at(0).max, 16);
}

TEST(ParseMetadata, CountersAndGaugesKeepOrder) {
  auto meta = parse_metadata_records(
      records({kPlugin, "counter|stat_undos|undone", "gauge|bpfplug_sockets|sockets in use"}));
  ASSERT_EQ(meta.counters.size(), 2u);
  EXPECT_EQ(meta.counters[0].name, "stat_undos");
  EXPECT_EQ(meta.counters[0].description, "undone");
  EXPECT_FALSE(meta.counters[0].gauge);
  EXPECT_EQ(meta.counters[1].name, "bpfplug_sockets");
  EXPECT_TRUE(meta.counters[1].gauge);
}

TEST(ParseMetadata, RecordsMayFollowThePluginRecordInAnyOrder) {
  auto meta = parse_metadata_records(records({"counter|c|d", kPlugin, "tunable|t|__u32|1|0|1|d"}));
  EXPECT_EQ(meta.name, "dctcp");
  EXPECT_EQ(meta.counters.size(), 1u);
  EXPECT_EQ(meta.tunables.size(), 1u);
}

TEST(ParseMetadata, NulPaddingBetweenRecordsIsSkipped) {
  std::string section = "\0\0"s + kPlugin + "\0\0\0\0"s + "counter|c|d" + "\0\0\0"s;
  auto meta = parse_metadata_records(section);
  EXPECT_EQ(meta.name, "dctcp");
  EXPECT_EQ(meta.counters.size(), 1u);
}

TEST(ParseMetadata, LastRecordWithoutNulIsParsed) {
  auto meta = parse_metadata_records(kPlugin + "\0"s + "counter|c|d");
  EXPECT_EQ(meta.counters.size(), 1u);
}

TEST(ParseMetadata, UnknownRecordTypeIsUsageError) {
  auto e = parse_error({kPlugin, "knob|x|1"});
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_THAT(e.what(), HasSubstr("unknown record type"));
  EXPECT_THAT(e.what(), HasSubstr("knob|x|1"));
  EXPECT_THAT(e.hint(), HasSubstr("bpfplug_meta.h"));
}

TEST(ParseMetadata, MissingFieldsAreUsageErrors) {
  for (const auto& bad : {"plugin|x|cc|1"s, "plugin||cc|1|d"s, "tunable|t|__u32|1|0|1"s, "tunable||__u32|1|0|1|d"s,
                          "counter|c"s, "gauge||d"s}) {
    SCOPED_TRACE(bad);
    auto e = parse_error(bad.starts_with("plugin") ? std::vector{bad} : std::vector{kPlugin, bad});
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_THAT(e.what(), HasSubstr("expected "));
  }
}

TEST(ParseMetadata, NonIntegerTunableFieldsAreRejected) {
  auto e = parse_error({kPlugin, "tunable|t|__u32|four|0|10|d"});
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_THAT(e.what(), HasSubstr("default 'four' is not an integer"));
  EXPECT_THAT(parse_error({kPlugin, "tunable|t|__u32|1|x|10|d"}).what(), HasSubstr("minimum 'x'"));
  EXPECT_THAT(parse_error({kPlugin, "tunable|t|__u32|1|0|1e3|d"}).what(), HasSubstr("maximum '1e3'"));
}

TEST(ParseMetadata, DefaultOutsideRangeIsRejected) {
  for (const auto& bad : {"tunable|t|__u32|11|0|10|d"s, "tunable|t|__s32|-1|0|10|d"s, "tunable|t|__u32|5|6|4|d"s}) {
    SCOPED_TRACE(bad);
    auto e = parse_error({kPlugin, bad});
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_THAT(e.what(), HasSubstr("default outside [min, max]"));
  }
}

TEST(ParseMetadata, BadKindIsRejected) {
  auto e = parse_error({"plugin|x|qdisc|1|d"});
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_THAT(e.what(), HasSubstr("kind must be 'cc' or 'policy'"));
}

TEST(ParseMetadata, InvalidPluginNamesAreRejected) {
  for (const auto& name : {"a.b"s, "_x"s, "Reno"s, "a b"s, "a/b"s, std::string(33, 'a')}) {
    SCOPED_TRACE(name);
    auto e = parse_error({"plugin|" + name + "|cc|1|d"});
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_THAT(e.what(), HasSubstr("plugin name must be"));
  }
}

TEST(ParseMetadata, ValidPluginNameCharacters) {
  EXPECT_EQ(parse_metadata_records(records({"plugin|a-b_9|cc|1|d"})).name, "a-b_9");
  EXPECT_EQ(parse_metadata_records(records({"plugin|" + std::string(32, 'z') + "|cc|1|d"})).name.size(), 32u);
}

TEST(ParseMetadata, MissingPluginRecordIsUsageError) {
  auto e = parse_error({"counter|c|d", "tunable|t|__u32|1|0|1|d"});
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_THAT(e.what(), HasSubstr("no bpfplug plugin record"));
  EXPECT_THAT(e.hint(), HasSubstr("BPFPLUG_PLUGIN"));
  EXPECT_EQ(error_of([] { parse_metadata_records(""); }).code(), Exit::usage);
  EXPECT_EQ(error_of([] { parse_metadata_records("\0\0\0"s); }).code(), Exit::usage);
}

TEST(ParseMetadata, DuplicatePluginRecordIsUsageError) {
  auto e = parse_error({kPlugin, "plugin|other|cc|1|d"});
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_THAT(e.what(), HasSubstr("a second plugin record"));
}

TEST(ParseMetadata, WithoutVariantRecordTheObjectIsTheDefaultVariant) {
  auto meta = parse_metadata_records(records({kPlugin}));
  EXPECT_EQ(meta.variant, "default");
  EXPECT_EQ(meta.variant_description, "");
}

TEST(ParseMetadata, VariantRecordFillsVariantAndDescription) {
  auto meta = parse_metadata_records(records({"variant|alpha0|starts at alpha 0|not 1024", kPlugin}));
  EXPECT_EQ(meta.name, "dctcp");
  EXPECT_EQ(meta.variant, "alpha0");
  EXPECT_EQ(meta.variant_description, "starts at alpha 0|not 1024");
  EXPECT_EQ(meta.description, "Data Center TCP");
}

TEST(ParseMetadata, VariantRecordWithoutPluginRecordIsUsageError) {
  EXPECT_THAT(parse_error({"variant|alpha0|d"}).what(), HasSubstr("no bpfplug plugin record"));
}

TEST(ParseMetadata, DuplicateVariantRecordIsUsageError) {
  for (const auto& second : {"variant|alpha1|d"s, "variant|alpha0|d"s}) {
    SCOPED_TRACE(second);
    auto e = parse_error({kPlugin, "variant|alpha0|d", second});
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_THAT(e.what(), HasSubstr("a second variant record"));
    EXPECT_THAT(e.hint(), HasSubstr("bpfplug_meta.h"));
  }
}

TEST(ParseMetadata, MalformedVariantRecordsAreUsageErrors) {
  for (const auto& bad : {"variant"s, "variant|alpha0"s, "variant||d"s}) {
    SCOPED_TRACE(bad);
    auto e = parse_error({kPlugin, bad});
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_THAT(e.what(), HasSubstr("expected variant|NAME|DESCRIPTION"));
  }
}

TEST(ParseMetadata, InvalidVariantNamesAreRejected) {
  for (const auto& name : {"a.b"s, "_x"s, "Alpha0"s, "a b"s, "a/b"s, std::string(33, 'a')}) {
    SCOPED_TRACE(name);
    auto e = parse_error({kPlugin, "variant|" + name + "|d"});
    EXPECT_EQ(e.code(), Exit::usage);
    EXPECT_THAT(e.what(), HasSubstr("variant name must be"));
  }
  EXPECT_EQ(parse_metadata_records(records({kPlugin, "variant|a-b_9|d"})).variant, "a-b_9");
  EXPECT_EQ(parse_metadata_records(records({kPlugin, "variant|" + std::string(32, 'z') + "|d"})).variant.size(), 32u);
}

TEST(ParseInteger, DecimalHexAndNegative) {
  EXPECT_EQ(parse_integer("0"), 0);
  EXPECT_EQ(parse_integer("42"), 42);
  EXPECT_EQ(parse_integer("-7"), -7);
  EXPECT_EQ(parse_integer("0x1F"), 31);
  EXPECT_EQ(parse_integer("0X10"), 16);
  EXPECT_EQ(parse_integer("0xff"), 255);
  EXPECT_EQ(parse_integer("-0x10"), -16);
  EXPECT_EQ(parse_integer("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(parse_integer("-9223372036854775807"), -INT64_MAX);
}

TEST(ParseInteger, RejectsAnythingThatIsNotEntirelyANumber) {
  for (const char* bad : {"", "-", "0x", "-0x", "12a", " 1", "1 ", "+1", "--1", "0x-1", "1.5", "1e3", "four",
                          "0xg", "9223372036854775808", "99999999999999999999"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(parse_integer(bad), std::nullopt);
  }
}

TEST(ReadElfSection, NonElfBytesAreUsageError) {
  std::string text = "this is not an ELF object at all";
  auto e = error_of([&] { read_elf_section(std::as_bytes(std::span(text)), ".bpfplug.meta"); });
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_THAT(e.what(), HasSubstr("not an ELF object"));
  EXPECT_EQ(error_of([] { read_plugin_metadata({}); }).code(), Exit::usage);
}

TEST(ReadElfSection, FindsMetaSectionOfClashCubic) {
  auto section = read_elf_section(test::clash_cubic_elf(), ".bpfplug.meta");
  ASSERT_TRUE(section.has_value());
  EXPECT_THAT(*section, HasSubstr("plugin|clash-cubic|cc|0.0.1|"));
  EXPECT_EQ(read_elf_section(test::clash_cubic_elf(), ".no.such.section"), std::nullopt);
}

TEST(ReadPluginMetadata, ClashCubicSkeleton) {
  auto meta = read_plugin_metadata(test::clash_cubic_elf());
  EXPECT_EQ(meta.name, "clash-cubic");
  EXPECT_EQ(meta.kind, "cc");
  EXPECT_EQ(meta.version, "0.0.1");
  EXPECT_EQ(meta.description, "test plugin whose name clashes with built-in cubic");
  EXPECT_TRUE(meta.tunables.empty());
  // bpfplug_cc.h gives every congestion-control plugin its socket gauge and connection count.
  ASSERT_EQ(meta.counters.size(), 2u);
  EXPECT_EQ(meta.counters[0].name, "bpfplug_sockets");
  EXPECT_TRUE(meta.counters[0].gauge);
  EXPECT_EQ(meta.counters[1].name, "bpfplug_connections");
  EXPECT_FALSE(meta.counters[1].gauge);
}

// The object name of a variant as cmake/BpfObject.cmake makes it: PLUGIN__VARIANT, '-' -> '_'.
// The object (and skeleton) name of a plugin's variant: its names made a C identifier
// (comp-ports -> comp_ports, dctcp's alpha0 -> dctcp__alpha0).
std::string object_name_of(const PluginMeta& meta) {
  std::string name = meta.variant == "default" ? meta.name : meta.name + "__" + meta.variant;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

TEST(ReadPluginMetadata, EveryEmbeddedObjectNamesItself) {
  ASSERT_FALSE(embedded_objects().empty());
  for (const auto& object : embedded_objects()) {
    SCOPED_TRACE(object.object_name);
    auto meta = read_plugin_metadata(object.elf);
    EXPECT_EQ(object_name_of(meta), object.object_name);
    EXPECT_THAT(meta.kind, ::testing::AnyOf("cc", "policy"));
    EXPECT_FALSE(meta.version.empty());
    EXPECT_FALSE(meta.description.empty());
  }
}

TEST(ReadPluginMetadata, RenoDeclaresItsCounters) {
  for (const auto& object : embedded_objects()) {
    if (object.object_name != "reno") continue;
    auto meta = read_plugin_metadata(object.elf);
    EXPECT_EQ(meta.version, "1.0.0");
    std::vector<std::pair<std::string, bool>> counters;  // name, gauge
    for (const auto& c : meta.counters) counters.emplace_back(c.name, c.gauge);
    EXPECT_THAT(counters, ::testing::UnorderedElementsAre(std::pair{"stat_loss_reductions"s, false},
                                                          std::pair{"stat_undos"s, false},
                                                          std::pair{"bpfplug_sockets"s, true},
                                                          std::pair{"bpfplug_connections"s, false}));
    return;
  }
  FAIL() << "reno is not embedded";
}

const EmbeddedObject* embedded(std::string_view object_name) {
  for (const auto& object : embedded_objects())
    if (object.object_name == object_name) return &object;
  return nullptr;
}

TEST(ReadPluginMetadata, DctcpAlpha0VariantDiffersOnlyInAlphaOnInit) {
  const auto* plain = embedded("dctcp");
  const auto* alpha0 = embedded("dctcp__alpha0");
  ASSERT_NE(plain, nullptr);
  ASSERT_NE(alpha0, nullptr) << "cc_algos/CMakeLists.txt builds the variant dctcp__alpha0";
  auto p = read_plugin_metadata(plain->elf);
  auto v = read_plugin_metadata(alpha0->elf);
  EXPECT_EQ(p.variant, "default");
  EXPECT_EQ(p.variant_description, "");
  EXPECT_EQ(v.name, "dctcp");
  EXPECT_EQ(v.variant, "alpha0");
  EXPECT_THAT(v.variant_description, HasSubstr("alpha_on_init=0"));
  EXPECT_EQ(v.version, p.version);
  EXPECT_EQ(v.kind, p.kind);
  EXPECT_EQ(v.description, p.description);
  ASSERT_NE(p.find_tunable("alpha_on_init"), nullptr);
  ASSERT_NE(v.find_tunable("alpha_on_init"), nullptr);
  EXPECT_EQ(p.find_tunable("alpha_on_init")->default_value, 1024);
  EXPECT_EQ(v.find_tunable("alpha_on_init")->default_value, 0);
  EXPECT_EQ(v.find_tunable("alpha_on_init")->max, 1024);
  EXPECT_EQ(v.find_tunable("shift_g")->default_value, p.find_tunable("shift_g")->default_value);
  EXPECT_EQ(v.tunables.size(), p.tunables.size());
  EXPECT_EQ(v.counters.size(), p.counters.size());
}

TEST(ReadPluginMetadata, ElfWithoutMetaSectionIsUsageError) {
  // The test binary itself is an ELF object without plugin metadata.
  std::ifstream in("/proc/self/exe", std::ios::binary);
  std::string image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(image.size(), 4u);
  auto e = error_of([&] { read_plugin_metadata(std::as_bytes(std::span(image))); });
  EXPECT_EQ(e.code(), Exit::usage);
  EXPECT_THAT(e.what(), HasSubstr("no .bpfplug.meta section"));
}

}  // namespace
}  // namespace bpfplug
