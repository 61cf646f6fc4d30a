#include "bpfplug/paths.hpp"

#include <cstdlib>

namespace bpfplug {

Paths Paths::from_environment() {
  Paths p;
  if (const char* pin = std::getenv("BPFPLUG_PIN_ROOT"); pin && *pin) p.pin_root = pin;
  if (const char* state = std::getenv("BPFPLUG_STATE_DIR"); state && *state) p.state_dir = state;
  if (const char* config = std::getenv("BPFPLUG_CONFIG_DIR"); config && *config) p.config_dir = config;
  return p;
}

}  // namespace bpfplug
