// The preload library's side of the compression contract (struct_ops/bpfplug_comp.h), with raw
// bpf(2) calls so the program gains no libbpf: mark a socket ready before connect()/listen(),
// read a connection's verdict, record that its stream has started.
//
// Where the two maps come from, first that works:
// - BPFPLUG_COMP_MAP_FDS=READY,VERDICT: descriptors `bpfplug run` opened for the program (the
//   pins are root-only); checked to be socket-storage maps of the contract's sizes.
// - BPFPLUG_PIN_ROOT (default /sys/fs/bpf/bpfplug)/_comp/{ready,verdict}: a root program.
// Neither: the library stays out of the way (every call goes straight to libc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "bpfplug_comp.h"

namespace bpfplug::preload {

class ContractMaps {
 public:
  // Opens the maps as above; `why_not` says why not when it returns false.
  bool open(std::string& why_not);

  // Creates socket `fd`'s ready mark (codec: tcp_comp's zstd stream); false with errno.
  bool mark_ready(int fd) const;
  // The verdict the policy recorded for connection `fd`, if any.
  std::optional<bpfplug_comp_verdict> verdict(int fd) const;
  // The socket's ready mark, if it has one (flags: BPFPLUG_COMP_READY_*).
  std::optional<bpfplug_comp_ready> ready(int fd) const;
  // Records in the socket's mark that its compressed stream has started.
  void mark_stream_started(int fd) const;

 private:
  int ready_ = -1, verdict_ = -1;  // close-on-exec copies of our own
};

ContractMaps& contract();

}  // namespace bpfplug::preload
