// What the kernel holds right now, read through the BPF syscall: for "nothing left behind".
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>

namespace bpfplug::test {

std::set<std::uint32_t> struct_ops_prog_ids();
std::set<std::uint32_t> struct_ops_map_ids();

// How many kfunc calls the kernel's verified copy of a program makes (its xlated
// instructions; the verifier has removed branches it proved dead).
std::size_t kfunc_calls(std::uint32_t prog_id);

// Waits (bounded, ~3 s) until none of `ids` exists any more; the kernel frees struct_ops
// programs after an RCU grace period. Returns the ones still present.
std::set<std::uint32_t> wait_until_freed(const std::set<std::uint32_t>& prog_ids,
                                         const std::set<std::uint32_t>& map_ids);

}  // namespace bpfplug::test
