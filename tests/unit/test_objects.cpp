#include "test_objects.hpp"

#include "bpfplug/catalogue.hpp"
#include "bpfplug/libbpf_log.hpp"
#include "clash_cubic.skel.h"

namespace bpfplug::test {
namespace {

// libbpf's notes about the .bpfplug.meta section go to spdlog's debug level, as in the CLI,
// instead of cluttering the test output.
const bool kLibbpfLogsRouted = (route_libbpf_logs(), true);

}  // namespace

std::span<const std::byte> clash_cubic_elf() { return skeleton_elf(&clash_cubic_bpf__elf_bytes); }

}  // namespace bpfplug::test
