#include "bpfplug/matrix/feature_rows.hpp"

namespace bpfplug::matrix {

// Test names are "Suite.Test", with ` "VALUE"` after value-parameterised ones, e.g.
// `Plugins/LoadUnload.RegistersPersistsAcrossProcessesAndLeavesNothingBehind/0 "reno"`.
// Probe features are the names `bpfplug --json probe` reports (loader/src/features.cpp); the
// reason a cell gives for a fallback or an unsupported feature is the probe's own consequence.
// dctcp needs cc_setsockopt (BPFPLUG_REQUIRES in cc_algos/dctcp.bpf.c): bpfplug refuses it
// where the probe does not find it.
const std::vector<FeatureRow>& feature_rows() {
  using K = CellKind;
  static const std::vector<FeatureRow> rows = {
      {"reno: loads, persists, unloads", {"*LoadUnload.*\"reno\""}, {"struct_ops"}, K::unsupported, {"struct_ops_link", "cc_kfuncs"}},
      {"dctcp: loads, persists, unloads", {"*LoadUnload.*\"dctcp\""}, {"struct_ops", "cc_setsockopt"}, K::unsupported, {"struct_ops_link", "cc_kfuncs"}},
      {"cubic: loads, persists, unloads", {"*LoadUnload.*\"cubic\""}, {"struct_ops"}, K::unsupported, {"struct_ops_link", "cc_kfuncs"}},
      {"reno: passes traffic", {"*/Traffic.*\"reno\""}, {"struct_ops"}, K::unsupported, {"cc_kfuncs"}},
      {"dctcp: passes traffic", {"*/Traffic.*\"dctcp\""}, {"struct_ops", "cc_setsockopt"}, K::unsupported, {"cc_kfuncs"}},
      {"cubic: passes traffic", {"*/Traffic.*\"cubic\""}, {"struct_ops"}, K::unsupported, {"cc_kfuncs"}},
      {"dctcp: reno behaviour without ECN", {"DctcpFallback.*"}, {"struct_ops", "cc_setsockopt"}, K::unsupported, {}},
      {"tunables (--set) reach the kernel", {"*/Tunables.*"}, {"struct_ops"}, K::unsupported, {}},
      {"--default and --allow", {"DefaultCc.*"}, {"struct_ops"}, K::unsupported, {}},
      {"swap via link (atomic)", {"Swap.*"}, {"struct_ops_link"}, K::fallback, {}},
      {"swap fallback (map mode)", {"MapRegistration.*"}, {"struct_ops"}, K::unsupported, {}},
      {"kfunc fallback (BPF implementations)", {"*KfuncFallback.*"}, {"struct_ops"}, K::unsupported, {}},
      {"crash recovery (repair)", {"*CrashRecovery.*"}, {"struct_ops"}, K::unsupported, {}},
      {"locking and restore", {"Lifecycle.*"}, {"struct_ops"}, K::unsupported, {}},
      {"boot persistence (enable/apply)", {"BootReconcile.*"}, {"struct_ops"}, K::unsupported, {}},
      {"clear errors on bad input", {"BadInput.*"}, {"struct_ops"}, K::unsupported, {}},
      {"testbed: bulk data arrives intact", {"*/TestbedTransfer.*"}, {"struct_ops"}, K::unsupported, {}},
      {"ECN testbed: dctcp holds the queue near K", {"EcnTestbed.*"}, {"struct_ops", "cc_setsockopt"}, K::unsupported, {}},
      {"dctcp: agrees with the kernel's own dctcp", {"NativeDctcp.*"}, {"struct_ops", "cc_setsockopt"}, K::unsupported, {}},
      {"cubic: curve and HyStart", {"CubicBehaviour*"}, {"struct_ops"}, K::unsupported, {}},
      {"header-option negotiation (probe only, no test yet)", {}, {"hdr_options"}, K::unsupported, {}},
  };
  return rows;
}

}  // namespace bpfplug::matrix
