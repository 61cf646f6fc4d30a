#include "bpfplug/bpf_object_view.hpp"

#include <cerrno>
#include <cstring>

#include "bpfplug/error.hpp"

namespace bpfplug {

BpfObjectPtr open_object(std::span<const std::byte> elf, const std::string& name) {
  LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name.c_str());
  BpfObjectPtr obj(bpf_object__open_mem(elf.data(), elf.size(), &opts));
  if (!obj)
    throw Error(Exit::usage, "can't open BPF object of plugin " + name + ": " + errno_text(errno),
                "rebuild it against vmlinux/vmlinux.h with clang -target bpf -g -O2");
  return obj;
}

bpf_map* struct_ops_map(bpf_object* obj) {
  bpf_map* found = nullptr;
  bpf_map* map;
  bpf_object__for_each_map(map, obj) {
    if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS) continue;
    if (found)
      throw Error(Exit::usage,
                  std::string("object ") + bpf_object__name(obj) + " has more than one struct_ops map",
                  "a plugin defines exactly one tcp_congestion_ops");
    found = map;
  }
  if (!found)
    throw Error(Exit::usage, std::string("object ") + bpf_object__name(obj) + " has no struct_ops map",
                "define SEC(\".struct_ops.link\") struct tcp_congestion_ops NAME = {...}");
  return found;
}

std::string struct_ops_name(bpf_object* obj, bpf_map* ops_map) {
  const btf* types = bpf_object__btf(obj);
  std::size_t size = 0;
  const auto* data = static_cast<const char*>(bpf_map__initial_value(ops_map, &size));
  const btf_type* st = types ? btf__type_by_id(types, bpf_map__btf_value_type_id(ops_map)) : nullptr;
  if (!data || !st || !btf_is_struct(st))
    throw Error(Exit::usage, std::string("can't read the struct_ops type of ") + bpf_map__name(ops_map),
                "build the plugin with -g so that it carries BTF");
  const btf_member* m = btf_members(st);
  for (unsigned i = 0; i < btf_vlen(st); ++i, ++m) {
    if (std::strcmp(btf__name_by_offset(types, m->name_off), "name") != 0) continue;
    std::size_t off = btf_member_bit_offset(st, i) / 8;
    if (off >= size) break;
    return std::string(data + off, strnlen(data + off, size - off));
  }
  throw Error(Exit::usage, std::string(bpf_map__name(ops_map)) + " has no name field",
              "a congestion-control plugin must set .name in its tcp_congestion_ops");
}

std::string struct_ops_type(bpf_object* obj, bpf_map* ops_map) {
  const btf* types = bpf_object__btf(obj);
  const btf_type* st = types ? btf__type_by_id(types, bpf_map__btf_value_type_id(ops_map)) : nullptr;
  if (!st) throw Error(Exit::usage, std::string("can't read the struct_ops type of ") + bpf_map__name(ops_map),
                       "build the plugin with -g so that it carries BTF");
  return btf__name_by_offset(types, st->name_off);
}

std::vector<DatasecVar> datasec_vars(const btf* types, std::uint32_t datasec_id) {
  std::vector<DatasecVar> vars;
  const btf_type* sec = btf__type_by_id(types, datasec_id);
  if (!sec || !btf_is_datasec(sec)) return vars;
  const btf_var_secinfo* info = btf_var_secinfos(sec);
  for (unsigned i = 0; i < btf_vlen(sec); ++i, ++info) {
    const btf_type* var = btf__type_by_id(types, info->type);
    if (!var || !btf_is_var(var)) continue;
    int resolved = btf__resolve_type(types, var->type);
    const btf_type* t = resolved < 0 ? nullptr : btf__type_by_id(types, resolved);
    bool is_int = t && btf_is_int(t);
    if (!is_int && !(t && btf_is_enum(t))) continue;  // only integers are tunables/counters
    if (info->size > 8) continue;
    vars.push_back({btf__name_by_offset(types, var->name_off), info->offset, info->size,
                    is_int && (btf_int_encoding(t) & BTF_INT_SIGNED)});
  }
  return vars;
}

std::vector<DatasecVar> datasec_vars(const btf* types, std::string_view section) {
  int id = btf__find_by_name_kind(types, std::string(section).c_str(), BTF_KIND_DATASEC);
  if (id < 0) return {};
  return datasec_vars(types, static_cast<std::uint32_t>(id));
}

std::int64_t read_var(std::span<const std::byte> value, const DatasecVar& var) {
  if (var.offset + var.size > value.size()) throw Error(Exit::failure, "variable " + var.name + " out of map bounds");
  std::uint64_t raw = 0;
  std::memcpy(&raw, value.data() + var.offset, var.size);  // BPF targets are little endian here
  if (var.is_signed && var.size < 8) {
    std::uint64_t sign = 1ULL << (var.size * 8 - 1);
    raw = (raw ^ sign) - sign;
  }
  return static_cast<std::int64_t>(raw);
}

void write_var(std::span<std::byte> value, const DatasecVar& var, std::int64_t v) {
  if (var.offset + var.size > value.size()) throw Error(Exit::failure, "variable " + var.name + " out of map bounds");
  auto raw = static_cast<std::uint64_t>(v);
  std::memcpy(value.data() + var.offset, &raw, var.size);
}

}  // namespace bpfplug
