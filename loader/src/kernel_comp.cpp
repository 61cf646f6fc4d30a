#include "bpfplug/kernel_comp.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

#include "bpfplug/atomic_file.hpp"
#include "bpfplug/error.hpp"

namespace bpfplug {

CompMechanism parse_comp_mechanism(std::string_view text) {
  if (text == "auto") return CompMechanism::automatic;
  if (text == "user") return CompMechanism::user;
  if (text == "kernel") return CompMechanism::kernel;
  throw Error(Exit::usage, "--mechanism " + std::string(text) + ": unknown mechanism",
              "use auto (the default), user (bpfplug's user-space data path) or kernel (openEuler tcp_comp)");
}

std::string to_string(CompMechanism mechanism) {
  switch (mechanism) {
    case CompMechanism::automatic: return "auto";
    case CompMechanism::user: return "user";
    case CompMechanism::kernel: return "kernel";
  }
  return "?";
}

CompMechanism choose_comp_mechanism(CompMechanism requested, std::string_view plugin, bool tcp_comp_present,
                                    bool cgroup_given) {
  const bool maps_onto_tcp_comp = plugin == kCompPortsPlugin;
  if (requested == CompMechanism::user) return CompMechanism::user;
  if (requested == CompMechanism::automatic)
    return tcp_comp_present && maps_onto_tcp_comp && !cgroup_given ? CompMechanism::kernel : CompMechanism::user;
  if (!tcp_comp_present)
    throw Error(Exit::unsupported,
                "this kernel has no openEuler tcp_comp (no " + std::string(kTcpCompPortsSysctl) +
                    " sysctl), so there is no kernel mechanism to drive",
                "leave out --mechanism kernel: the policy then negotiates for bpfplug's user-space data path "
                "(bpfplug probe shows what the kernel has)");
  if (!maps_onto_tcp_comp)
    throw Error(Exit::unsupported,
                std::string(plugin) + " decides per connection, and tcp_comp takes only a host-wide list of server "
                                      "ports (its per-socket TCP_COMP_TX/RX options were never merged)",
                "load it with --mechanism user (bpfplug's user-space data path), or drive tcp_comp with comp-ports");
  if (cgroup_given)
    throw Error(Exit::usage, "--cgroup narrows a sock_ops program, but tcp_comp's sysctls apply to the whole host",
                "leave out --cgroup, or add --mechanism user to compress only that cgroup's connections");
  return CompMechanism::kernel;
}

bool TcpCompSysctl::present() const {
  std::error_code ec;
  return std::filesystem::exists(sysctl_.path_of(kTcpCompPortsSysctl), ec);
}

TcpCompKnobs TcpCompSysctl::read() const {
  TcpCompKnobs knobs;
  const std::string ports = sysctl_.read(kTcpCompPortsSysctl);
  try {
    knobs.ports = PortSet::parse(ports, kTcpCompPortsSysctl);
  } catch (const Error& e) {
    throw Error(Exit::failure, std::string("the kernel's ") + kTcpCompPortsSysctl + " holds what bpfplug can't read: " +
                                   e.what(), "set it to ports 1-65535 (sysctl -w " + std::string(kTcpCompPortsSysctl) + "=...)");
  }
  knobs.local = sysctl_.read(kTcpCompLocalSysctl) != "0";
  return knobs;
}

void TcpCompSysctl::write(const TcpCompKnobs& knobs) const {
  // Ports first: the kernel compresses nothing while the set is empty, so a failure of the
  // second write never leaves a half-meant policy on a previously empty host.
  sysctl_.write(kTcpCompPortsSysctl, knobs.ports.to_string());
  sysctl_.write(kTcpCompLocalSysctl, knobs.local ? "1" : "0");
}

namespace {

nlohmann::json knobs_json(const TcpCompKnobs& k) { return {{"ports", k.ports.to_string()}, {"local", k.local}}; }

TcpCompKnobs knobs_from(const nlohmann::json& j) {
  TcpCompKnobs k;
  k.ports = PortSet::parse(j.at("ports").get<std::string>(), "ports");
  k.local = j.at("local").get<bool>();
  return k;
}

}  // namespace

std::optional<KernelCompRecord> KernelCompRecordStore::load() const {
  std::ifstream in(file_);
  if (!in) return std::nullopt;
  try {
    auto j = nlohmann::json::parse(in);
    KernelCompRecord r;
    r.policy = j.at("policy").get<std::string>();
    r.version = j.value("version", "");
    r.loaded_at = j.value("loaded_at", "");
    r.set = knobs_from(j.at("set"));
    r.before = knobs_from(j.at("before"));
    return r;
  } catch (const std::exception& e) {
    throw Error(Exit::failure, "record " + file_.string() + " is corrupt: " + e.what(),
                "inspect it and the kernel's net.ipv4.tcp_compression_* sysctls, then remove it");
  }
}

void KernelCompRecordStore::save(const KernelCompRecord& r) const {
  nlohmann::json j = {{"policy", r.policy},
                      {"version", r.version},
                      {"loaded_at", r.loaded_at},
                      {"set", knobs_json(r.set)},
                      {"before", knobs_json(r.before)}};
  replace_file(file_, j.dump(2) + "\n");
}

void KernelCompRecordStore::remove() const {
  std::error_code ec;
  std::filesystem::remove(file_, ec);
}

}  // namespace bpfplug
