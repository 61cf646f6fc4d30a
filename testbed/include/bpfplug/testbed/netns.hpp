// Network namespaces made by a test or benchmark and removed when it ends, even if it fails.
#pragma once

#include <functional>
#include <string>

namespace bpfplug::testbed {

class Netns {
 public:
  explicit Netns(std::string name);  // ip netns add; throws on failure
  ~Netns();                           // ip netns del
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;

  const std::string& name() const { return name_; }
  // Runs fn on a thread that has entered this namespace: sockets it creates live there.
  void run_inside(const std::function<void()>& fn) const;
  // sysctl KEY=VALUE inside this namespace (per-namespace keys such as net.ipv4.*); throws.
  void set_sysctl(const std::string& key, const std::string& value) const;

 private:
  std::string name_;
};

// Two namespaces joined by a veth pair: "a" holds 198.18.0.1/24, "b" 198.18.0.2/24
// (RFC 2544 benchmarking range, only ever inside these namespaces).
class VethPair {
 public:
  explicit VethPair(const std::string& prefix);
  Netns a;
  Netns b;
  static constexpr const char* a_addr = "198.18.0.1";
  static constexpr const char* b_addr = "198.18.0.2";
};

}  // namespace bpfplug::testbed
