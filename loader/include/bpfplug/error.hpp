// The one user-facing error type: what happened, what to do, and the exit code it maps to.
// Thrown by the library, caught only in the CLI's main (and by tests).
#pragma once

#include <stdexcept>
#include <string>

namespace bpfplug {

// Process exit codes, documented in docs/cli.md.
enum class Exit : int {
  ok = 0,
  failure = 1,      // the kernel or the system refused an operation
  usage = 2,        // bad arguments: unknown plugin, malformed --set, unknown verb
  permission = 3,   // not root / missing capabilities
  unsupported = 4,  // the kernel or host lacks what is needed (BTF, struct_ops, bpffs)
  conflict = 5,     // the state forbids it: already loaded, not loaded, name clash, in use
};

class Error : public std::runtime_error {
 public:
  Error(Exit code, std::string message, std::string hint = {})
      : std::runtime_error(std::move(message)), code_(code), hint_(std::move(hint)) {}

  Exit code() const noexcept { return code_; }
  const std::string& hint() const noexcept { return hint_; }

 private:
  Exit code_;
  std::string hint_;
};

// strerror() for a positive or negative errno value (libbpf returns -errno).
std::string errno_text(int err);

}  // namespace bpfplug
