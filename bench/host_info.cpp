#include "host_info.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>
#include <fstream>

namespace bpfplug::bench {

HostInfo host_info() {
  HostInfo h;
  utsname u{};
  uname(&u);
  h.kernel = u.release;
  std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  h.date = date;
  h.cpus = sysconf(_SC_NPROCESSORS_ONLN);
  h.cpu = "unknown CPU";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);)
    if (line.starts_with("model name") && line.find(": ") != std::string::npos) {
      h.cpu = line.substr(line.find(": ") + 2);
      break;
    }
  std::ifstream loadavg("/proc/loadavg");
  std::getline(loadavg, h.loadavg);
  return h;
}

std::string host_line(const HostInfo& h) {
  return "host: Linux " + h.kernel + ", " + h.cpu + ", " + std::to_string(h.cpus) + " CPUs, " + h.date;
}

}  // namespace bpfplug::bench
