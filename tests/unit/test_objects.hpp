// BPF object images the unit tests parse (never load): the test-only clash_cubic plugin.
#pragma once

#include <cstddef>
#include <span>

namespace bpfplug::test {

// The ELF of tests/bpf/clash_cubic.bpf.c: plugin "clash-cubic" registering as "cubic".
std::span<const std::byte> clash_cubic_elf();

}  // namespace bpfplug::test
