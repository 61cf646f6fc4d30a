#include "bpfplug/features.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "bpfplug/host.hpp"
#include "bpfplug/libbpf_raii.hpp"

namespace bpfplug {
namespace {

bool has_type(const btf* vmlinux, const char* name, int kind) {
  return vmlinux && btf__find_by_name_kind(vmlinux, name, kind) >= 0;
}

// Whether some enum of vmlinux BTF has the named value. UAPI flag enums such as the sock_ops
// callback flags are anonymous, so every enum is searched.
bool has_enum_value(const btf* vmlinux, std::string_view value_name) {
  if (!vmlinux) return false;
  for (unsigned id = 1; id < btf__type_cnt(vmlinux); ++id) {
    const btf_type* t = btf__type_by_id(vmlinux, id);
    if (!btf_is_enum(t)) continue;
    const struct btf_enum* e = btf_enum(t);
    for (unsigned i = 0; i < btf_vlen(t); ++i, ++e)
      if (value_name == btf__name_by_offset(vmlinux, e->name_off)) return true;
  }
  return false;
}

// What the kernel lets a BPF congestion control call is not in BTF: the verifier knows. So
// bpfplug asks it, by loading a three-to-ten-instruction struct_ops program for one member of
// tcp_congestion_ops; it is never attached. Needs CAP_BPF (root).
constexpr bpf_insn insn(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

bool struct_ops_program_loads(const btf* vmlinux, const char* member, const std::vector<bpf_insn>& prog) {
  int ops_id = btf__find_by_name_kind(vmlinux, "tcp_congestion_ops", BTF_KIND_STRUCT);
  if (ops_id < 0) return false;
  const btf_type* ops = btf__type_by_id(vmlinux, ops_id);
  const btf_member* m = btf_members(ops);
  for (unsigned i = 0; i < btf_vlen(ops); ++i, ++m) {
    if (std::strcmp(btf__name_by_offset(vmlinux, m->name_off), member) != 0) continue;
    LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = static_cast<bpf_attach_type>(i),
                .attach_btf_id = static_cast<__u32>(ops_id));
    int fd = bpf_prog_load(BPF_PROG_TYPE_STRUCT_OPS, "bpfplug_probe", "GPL", prog.data(), prog.size(), &opts);
    if (fd < 0) return false;
    close(fd);
    return true;
  }
  return false;
}

// ssthresh(sk) { return tcp_reno_ssthresh(sk); } with the kfunc (Linux 5.13+).
bool probe_cc_kfuncs(const btf* vmlinux) {
  int kfunc = btf__find_by_name_kind(vmlinux, "tcp_reno_ssthresh", BTF_KIND_FUNC);
  if (kfunc < 0) return false;
  return struct_ops_program_loads(vmlinux, "ssthresh",
                                  {insn(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_1, 0, 0),
                                   insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, kfunc),
                                   insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)});
}

// init(sk) { char name[8] = ""; bpf_setsockopt(sk, SOL_TCP, TCP_CONGESTION, name, 8); }
bool probe_cc_setsockopt(const btf* vmlinux) {
  constexpr int sol_tcp = 6, tcp_congestion = 13;
  return struct_ops_program_loads(vmlinux, "init",
                                  {insn(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_6, BPF_REG_1, 0, 0),
                                   insn(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -8, 0),
                                   insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_6, 0, 0),
                                   insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, sol_tcp),
                                   insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, tcp_congestion),
                                   insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_4, BPF_REG_10, 0, 0),
                                   insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_4, 0, 0, -8),
                                   insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_5, 0, 0, 8),
                                   insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_setsockopt),
                                   insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
                                   insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)});
}

// (major, minor) from a release string like "6.18.44-fc".
std::pair<int, int> kernel_version(const std::string& release) {
  int major = 0, minor = 0;
  std::sscanf(release.c_str(), "%d.%d", &major, &minor);
  return {major, minor};
}

}  // namespace

KernelFeatures probe_kernel(const std::filesystem::path& bpffs) {
  KernelFeatures f;
  utsname u{};
  if (uname(&u) == 0) f.release = u.release;

  // Kernel types tell what the kernel implements, independent of version numbers that
  // distributions patch: the struct_ops value type appears with struct_ops support (5.6),
  // struct bpf_struct_ops_link with struct_ops links (6.4).
  BtfPtr vmlinux(btf__load_vmlinux_btf());
  f.btf = vmlinux != nullptr;
  f.struct_ops = has_type(vmlinux.get(), "bpf_struct_ops_tcp_congestion_ops", BTF_KIND_STRUCT);
  f.struct_ops_link = has_type(vmlinux.get(), "bpf_struct_ops_link", BTF_KIND_STRUCT);
  f.hdr_options = has_enum_value(vmlinux.get(), "BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG");
  // openEuler's tcp_comp brings its sysctls, which are what bpfplug drives, and its context
  // type, which confirms what they belong to (../shared/reference/tcp_comp.md).
  std::error_code ec;
  f.tcp_comp = std::filesystem::exists("/proc/sys/net/ipv4/tcp_compression_ports", ec);
  f.tcp_comp_btf = has_type(vmlinux.get(), "tcp_comp_context", BTF_KIND_STRUCT);
  // What a BPF congestion control may call is measured where possible (root), else inferred
  // from the version (the kfunc allow-list of bpf_tcp_ca exists from 5.13 on).
  f.probed_by_loading = f.struct_ops && geteuid() == 0;
  if (f.probed_by_loading) {
    f.cc_kfuncs = probe_cc_kfuncs(vmlinux.get());
    f.cc_setsockopt = probe_cc_setsockopt(vmlinux.get());
  } else {
    f.cc_kfuncs = f.struct_ops && kernel_version(f.release) >= std::pair{5, 13};
    f.cc_setsockopt = f.struct_ops && kernel_version(f.release) >= std::pair{6, 1};
  }
  f.bpffs_mounted = is_bpffs(bpffs);
  return f;
}

