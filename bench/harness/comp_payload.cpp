#include "comp_payload.hpp"

#include <cstring>
#include <fstream>
#include <iterator>
#include <random>

#include "bpfplug/comp_calibration.hpp"
#include "bpfplug/error.hpp"

namespace bpfplug::bench {

std::string payload_block(const std::string& payload) {
  if (payload == "text") return builtin_corpus(kPayloadBlockBytes);
  if (payload == "random") {
    std::string block(kPayloadBlockBytes, '\0');
    std::mt19937_64 rng(0x62706670);  // fixed: every process and machine sends the same bytes
    for (std::size_t i = 0; i < block.size(); i += sizeof(std::uint64_t)) {
      std::uint64_t v = rng();
      std::memcpy(block.data() + i, &v, sizeof v);
    }
    return block;
  }
  std::ifstream in(payload, std::ios::binary);
  if (!in) throw Error(Exit::usage, "can't read payload file " + payload + ": " + errno_text(errno), "check the path");
  std::string block((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (block.empty()) throw Error(Exit::usage, "payload file " + payload + " is empty", "give a file with data in it");
  return block;
}

}  // namespace bpfplug::bench
