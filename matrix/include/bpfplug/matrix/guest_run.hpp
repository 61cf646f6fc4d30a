// Boots a guest kernel with an initramfs under qemu (TCG: no hardware virtualisation here),
// serial console to a log file, bounded in wall time.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace bpfplug::matrix {

struct GuestBoot {
  std::filesystem::path kernel;  // vmlinuz
  std::filesystem::path initrd;
  std::filesystem::path log;     // the serial console (ttyS0), truncated first
  std::string append = "console=ttyS0 panic=-1 quiet rdinit=/init";
  unsigned memory_mb = 2048;
  // Every feature TCG emulates but CMPXCHG16B: with it, qemu 7.2's TCG corrupts EFLAGS in the
  // guest's SLUB fast path (this_cpu_cmpxchg128) and Linux 6.12 dies of a double fault in
  // kmem_cache_alloc within minutes; without it SLUB takes its locked path (README-runner.md).
  std::string cpu = "max,-cx16";
  std::chrono::seconds timeout{600};
  std::string qemu = "qemu-system-x86_64";
};

struct BootOutcome {
  int exit_code = -1;  // qemu's; 0 after the guest powers off
  bool timed_out = false;
  double wall_seconds = 0;
};

// Pure: the qemu command line. -no-reboot with panic=-1 turns a guest panic into qemu exiting.
std::vector<std::string> qemu_command(const GuestBoot& boot);

// Boots and waits; a guest still running at the timeout is killed with its process group.
BootOutcome boot_guest(const GuestBoot& boot);

}  // namespace bpfplug::matrix
