// Reading what a BPF object holds: its struct_ops map, the name that map registers, and the
// variables of its global-data sections (.rodata tunables, .bss counters) located through BTF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bpfplug/libbpf_raii.hpp"

namespace bpfplug {

// Opens (does not load) an object from memory. Throws Error if libbpf rejects it.
BpfObjectPtr open_object(std::span<const std::byte> elf, const std::string& name);

// The object's single struct_ops map. Throws Error if it has none or several.
bpf_map* struct_ops_map(bpf_object* obj);

// tcp_congestion_ops.name from the struct_ops map's initial value, located through the
// object's BTF (no hand-kept offsets).
std::string struct_ops_name(bpf_object* obj, bpf_map* ops_map);

// The kernel struct a struct_ops map implements ("tcp_congestion_ops").
std::string struct_ops_type(bpf_object* obj, bpf_map* ops_map);

// A variable of a global-data section (DATASEC) and where it sits in the map value.
struct DatasecVar {
  std::string name;
  std::uint32_t offset = 0;
  std::uint32_t size = 0;
  bool is_signed = false;
};

// The integer variables of the DATASEC with BTF type id `datasec_id` (or named `section`).
std::vector<DatasecVar> datasec_vars(const btf* types, std::uint32_t datasec_id);
std::vector<DatasecVar> datasec_vars(const btf* types, std::string_view section);

std::int64_t read_var(std::span<const std::byte> value, const DatasecVar& var);
void write_var(std::span<std::byte> value, const DatasecVar& var, std::int64_t v);

}  // namespace bpfplug
