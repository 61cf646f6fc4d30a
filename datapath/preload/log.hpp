// The preload library's log lines: "bpfplug-preload[PID]: ..." on the program's stderr, or into
// the file named by BPFPLUG_PRELOAD_LOG ("off": nowhere). Written with one write(2) each, so
// lines from several threads and processes do not mix.
#pragma once

namespace bpfplug::preload {

void open_log();
void log_line(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace bpfplug::preload
