#include "bpfplug/libbpf_log.hpp"

#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>
#include <string>

namespace bpfplug {
namespace {

int forward(enum libbpf_print_level level, const char* format, va_list args) {
  char text[4096];
  std::vsnprintf(text, sizeof text, format, args);
  std::string line(text);
  while (!line.empty() && line.back() == '\n') line.pop_back();
  // libbpf warnings (verifier logs included) matter only when something failed; the caller
  // reports the failure itself, so they go to debug like the rest (shown with -v).
  (void)level;
  spdlog::debug("libbpf: {}", line);
  return 0;
}

}  // namespace

void route_libbpf_logs() { libbpf_set_print(forward); }

}  // namespace bpfplug
