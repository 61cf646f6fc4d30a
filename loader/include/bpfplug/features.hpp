// What the running kernel and host support, probed once, and what bpfplug can do with it.
// All "does this kernel have X" decisions in user space are made from this struct.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bpfplug/plugin_metadata.hpp"

namespace bpfplug {

struct KernelFeatures {
  std::string release;          // uname -r
  bool btf = false;             // /sys/kernel/btf/vmlinux readable and parseable
  bool struct_ops = false;      // BPF struct_ops for tcp_congestion_ops (Linux 5.6+)
  bool struct_ops_link = false; // struct_ops links, BPF_LINK_UPDATE swap (Linux 6.4+)
  bool cc_kfuncs = false;       // tcp_slow_start & co. callable from a BPF CC (Linux 5.13+)
  bool cc_setsockopt = false;   // bpf_setsockopt callable from a BPF CC (not in 5.10; in 6.1)
  bool probed_by_loading = false;  // cc_* were measured by loading test programs (needs root)
  bool hdr_options = false;     // TCP header options from sock_ops (Linux 5.10+)
  bool tcp_comp = false;        // openEuler's kernel TCP payload compression (CONFIG_TCP_COMP): its sysctl
  bool tcp_comp_btf = false;    // ... and its type struct tcp_comp_context in the kernel's BTF
  bool bpffs_mounted = false;   // bpffs at the pin root's mount point
};

// Probes the running kernel; `bpffs` is the mount point bpfplug pins under.
KernelFeatures probe_kernel(const std::filesystem::path& bpffs);

// One line of `bpfplug probe`.
struct FeatureReport {
  std::string name;
  bool present = false;
  std::string detail;      // how it was determined or what is missing
  std::string consequence; // which bpfplug feature depends on it and what happens without it
};
std::vector<FeatureReport> describe_features(const KernelFeatures& features);

// The value of the feature `bpfplug probe` calls `name` (plugins name them in their
// requirements); nullopt for a name bpfplug does not know.
std::optional<bool> feature_by_name(const KernelFeatures& features, std::string_view name);

// The requirements of a plugin this kernel does not meet (a feature it lacks, or one bpfplug
// does not know). The one place that decides whether a plugin can run here.
std::vector<Requirement> unmet_requirements(const PluginMeta& meta, const KernelFeatures& features);

}  // namespace bpfplug
