// The fixture of the command line's unit tests: run_cli() on a FakeHost, with every path bpfplug
// uses (pins, state, boot config) in a temporary directory, never the real ones, even as root.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bpfplug/catalogue.hpp"
#include "bpfplug/paths.hpp"
#include "cli_run.hpp"
#include "fake_host.hpp"

namespace bpfplug::test {

class CliTest : public ::testing::Test {
 protected:
  CliRun run(std::vector<std::string> args) { return run_cli(host_, catalogue_, paths(), std::move(args)); }
  Paths paths() const { return {dir_.path() / "bpffs/bpfplug", dir_.path() / "state", dir_.path() / "etc/bpfplug"}; }

  TempDir dir_;
  FakeHost host_{dir_.path() / "sys"};
  Catalogue catalogue_ = Catalogue::builtin();
};

}  // namespace bpfplug::test
