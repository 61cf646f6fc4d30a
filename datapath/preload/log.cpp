#include "log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "real_calls.hpp"

namespace bpfplug::preload {
namespace {
int g_log_fd = 2;
}

void open_log() {
  const char* where = std::getenv("BPFPLUG_PRELOAD_LOG");
  if (!where || !*where || std::strcmp(where, "-") == 0) return;
  if (std::strcmp(where, "off") == 0) {
    g_log_fd = -1;
    return;
  }
  int fd = ::open(where, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) g_log_fd = real().fcntl(fd, F_DUPFD_CLOEXEC, 100);
  if (fd >= 0) real().close(fd);
}

void log_line(const char* format, ...) {
  if (g_log_fd < 0) return;
  int saved = errno;
  char line[512];
  int n = std::snprintf(line, sizeof(line), "bpfplug-preload[%d]: ", static_cast<int>(getpid()));
  va_list args;
  va_start(args, format);
  int m = std::vsnprintf(line + n, sizeof(line) - static_cast<std::size_t>(n) - 1, format, args);
  va_end(args);
  std::size_t len = std::min(sizeof(line) - 2, static_cast<std::size_t>(n) + static_cast<std::size_t>(m < 0 ? 0 : m));
  line[len++] = '\n';
  (void)!real().write(g_log_fd, line, len);
  errno = saved;
}

}  // namespace bpfplug::preload
