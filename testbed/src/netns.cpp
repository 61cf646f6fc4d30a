#include "bpfplug/testbed/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <exception>
#include <stdexcept>
#include <thread>

#include "bpfplug/testbed/shell.hpp"

namespace bpfplug::testbed {

Netns::Netns(std::string name) : name_(std::move(name)) {
  sh("ip netns del " + name_ + " 2>/dev/null");
  if (sh("ip netns add " + name_) != 0) throw std::runtime_error("ip netns add " + name_ + " failed");
  sh("ip -n " + name_ + " link set lo up");
}

Netns::~Netns() { sh("ip netns del " + name_ + " 2>/dev/null"); }

void Netns::run_inside(const std::function<void()>& fn) const {
  std::exception_ptr failure;
  std::thread worker([&] {
    try {
      int fd = open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) throw std::runtime_error("setns into " + name_ + " failed");
      close(fd);
      fn();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  worker.join();
  if (failure) std::rethrow_exception(failure);
}

void Netns::set_sysctl(const std::string& key, const std::string& value) const {
  sh_or_throw("ip netns exec " + name_ + " sysctl -q -w " + key + "='" + value + "'");
}

VethPair::VethPair(const std::string& prefix) : a(prefix + "-a"), b(prefix + "-b") {
  std::string cmd = "ip link add veth0 netns " + a.name() + " type veth peer name veth0 netns " + b.name() +
                    " && ip -n " + a.name() + " addr add " + a_addr + "/24 dev veth0" +
                    " && ip -n " + b.name() + " addr add " + b_addr + "/24 dev veth0" +
                    " && ip -n " + a.name() + " link set veth0 up && ip -n " + b.name() + " link set veth0 up";
  if (sh(cmd) != 0) throw std::runtime_error("veth setup failed: " + cmd);
}

}  // namespace bpfplug::testbed
