#include "bpfplug/error.hpp"

#include <cstdlib>
#include <cstring>

namespace bpfplug {

std::string errno_text(int err) { return std::strerror(std::abs(err)); }

}  // namespace bpfplug
