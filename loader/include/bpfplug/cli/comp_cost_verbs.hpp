// The CLI's comp-cost verbs: `bpfplug calibrate` (measure the codec, write it into the loaded
// policy), `bpfplug agent` (keep the policy's CPU headroom current) and what
// `bpfplug status comp-cost --explain` adds (the model's inputs and its recent decisions).
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "bpfplug/host.hpp"
#include "bpfplug/paths.hpp"

namespace bpfplug::cli {

struct CalibrateArgs {
  std::string corpus;  // a file; empty: the built-in corpus
  int level = 1;
  double seconds = 0.3;  // at least this long each way
  // Known values instead of measuring (all three): R, and Vc, Vd in MB/s (10^6 bytes/s).
  std::optional<double> ratio, vc_mbytes, vd_mbytes;
};

struct AgentArgs {
  double interval_s = 1;
  bool once = false;
  std::optional<unsigned> headroom;  // a fixed value instead of measuring (implies once)
};

int do_calibrate(bool json, const CalibrateArgs& args, Host& host, const Paths& paths, std::ostream& out);
int do_agent(bool json, const AgentArgs& args, Host& host, const Paths& paths, std::ostream& out);

// comp-cost's inputs and recent decisions; throws Error if comp-cost is not loaded.
nlohmann::json explain_comp_cost(const Paths& paths);
void print_explain(std::ostream& out, const nlohmann::json& explained);

}  // namespace bpfplug::cli
