// openEuler's kernel tcp_comp as the mechanism a compression policy drives, where the kernel
// has it (../shared/reference/tcp_comp.md). Its only inputs are two host-wide sysctls:
//   net.ipv4.tcp_compression_ports  server ports, written "8080,9000-9100" (a bitmap sysctl)
//   net.ipv4.tcp_compression_local  0/1: loopback and same-address connections too
// The kernel decides at SYN time from them, writes and parses the option FE 04 79 54 itself
// and compresses in its sendmsg/recvmsg. A policy that can be said as "these server ports"
// (comp-ports) maps onto them exactly; one that decides per connection (comp-cost) cannot,
// because the per-socket TCP_COMP_TX/RX options openEuler planned were never merged.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "bpfplug/port_set.hpp"
#include "bpfplug/sysctl.hpp"

namespace bpfplug {

inline constexpr const char* kCompPortsPlugin = "comp-ports";
inline constexpr const char* kTcpCompPortsSysctl = "net.ipv4.tcp_compression_ports";
inline constexpr const char* kTcpCompLocalSysctl = "net.ipv4.tcp_compression_local";

// Which data path compresses the connections a policy selects.
enum class CompMechanism {
  automatic,  // kernel where tcp_comp exists and the policy maps onto it, else user
  user,       // the policy's sock_ops program negotiates; bpfplug's user-space data path compresses
  kernel,     // the kernel's tcp_comp negotiates and compresses; bpfplug sets its sysctls
};
// "auto", "user", "kernel"; throws a usage Error for anything else.
CompMechanism parse_comp_mechanism(std::string_view text);
std::string to_string(CompMechanism mechanism);

// The kernel mechanism `requested` resolves to for `plugin`, or a usage/unsupported Error that
// says why it can't be (never `automatic`). `cgroup_given`: --cgroup was on the command line.
CompMechanism choose_comp_mechanism(CompMechanism requested, std::string_view plugin, bool tcp_comp_present,
                                    bool cgroup_given);

// tcp_comp's two knobs, as the kernel holds them.
struct TcpCompKnobs {
  PortSet ports;
  bool local = false;
  bool operator==(const TcpCompKnobs& other) const {
    return ports.words() == other.ports.words() && local == other.local;
  }
};

class TcpCompSysctl {
 public:
  explicit TcpCompSysctl(const Sysctl& sysctl) : sysctl_(sysctl) {}
  bool present() const;        // the kernel has tcp_comp (CONFIG_TCP_COMP)
  TcpCompKnobs read() const;   // throws Error if absent or unreadable
  // Ports first, then local; one write(2) each, as sysctl(8) does.
  void write(const TcpCompKnobs& knobs) const;

 private:
  const Sysctl& sysctl_;
};

// What bpfplug set in tcp_comp for a policy, and what it found there before (unload puts that
// back). Kept in the state directory: it vanishes at reboot together with the sysctls.
struct KernelCompRecord {
  std::string policy;
  std::string version;
  std::string loaded_at;  // ISO 8601 UTC
  TcpCompKnobs set;
  TcpCompKnobs before;
};

class KernelCompRecordStore {
 public:
  explicit KernelCompRecordStore(std::filesystem::path file) : file_(std::move(file)) {}
  std::optional<KernelCompRecord> load() const;  // nullopt if no policy drives tcp_comp
  void save(const KernelCompRecord& record) const;  // atomic: temporary file, rename
  void remove() const;

 private:
  std::filesystem::path file_;
};

}  // namespace bpfplug
