// Fault injection for the crash-safety tests: at each named point of a state-changing command
// bpfplug calls crash_point(NAME); when the environment variable BPFPLUG_CRASH_AT names that
// point the process kills itself with SIGKILL, exactly as an operator's `kill -9` or an OOM
// kill would stop it there. Unset (always, in production) it costs one getenv.
#pragma once

#include <string_view>

namespace bpfplug {

void crash_point(std::string_view name);

}  // namespace bpfplug
