// The guest's /init: a busybox shell script that sets the machine up, runs one command, sends
// the results out on the serial console between markers (markers.hpp) and powers off.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bpfplug::matrix {

struct InitModule {
  std::string name;
  std::string path;   // guest path to insmod; empty when `state` says why there is nothing to load
  std::string state;  // "builtin" or "missing" when path is empty
};

struct InitSpec {
  std::vector<InitModule> modules;       // in insmod order, dependencies first
  std::string cli;                       // bpfplug in the guest, for `bpfplug --json probe`
  std::vector<std::string> command;      // argv run inside (the kernel test binary, or a debug shell)
  std::string gtest_output;              // the JSON file the command writes; empty: none expected
  unsigned command_timeout_seconds = 0;  // killed inside the guest after this; 0: no limit
};

// Quotes a word for a POSIX shell: 'it'\''s'.
std::string shell_quote(std::string_view word);

// Pure: the text of /init. Mounts proc, sysfs, devtmpfs, and tmpfs on /run (not bpffs: bpfplug
// mounts that itself, and a test checks that it does; not /tmp, which would hide the host files
// under /tmp); brings lo up; insmods the modules; prints the markers; runs the command; powers off
// whatever happened.
std::string render_init_script(const InitSpec& spec);

}  // namespace bpfplug::matrix
