// bpfplug: register, inspect and unregister BPF congestion-control plugins.
#include <iostream>

#include "bpfplug/cli/cli.hpp"
#include "bpfplug/error.hpp"
#include "bpfplug/libbpf_log.hpp"

int main(int argc, char** argv) {
  bpfplug::route_libbpf_logs();  // before libbpf first speaks (reading the catalogue)
  bpfplug::Paths paths = bpfplug::Paths::from_environment();
  bpfplug::LinuxHost host(paths.bpffs());
  try {
    bpfplug::Catalogue catalogue = bpfplug::Catalogue::builtin();
    return bpfplug::cli::run_cli(argc, argv, host, catalogue, paths, std::cout, std::cerr);
  } catch (const bpfplug::Error& e) {  // a plugin of this build is malformed
    std::cerr << "error: " << e.what() << '\n';
    return static_cast<int>(e.code());
  }
}
