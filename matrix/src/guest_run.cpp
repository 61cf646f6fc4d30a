#include "bpfplug/matrix/guest_run.hpp"

#include <fstream>

#include "bpfplug/matrix/error.hpp"
#include "bpfplug/matrix/subprocess.hpp"

namespace bpfplug::matrix {

std::vector<std::string> qemu_command(const GuestBoot& boot) {
  return {boot.qemu,
          "-accel", "tcg",
          "-cpu", boot.cpu,
          "-m", std::to_string(boot.memory_mb),
          "-smp", "1",
          "-nographic",   // serial console on stdout, no display
          "-no-reboot",   // a guest reboot (panic=-1, a dead /init) ends qemu
          "-nic", "none",  // the guest makes its own networks (namespaces, veth)
          "-kernel", boot.kernel.string(),
          "-initrd", boot.initrd.string(),
          "-append", boot.append};
}

BootOutcome boot_guest(const GuestBoot& boot) {
  for (const auto& input : {boot.kernel, boot.initrd})
    if (!std::filesystem::exists(input)) throw MatrixError("can't boot: no " + input.string());
  std::ofstream(boot.log, std::ios::trunc);  // the log holds this boot only
  Bounded run = run_bounded(qemu_command(boot), boot.log, boot.timeout);
  if (run.exit_code == 127) throw MatrixError("can't run " + boot.qemu + " (install qemu-system-x86)");
  return {run.exit_code, run.timed_out, run.wall_seconds};
}

}  // namespace bpfplug::matrix
