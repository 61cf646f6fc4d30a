// Which kernel modules to insmod, in which order, from the guest kernel's modules.dep.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bpfplug::matrix {

// "kernel/net/ipv4/tcp_dctcp.ko.xz" -> "tcp_dctcp" (dashes become underscores, as modprobe does).
std::string module_name(std::string_view path);

// "kernel/net/ipv4/tcp_dctcp.ko.xz" -> "kernel/net/ipv4/tcp_dctcp.ko". busybox insmod reads
// only plain .ko files, so compressed modules are decompressed on the host.
std::string uncompressed_module_path(std::string_view path);

struct WantedModule {
  std::string name;
  enum class State { load, builtin, missing } state = State::missing;
};

struct ModulePlan {
  std::vector<std::string> load_order;  // modules.dep paths, every dependency before its users
  std::vector<WantedModule> wanted;     // each requested module and what happens to it
};

// Pure: resolves `wanted` names against modules.dep (and modules.builtin, which lists what is
// compiled in) with their dependency closure. A name in neither file is `missing`, not an error:
// the guest notes it and the tests that need it report themselves.
ModulePlan plan_modules(std::string_view modules_dep, std::string_view modules_builtin,
                        const std::vector<std::string>& wanted);

}  // namespace bpfplug::matrix
