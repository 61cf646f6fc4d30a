#include "contract_maps.hpp"

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "real_calls.hpp"

namespace bpfplug::preload {
namespace {

long sys_bpf(int cmd, bpf_attr& attr) { return ::syscall(SYS_bpf, cmd, &attr, sizeof(attr)); }

int obj_get(const std::string& path) {
  bpf_attr attr{};
  attr.pathname = reinterpret_cast<std::uint64_t>(path.c_str());
  attr.file_flags = 0;
  return static_cast<int>(sys_bpf(BPF_OBJ_GET, attr));
}

// `fd` is a socket-storage map with an int key and `value_size`-byte values.
bool is_contract_map(int fd, std::uint32_t value_size) {
  bpf_map_info info{};
  bpf_attr attr{};
  attr.info.bpf_fd = static_cast<std::uint32_t>(fd);
  attr.info.info_len = sizeof(info);
  attr.info.info = reinterpret_cast<std::uint64_t>(&info);
  if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, attr)) return false;
  return info.type == BPF_MAP_TYPE_SK_STORAGE && info.key_size == sizeof(int) && info.value_size == value_size;
}

// Socket `fd`'s entry in socket-storage map `map`, if it has one; errno untouched.
template <typename Value>
std::optional<Value> lookup(int map, int fd) {
  Value value{};
  bpf_attr attr{};
  attr.map_fd = static_cast<std::uint32_t>(map);
  attr.key = reinterpret_cast<std::uint64_t>(&fd);
  attr.value = reinterpret_cast<std::uint64_t>(&value);
  int saved = errno;
  bool found = sys_bpf(BPF_MAP_LOOKUP_ELEM, attr) == 0;
  errno = saved;
  if (!found) return std::nullopt;
  return value;
}

// Sets socket `fd`'s entry in socket-storage map `map`; false with errno.
template <typename Value>
bool update(int map, int fd, Value value, std::uint64_t flags) {
  bpf_attr attr{};
  attr.map_fd = static_cast<std::uint32_t>(map);
  attr.key = reinterpret_cast<std::uint64_t>(&fd);
  attr.value = reinterpret_cast<std::uint64_t>(&value);
  attr.flags = flags;
  return sys_bpf(BPF_MAP_UPDATE_ELEM, attr) == 0;
}

// A close-on-exec copy of `fd` above the numbers programs usually pick, so neither the
// program's closing nor its dup2 onto small numbers takes it away.
int private_copy(int fd) { return real().fcntl(fd, F_DUPFD_CLOEXEC, 100); }

}  // namespace

bool ContractMaps::open(std::string& why_not) {
  int ready = -1, verdict = -1;
  if (const char* fds = std::getenv("BPFPLUG_COMP_MAP_FDS")) {
    char* end = nullptr;
    long r = std::strtol(fds, &end, 10);
    long v = (end && *end == ',') ? std::strtol(end + 1, nullptr, 10) : -1;
    if (r >= 0 && v >= 0 && is_contract_map(static_cast<int>(r), sizeof(bpfplug_comp_ready)) &&
        is_contract_map(static_cast<int>(v), sizeof(bpfplug_comp_verdict))) {
      ready = private_copy(static_cast<int>(r));
      verdict = private_copy(static_cast<int>(v));
    }
  }
  if (ready < 0 || verdict < 0) {
    const char* root = std::getenv("BPFPLUG_PIN_ROOT");
    std::string dir = std::string(root && *root ? root : "/sys/fs/bpf/bpfplug") + "/" + BPFPLUG_COMP_PIN_DIR + "/";
    int r = obj_get(dir + BPFPLUG_COMP_READY_MAP);
    int v = r >= 0 ? obj_get(dir + BPFPLUG_COMP_VERDICT_MAP) : -1;
    if (r < 0 || v < 0) {
      why_not = "no compression maps: BPFPLUG_COMP_MAP_FDS is not set or not valid and " + dir + " can't be opened (" +
                std::strerror(errno) + "); start the program with bpfplug run after loading a compression policy";
      if (r >= 0) real().close(r);
      return false;
    }
    ready = private_copy(r);
    verdict = private_copy(v);
    real().close(r);
    real().close(v);
  }
  ready_ = ready;
  verdict_ = verdict;
  return ready_ >= 0 && verdict_ >= 0;
}

bool ContractMaps::mark_ready(int fd) const {
  return update(ready_, fd, bpfplug_comp_ready{BPFPLUG_COMP_CODEC_ZSTD_STREAM, 0}, BPF_ANY);
}

std::optional<bpfplug_comp_verdict> ContractMaps::verdict(int fd) const {
  return lookup<bpfplug_comp_verdict>(verdict_, fd);
}

std::optional<bpfplug_comp_ready> ContractMaps::ready(int fd) const { return lookup<bpfplug_comp_ready>(ready_, fd); }

void ContractMaps::mark_stream_started(int fd) const {
  int saved = errno;
  update(ready_, fd, bpfplug_comp_ready{BPFPLUG_COMP_CODEC_ZSTD_STREAM, BPFPLUG_COMP_READY_STREAM_STARTED}, BPF_EXIST);
  errno = saved;
}

ContractMaps& contract() {
  static ContractMaps maps;
  return maps;
}

}  // namespace bpfplug::preload
