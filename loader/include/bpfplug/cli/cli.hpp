// The bpfplug command line: parses arguments, runs one verb, prints text or JSON.
// main() only builds the real Host; tests call run_cli() with their own.
#pragma once

#include <iosfwd>

#include "bpfplug/catalogue.hpp"
#include "bpfplug/host.hpp"
#include "bpfplug/paths.hpp"

namespace bpfplug::cli {

// Returns the process exit code (bpfplug::Exit). Never throws.
int run_cli(int argc, const char* const* argv, Host& host, const Catalogue& catalogue, const Paths& paths,
            std::ostream& out, std::ostream& err);

}  // namespace bpfplug::cli
