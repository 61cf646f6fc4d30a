#include "bpfplug/features.hpp"

#include <sys/utsname.h>

#include <cstdio>

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
  // The kfunc allow-list of bpf_tcp_ca is not visible in BTF; it exists from 5.13 on.
  f.cc_kfuncs = f.struct_ops && kernel_version(f.release) >= std::pair{5, 13};
  f.bpffs_mounted = is_bpffs(bpffs);
  return f;
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
      {"cc_kfuncs", f.cc_kfuncs, "inferred from the kernel version (" + f.release + ")",
       f.cc_kfuncs ? "plugins call the kernel's tcp_slow_start/tcp_cong_avoid_ai/tcp_reno_*"
                   : "fallback: plugins use their own BPF implementations (Linux < 5.13)"},
      {"hdr_options", f.hdr_options,
       f.hdr_options ? "enum value BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG" : "no header-option sock_ops flags",
       f.hdr_options ? "compression policies can negotiate in the TCP handshake"
                     : "compression policies can't negotiate: needs Linux >= 5.10"},
      {"bpffs", f.bpffs_mounted, f.bpffs_mounted ? "mounted" : "not mounted",
       f.bpffs_mounted ? "plugins stay registered after bpfplug exits"
                       : "bpfplug load mounts it (mount -t bpf bpf /sys/fs/bpf)"},
  };
}

}  // namespace bpfplug