static std::string how_known(const KernelFeatures& f, const std::string& test) {
  return f.probed_by_loading ? "loaded " + test
                             : "inferred from the kernel version (" + f.release + "; as root it is measured)";
}

std::optional<bool> feature_by_name(const KernelFeatures& f, std::string_view name) {
  if (name == "btf") return f.btf;
  if (name == "struct_ops") return f.struct_ops;
  if (name == "struct_ops_link") return f.struct_ops_link;
  if (name == "cc_kfuncs") return f.cc_kfuncs;
  if (name == "cc_setsockopt") return f.cc_setsockopt;
  if (name == "hdr_options") return f.hdr_options;
  if (name == "tcp_comp") return f.tcp_comp;
  return std::nullopt;
}

std::vector<Requirement> unmet_requirements(const PluginMeta& meta, const KernelFeatures& f) {
  std::vector<Requirement> unmet;
  for (const auto& r : meta.requirements)
    if (!feature_by_name(f, r.feature).value_or(false)) unmet.push_back(r);
  return unmet;
}

std::vector<FeatureReport> describe_features(const KernelFeatures& f) {
  return {
      {"btf", f.btf, f.btf ? "/sys/kernel/btf/vmlinux" : "no /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF=n)",
       f.btf ? "CO-RE relocation of every plugin" : "no plugin can load: needs a kernel built with BTF"},
      {"struct_ops", f.struct_ops,
       f.struct_ops ? "BTF type bpf_struct_ops_tcp_congestion_ops" : "no tcp_congestion_ops struct_ops type",
       f.struct_ops ? "congestion-control plugins can register"
                    : "congestion-control plugins can't load: needs Linux >= 5.6 with CONFIG_BPF_JIT"},
      {"struct_ops_link", f.struct_ops_link,
       f.struct_ops_link ? "BTF type bpf_struct_ops_link" : "no bpf_struct_ops_link type",
       f.struct_ops_link ? "plugins are held by pinned links (atomic swap possible)"
                         : "fallback: plain map registration (Linux < 6.4); no atomic swap"},
      {"cc_kfuncs", f.cc_kfuncs, how_known(f, "a struct_ops program calling tcp_reno_ssthresh"),
       f.cc_kfuncs ? "plugins call the kernel's tcp_slow_start/tcp_cong_avoid_ai/tcp_reno_*"
                   : "fallback: plugins use their own BPF implementations (Linux < 5.13)"},
      {"cc_setsockopt", f.cc_setsockopt, how_known(f, "a struct_ops program calling bpf_setsockopt"),
       f.cc_setsockopt ? "dctcp can hand a connection without ECN to reno (RFC 8257 sec. 3)"
                       : "unsupported: dctcp can't load (it must leave connections without ECN to reno)"},
      {"hdr_options", f.hdr_options,
       f.hdr_options ? "enum value BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG" : "no header-option sock_ops flags",
       f.hdr_options ? "compression policies can negotiate in the TCP handshake"
                     : "compression policies can't negotiate: needs Linux >= 5.10"},
      {"tcp_comp", f.tcp_comp,
       std::string(f.tcp_comp ? "/proc/sys/net/ipv4/tcp_compression_ports" : "no net.ipv4.tcp_compression_ports sysctl") +
           (f.tcp_comp_btf ? ", BTF type tcp_comp_context" : ", no tcp_comp_context in BTF"),
       f.tcp_comp ? "the kernel compresses (openEuler tcp_comp): comp-ports drives its sysctls; comp-cost, which "
                    "decides per connection, uses the user-space data path"
                  : "no kernel compression (it is openEuler's): policies negotiate for the user-space data path"},
      {"bpffs", f.bpffs_mounted, f.bpffs_mounted ? "mounted" : "not mounted",
       f.bpffs_mounted ? "plugins stay registered after bpfplug exits"
                       : "bpfplug load mounts it (mount -t bpf bpf /sys/fs/bpf)"},
  };
}

}  // namespace bpfplug
