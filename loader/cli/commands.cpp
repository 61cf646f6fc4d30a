#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <iostream>
#include <optional>

#include "bpfplug/boot_config.hpp"
#include "bpfplug/cli/cli.hpp"
#include "bpfplug/cli/comp_cost_verbs.hpp"
#include "bpfplug/cli/run_verb.hpp"
#include "bpfplug/cli/render.hpp"
#include "bpfplug/file_lock.hpp"
#include "bpfplug/libbpf_log.hpp"
#include "bpfplug/plugin_manager.hpp"
#include "bpfplug/policy_manager.hpp"
#include "bpfplug/reconcile.hpp"
#include "harness/cc_bench.hpp"
#include "harness/comp_bench.hpp"
#include "harness/comp_peer.hpp"

namespace bpfplug::cli {
namespace {

struct Invocation {
  bool json = false;
  bool verbose = false;
  std::string plugin;
  LoadOptions load;
  SwapOptions swap;
  bool all = false;
  bool force = false;
  std::string cgroup;  // load of a policy: --cgroup
  std::string mechanism;  // load of a policy: --mechanism auto|user|kernel
  bool explain = false;  // status comp-cost --explain
};

bool is_policy(const Catalogue& catalogue, const std::string& name) {
  const auto* entry = catalogue.find(name);
  return entry && entry->meta.kind == "policy";
}

void setup_logging(bool verbose) {
  auto logger = spdlog::get("bpfplug");
  if (!logger) {
    logger = spdlog::stderr_color_mt("bpfplug");
    logger->set_pattern("%^%l%$: %v");
    spdlog::set_default_logger(logger);
  }
  spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::warn);
  route_libbpf_logs();
}

// The first word that is not an option, when it names no verb.
std::optional<std::string> unknown_verb(int argc, const char* const* argv, const CLI::App& app) {
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word.starts_with("-")) continue;
    for (const auto* sub : app.get_subcommands({})) if (sub->get_name() == word) return std::nullopt;
    return word;
  }
  return std::nullopt;
}

void emit(std::ostream& out, const nlohmann::json& j) { out << j.dump(2) << '\n'; }

int do_list(const Invocation& inv, PluginManager& manager, PolicyManager& policies, std::ostream& out) {
  auto loaded = manager.loaded();
  for (const auto& p : policies.loaded()) loaded.push_back(p);
  ListView view{manager.catalogue(), loaded, manager.recorded_state().plugins, manager.kernel_congestion()};
  if (inv.json) emit(out, to_json(view));
  else print_list(out, view);
  return 0;
}

int do_load_policy(const Invocation& inv, PolicyManager& policies, std::ostream& out) {
  if (inv.load.make_default || inv.load.allow || !inv.load.variant.empty())
    throw Error(Exit::usage, inv.plugin + " is a compression policy: --default, --allow and --variant are for congestion controls",
                "bpfplug load " + inv.plugin + " [--set KEY=VALUE] [--cgroup PATH] [--mechanism auto|user|kernel]");
  PolicyLoadOptions options{inv.load.assignments, inv.cgroup};
  if (!inv.mechanism.empty()) options.mechanism = parse_comp_mechanism(inv.mechanism);
  auto st = policies.load(inv.plugin, options);
  if (inv.json) emit(out, to_json(st));
  else print_policy(out, st, "loaded");
  return 0;
}

int do_load(const Invocation& inv, PluginManager& manager, PolicyManager& policies, std::ostream& out) {
  if (is_policy(manager.catalogue(), inv.plugin)) return do_load_policy(inv, policies, out);
  if (!inv.cgroup.empty() || !inv.mechanism.empty())
    throw Error(Exit::usage,
                std::string(inv.cgroup.empty() ? "--mechanism" : "--cgroup") + " is for compression policies; " +
                    inv.plugin + " is a congestion control",
                "a congestion control is chosen per socket or system-wide (--default)");
  auto result = manager.load(inv.plugin, inv.load);
  if (inv.json) emit(out, to_json(result));
  else print_load(out, result);
  return 0;
}

int do_swap(const Invocation& inv, PluginManager& manager, std::ostream& out) {
  if (is_policy(manager.catalogue(), inv.plugin))
    throw Error(Exit::usage, inv.plugin + " is a compression policy, and policies are not swapped in place",
                "bpfplug unload " + inv.plugin + " and load it again with the new settings");
  auto result = manager.swap(inv.plugin, inv.swap);
  if (inv.json) emit(out, to_json(result));
  else print_swap(out, result);
  return 0;
}

int do_repair(const Invocation& inv, PluginManager& manager, std::ostream& out) {
  auto done = manager.repair();
  if (inv.json) emit(out, {{"repaired", done}});
  else print_repair(out, done);
  return 0;
}

int do_restore(const Invocation& inv, PluginManager& manager, std::ostream& out) {
  auto result = manager.restore(inv.force);
  if (inv.json) emit(out, to_json(result));
  else print_restore(out, result);
  return 0;
}

int do_unload(const Invocation& inv, PluginManager& manager, PolicyManager& policies, std::ostream& out) {
  if (inv.all == !inv.plugin.empty())
    throw Error(Exit::usage, "unload needs a plugin NAME or --all (not both)", "bpfplug unload dctcp");
  if (!inv.all && is_policy(manager.catalogue(), inv.plugin)) {
    auto st = policies.unload(inv.plugin);
    if (inv.json) emit(out, to_json(st));
    else print_policy(out, st, "unloaded");
    return 0;
  }
  std::vector<PolicyStatus> policy_results;
  if (inv.all)
    for (const auto& name : policies.loaded()) policy_results.push_back(policies.unload(name));
  std::vector<UnloadResult> results =
      inv.all ? manager.unload_all(inv.force) : std::vector{manager.unload(inv.plugin, inv.force)};
  if (inv.json) {
    auto arr = nlohmann::json::array();
    for (const auto& r : results) arr.push_back(to_json(r));
    for (const auto& p : policy_results) arr.push_back(to_json(p));
    emit(out, inv.all ? nlohmann::json{{"unloaded", arr}} : arr.at(0));
  } else {
    for (const auto& r : results) print_unload(out, r);
    for (const auto& p : policy_results) print_policy(out, p, "unloaded");
    if (inv.all && results.empty() && policy_results.empty()) out << "no plugin was loaded\n";
  }
  return 0;
}

int do_status(const Invocation& inv, PluginManager& manager, PolicyManager& policies, const Paths& paths,
              std::ostream& out) {
  if (inv.explain && inv.plugin != kCompCostPlugin)
    throw Error(Exit::usage, "--explain is for comp-cost, the policy that weighs inputs",
                "bpfplug status comp-cost --explain");
  if (is_policy(manager.catalogue(), inv.plugin)) {
    auto st = policies.status(inv.plugin);
    auto explained = inv.explain ? explain_comp_cost(paths) : nlohmann::json();
    if (inv.json) {
      auto j = to_json(st);
      if (inv.explain) j["explain"] = explained;
      emit(out, j);
      return 0;
    }
    print_policy(out, st, "");
    if (inv.explain) print_explain(out, explained);
    return 0;
  }
  std::vector<PolicyStatus> policy_statuses;
  if (inv.plugin.empty())
    for (const auto& name : policies.loaded()) policy_statuses.push_back(policies.status(name));
  std::vector<std::string> names = inv.plugin.empty() ? manager.loaded() : std::vector{inv.plugin};
  std::vector<PluginStatus> statuses;
  for (const auto& name : names) statuses.push_back(manager.status(name));
  auto kernel = manager.kernel_congestion();
  auto problems = manager.diagnose();
  if (!inv.plugin.empty())
    std::erase_if(problems, [&](const auto& p) { return !p.plugin.empty() && p.plugin != inv.plugin; });
  if (inv.json) {
    auto problem_list = nlohmann::json::array();
    for (const auto& p : problems) problem_list.push_back(to_json(p));
    if (!inv.plugin.empty()) {
      auto j = to_json(statuses.at(0));
      j["problems"] = problem_list;
      emit(out, j);
    } else {
      auto arr = nlohmann::json::array();
      for (const auto& s : statuses) arr.push_back(to_json(s));
      auto policy_arr = nlohmann::json::array();
      for (const auto& p : policy_statuses) policy_arr.push_back(to_json(p));
      emit(out, {{"plugins", arr}, {"policies", policy_arr}, {"default", kernel.current_default}, {"problems", problem_list}});
    }
    return 0;
  }
  print_problems(out, problems);
  if (statuses.empty() && policy_statuses.empty())
    out << "no plugin loaded (bpfplug list shows the plugins this build carries)\n";
  for (const auto& s : statuses) print_status(out, s, kernel);
  for (const auto& p : policy_statuses) print_policy(out, p, "");
  return 0;
}

int do_probe(const Invocation& inv, Host& host, std::ostream& out) {
  auto features = host.features();
  if (inv.json) emit(out, to_json(features, host.privileged()));
  else print_probe(out, features, host.privileged());
  return 0;
}

// Boot persistence: enable and disable edit the boot config (systemctl's convention: --now also
// applies the change); apply makes the kernel match it, and is what bpfplug.service runs.
struct BootArgs {
  std::string plugin;
  EnableOptions enable;
  bool now = false;      // enable/disable: also load/unload it now
  bool dry_run = false;  // apply: only say what it would do
};

void require_root(const Host& host, const Paths& paths, const std::string& what, const std::string& command) {
  if (!host.privileged())
    throw Error(Exit::permission, "can't " + what + ": Permission denied (" + paths.config_file().string() +
                                      " and the plugins are root's)",
                "run as root (sudo bpfplug " + command + ")");
}

int do_enable(const Invocation& inv, const BootArgs& args, Host& host, PluginManager& manager, std::ostream& out,
              std::ostream& err) {
  // Arguments first, as load does: a typo gets the same answer with or without privileges.
  BootEntry entry = make_boot_entry(manager.catalogue(), args.plugin, args.enable);
  require_root(host, manager.paths(), "enable plugin " + args.plugin + " at boot", "enable " + args.plugin);
  BootConfigStore store(manager.paths().config_file());
  EnableResult result;
  {
    FileLock lock(manager.paths().lock_file());
    BootConfig config = store.load();
    result = enable_at_boot(config, args.plugin, entry);
    store.save(config);
  }
  std::optional<ReconcileReport> applied;
  if (args.now) {
    // Only this plugin: the others of the config are applied at boot or by bpfplug apply.
    applied = reconcile(manager, BootConfig{{{args.plugin, result.entry}}});
    std::erase_if(applied->plugins, [](const auto& r) { return r.outcome == StepOutcome::unmanaged; });
  }
  if (inv.json) {
    auto j = to_json(result, store.file());
    if (applied) j["applied"] = to_json(*applied, store.file());
    emit(out, j);
  } else {
    print_enable(out, result, store.file());
    if (applied) print_reconcile(out, *applied, store.file());
    else out << "  bpfplug.service loads it at boot; bpfplug apply (or enable --now) loads it now\n";
  }
  if (applied && !applied->ok() && !inv.json)
    err << "error: " << args.plugin << " is enabled at boot, but applying it now failed (see above)\n";
  return static_cast<int>(applied ? applied->exit_code() : Exit::ok);
}

int do_disable(const Invocation& inv, const BootArgs& args, Host& host, PluginManager& manager, std::ostream& out,
               std::ostream& err) {
  BootConfigStore store(manager.paths().config_file());
  {
    BootConfig check = store.load();
    disable_at_boot(check, manager.catalogue(), args.plugin);  // throws: unknown plugin, did you mean
  }
  require_root(host, manager.paths(), "disable plugin " + args.plugin + " at boot", "disable " + args.plugin);
  DisableResult result;
  {
    FileLock lock(manager.paths().lock_file());
    BootConfig config = store.load();
    result = disable_at_boot(config, manager.catalogue(), args.plugin);
    if (result.removed) store.save(config);
  }
  std::optional<UnloadResult> unloaded;
  std::optional<Error> unload_error;
  bool was_loaded = false;
  if (args.now) {
    auto names = manager.loaded();
    was_loaded = std::find(names.begin(), names.end(), args.plugin) != names.end();
    try {
      if (was_loaded) unloaded = manager.unload(args.plugin, false);
    } catch (const Error& e) {
      unload_error = e;
    }
  }
  if (inv.json) {
    auto j = to_json(result, store.file());
    if (args.now) j["unloaded"] = unloaded ? to_json(*unloaded) : nlohmann::json(nullptr);
    if (unload_error) j.update(to_json(*unload_error));
    emit(out, j);
  } else {
    print_disable(out, result, store.file());
    if (unloaded) print_unload(out, *unloaded);
    if (args.now && !was_loaded) out << args.plugin << " is not loaded; nothing to unload\n";
    if (unload_error) print_error(err, *unload_error);
  }
  return static_cast<int>(unload_error ? unload_error->code() : Exit::ok);
}

int do_apply(const Invocation& inv, const BootArgs& args, Host& host, PluginManager& manager, std::ostream& out,
             std::ostream& err) {
  BootConfigStore store(manager.paths().config_file());
  BootConfig config = store.load();
  require_root(host, manager.paths(),
               args.dry_run ? "plan the boot config (bpffs is root-only)" : "apply the boot config",
               args.dry_run ? "apply --dry-run" : "apply");
  ReconcileReport report = reconcile(manager, config, args.dry_run);
  if (inv.json) emit(out, to_json(report, store.file()));
  else print_reconcile(out, report, store.file());
  if (!report.ok() && !inv.json) {
    std::size_t failed = std::count_if(report.plugins.begin(), report.plugins.end(),
                                       [](const auto& r) { return r.outcome == StepOutcome::failed; });
    err << "error: " << failed << " plugin(s) of the boot config could not be applied (see above)\n";
  }
  return static_cast<int>(report.exit_code());
}

// Ctrl-C and SIGTERM stop a benchmark between steps, for as long as this lives; it still cleans up.
class StopBenchOnSignal {
 public:
  StopBenchOnSignal()
      : int_(std::signal(SIGINT, stop)), term_(std::signal(SIGTERM, stop)) {}
  ~StopBenchOnSignal() {
    std::signal(SIGINT, int_);
    std::signal(SIGTERM, term_);
  }
  StopBenchOnSignal(const StopBenchOnSignal&) = delete;
  StopBenchOnSignal& operator=(const StopBenchOnSignal&) = delete;

 private:
  static void stop(int) { bench::bench_interrupted = true; }
  void (*int_)(int);
  void (*term_)(int);
};

// bpfplug bench: a long-running verb.
int do_bench(const Invocation& inv, const bench::BenchWords& words, std::ostream& out, std::ostream& err) {
  bench::BenchConfig config = bench::resolve(words);  // argument errors before privileges, as load
  StopBenchOnSignal stop;
  return bench::run_cc_bench(config, out, err, inv.json);
}

// bpfplug bench --comp.
int do_comp_bench(const Invocation& inv, const bench::CompBenchWords& words, std::ostream& out, std::ostream& err) {
  bench::CompBenchConfig config = bench::resolve_comp(words);
  std::filesystem::path preload;
  if (std::any_of(config.policies.begin(), config.policies.end(), [](const auto& p) { return p != "none"; }))
    preload = preload_library();
  StopBenchOnSignal stop;
  return bench::run_comp_bench(config, preload, out, err, inv.json);
}

}  // namespace

int run_cli(int argc, const char* const* argv, Host& host, const Catalogue& catalogue, const Paths& paths,
            std::ostream& out, std::ostream& err) {
  Invocation inv;
  CLI::App app{"bpfplug: load, inspect and unload BPF struct_ops plugins (TCP congestion control)"};
  app.name("bpfplug");
  app.add_flag("-j,--json", inv.json, "Print JSON, errors included");
  app.add_flag("-v,--verbose", inv.verbose, "Show libbpf and verifier diagnostics on stderr");
  app.set_version_flag("--version", std::string("bpfplug ") + BPFPLUG_VERSION);
  app.require_subcommand(1, 1);
  app.fallthrough();  // global flags may follow the verb: bpfplug list --json

  auto* list = app.add_subcommand("list", "The plugins this build carries, their state, and the kernel's algorithms");
  auto* load = app.add_subcommand("load", "Register plugin NAME in the kernel; it stays after bpfplug exits");
  load->add_option("NAME", inv.plugin, "Plugin to load (see bpfplug list)")->required();
  load->add_option("--variant", inv.load.variant, "Load this variant of the plugin (bpfplug list shows them)");
  load->add_flag("--default", inv.load.make_default,
                 "Also make it the system default (net.ipv4.tcp_congestion_control); unload restores the old one");
  load->add_flag("--allow", inv.load.allow,
                 "Add it to net.ipv4.tcp_allowed_congestion_control so unprivileged programs may choose it");
  load->add_option("--set", inv.load.assignments,
                   "Set a tunable or a policy's port set before load (repeatable): --set KEY=VALUE");
  load->add_option("--cgroup", inv.cgroup,
                   "Policies: attach to this cgroup v2 (a path, absolute or under the cgroup v2 mount; default: its root)");
  load->add_option("--mechanism", inv.mechanism,
                   "Policies: what compresses: user (bpfplug's user-space data path), kernel (openEuler tcp_comp, "
                   "comp-ports only) or auto (kernel where tcp_comp exists; the default)");
  auto* swap = app.add_subcommand(
      "swap", "Replace the running implementation of plugin NAME under the same registered name, atomically");
  swap->add_option("NAME", inv.plugin, "Loaded plugin to swap")->required();
  swap->add_option("--to", inv.swap.variant, "Switch to this variant (bpfplug list shows them)");
  swap->add_option("--object", inv.swap.object, "Switch to a BPF object you built with bpfplug's headers");
  swap->add_option("--set", inv.swap.assignments,
                   "Set a tunable of the new implementation (repeatable); others take its defaults");
  auto* repair = app.add_subcommand("repair", "Finish or roll back changes a killed bpfplug left half-done");
  auto* restore = app.add_subcommand(
      "restore", "Unload every plugin and put the default and allowed congestion controls back as bpfplug found them");
  restore->add_flag("--force", inv.force, "Even while connections use a plugin (they keep it until they close)");
  auto* unload = app.add_subcommand("unload", "Unregister plugin NAME (restores the default if it was the default)");
  unload->add_option("NAME", inv.plugin, "Plugin to unload");
  unload->add_flag("--all", inv.all, "Unload every loaded plugin");
  unload->add_flag("--force", inv.force,
                   "Unload even while connections use it (they keep the old algorithm until they close)");
  auto* status = app.add_subcommand("status", "What is loaded: kernel ids, sockets using it, tunables, counters");
  status->add_option("NAME", inv.plugin, "Only this plugin");
  status->add_flag("--explain", inv.explain,
                   "comp-cost: also its model's inputs, path estimates and recent decisions with their inputs");
  CalibrateArgs calibrate_args;
  auto* calibrate = app.add_subcommand(
      "calibrate", "Measure the compression codec on this machine (R, Vc, Vd) and write it into comp-cost if loaded");
  calibrate->add_option("--corpus", calibrate_args.corpus, "Calibrate on this file (default: the built-in corpus)");
  calibrate->add_option("--level", calibrate_args.level, "zstd level")->capture_default_str();
  calibrate->add_option("--seconds", calibrate_args.seconds, "Measure at least this long each way")
      ->capture_default_str();
  calibrate->add_option("--ratio", calibrate_args.ratio, "Known R (compressed/original) instead of measuring");
  calibrate->add_option("--vc", calibrate_args.vc_mbytes, "Known compression speed, MB/s (with --ratio and --vd)");
  calibrate->add_option("--vd", calibrate_args.vd_mbytes, "Known decompression speed, MB/s (with --ratio and --vc)");
  AgentArgs agent_args;
  auto* agent = app.add_subcommand("agent", "Keep comp-cost's CPU-headroom input current (runs until stopped)");
  agent->add_option("--interval", agent_args.interval_s, "Seconds between updates")->capture_default_str();
  agent->add_flag("--once", agent_args.once, "Write one measurement and exit");
  agent->add_option("--headroom", agent_args.headroom, "Write this headroom (percent of one CPU) once, not measured");
  auto* probe = app.add_subcommand("probe", "What this kernel supports and which bpfplug features work here");
  BootArgs boot;
  auto* enable =
      app.add_subcommand("enable", "Record plugin NAME in the boot config: bpfplug.service loads it at boot");
  enable->add_option("NAME", boot.plugin, "Plugin to load at boot (see bpfplug list)")->required();
  enable->add_option("--variant", boot.enable.variant, "Which variant to load (default: the default variant)");
  enable->add_flag("--default", boot.enable.make_default,
                   "Also make it the system default at boot (moves the default from another enabled plugin)");
  enable->add_flag("--allow", boot.enable.allow, "Also let unprivileged programs choose it");
  enable->add_option("--set", boot.enable.assignments, "Set a tunable (repeatable): --set KEY=VALUE");
  enable->add_flag("--now", boot.now, "Also apply it now (load it, or swap it to the recorded settings)");
  auto* disable = app.add_subcommand("disable", "Remove plugin NAME from the boot config");
  disable->add_option("NAME", boot.plugin, "Plugin not to load at boot any more")->required();
  disable->add_flag("--now", boot.now, "Also unload it now");
  bench::BenchWords bench_words;
  auto* bench = app.add_subcommand(
      "bench", "Run congestion controls side by side over an emulated path: goodput, delay, fairness, CPU; table, JSON, plot");
  bench->add_option("ALGO", bench_words.algorithms,
                    "Congestion controls to compare: the kernel's (cubic, reno, bbr, ...) and bpfplug's (bpf_cubic, ...; "
                    "loaded for the run)");
  auto* rate_opt =
      bench->add_option("--rate", bench_words.rate, "Bottleneck rate, as tc writes it (10mbit, 1gbit)")->capture_default_str();
  auto* rtt_opt = bench->add_option("--rtt", bench_words.rtt, "Round-trip propagation delay (40ms; 0: none added; --comp: 0)")
                      ->capture_default_str();
  auto* buffer_opt =
      bench->add_option("--buffer", bench_words.buffer,
                        "Bottleneck buffer: bytes (256kb), packets (100pkt) or BDPs (1bdp); --comp: max(1bdp, 100pkt)")
          ->capture_default_str();
  std::vector<CLI::Option*> cc_only = {
      rate_opt,
      bench->add_option("--ecn-k", bench_words.ecn_k, "Mark CE above this queue (e.g. 20pkt); default: no marking"),
      bench->add_option("--loss", bench_words.loss, "Random loss at the bottleneck (1% or 0.01)")->capture_default_str(),
      bench->add_option("--flows", bench_words.flows, "Bulk flows per trial")->capture_default_str(),
      bench->add_option("--stagger", bench_words.stagger,
                        "Time between bulk flow starts (default: the last starts at half the duration)"),
      bench->add_option("--short-flows", bench_words.short_flows_per_s,
                        "Also start short flows, this many per second (Poisson)"),
      bench->add_option("--short-size", bench_words.short_flow_size, "Size of each short flow")->capture_default_str(),
      bench->add_option("--sample-every", bench_words.sample_every, "TCP_INFO sampling interval (1ms..100ms)")
          ->capture_default_str(),
      bench->add_flag("--no-bpf-stats", bench_words.no_bpf_stats, "Do not measure the plugins' BPF run time per call"),
      bench->add_option("--plot", bench_words.plot_file, "Draw the results into FILE (.png or .svg) with gnuplot")};
  auto* duration_opt = bench->add_option("--duration", bench_words.duration_s,
                                         "Seconds per trial (--comp: each transfer's size, as seconds at the path's "
                                         "rate uncompressed; default 4)")
                           ->capture_default_str();
  bench->add_option("--runs", bench_words.runs, "Trials per algorithm, interleaved")->capture_default_str();
  bench->add_option("--json", bench_words.json_file, "Also write every figure and time series to FILE as JSON");
  bench::CompBenchWords comp_words;
  bool comp = false;
  auto* comp_flag = bench->add_flag(
      "--comp", comp,
      "Benchmark the compression data path instead: no compression vs comp-ports vs comp-cost, per path and payload");
  for (auto* o : cc_only) o->excludes(comp_flag);
  auto comp_list = [&](const char* name, std::vector<std::string>& into, const char* help) {
    bench->add_option(name, into, help)->delimiter(',')->capture_default_str()->needs(comp_flag);
  };
  comp_list("--rates", comp_words.rates, "--comp: the paths, bottleneck rates and/or unshaped (the bare veth)");
  comp_list("--payloads", comp_words.payloads, "--comp: text (JSON request-log lines), random, file");
  comp_list("--policies", comp_words.policies, "--comp: which of none, comp-ports, comp-cost to compare");
  bench->add_option("--payload-file", comp_words.payload_file, "--comp: also send this file's bytes (payload 'file')")
      ->needs(comp_flag);
  bench->add_option("--size", comp_words.size, "--comp: bytes per transfer (e.g. 64mb) instead of --duration's")
      ->needs(comp_flag);
  bench::PeerArgs peer_args;
  auto* peer = app.add_subcommand("comp-peer", "")->group("");  // the programs bench --comp runs; hidden
  peer->require_subcommand(1);
  auto* peer_receive = peer->add_subcommand("receive", "");
  auto* peer_send = peer->add_subcommand("send", "");
  for (auto* p : {peer_receive, peer_send}) {
    p->add_option("--port", peer_args.port)->required();
    p->add_option("--bytes", peer_args.bytes)->required();
    p->add_option("--payload", peer_args.payload)->required();
  }
  peer_send->add_option("--to", peer_args.address)->required();
  peer_send->add_option("--write-size", peer_args.write_size);
  RunArgs run_args;
  auto* run = app.add_subcommand(
      "run", "Run PROGRAM with the compression data path: its TCP connections compress where the loaded policy "
             "negotiates it with the peer");
  run->add_option("--policy", run_args.policy, "Require this compression policy to be the loaded one");
  run->add_option("--log", run_args.log,
                  "Where the data path's log lines go: a file, or off (default: the program's stderr)");
  run->add_option("PROGRAM", run_args.command, "The program and its arguments, after --: bpfplug run -- socat ...")
      ->required();
  auto* apply =
      app.add_subcommand("apply", "Make the kernel match the boot config (what bpfplug.service runs at boot)");
  apply->add_flag("--dry-run", boot.dry_run, "Only print what it would do");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e, out, err);  // --help, --version
    Error usage(Exit::usage, e.what(), "see bpfplug --help, or bpfplug VERB --help");
    // The verbs as defined above, so a new verb is offered without another list to update.
    std::vector<std::string> verbs;
    for (const auto* sub : app.get_subcommands({}))
      if (!sub->get_group().empty()) verbs.push_back(sub->get_name());  // not the hidden comp-peer
    std::string verb_list;
    for (const auto& v : verbs) verb_list += (verb_list.empty() ? "" : ", ") + v;
    if (app.get_subcommands().empty() && !unknown_verb(argc, argv, app))
      usage = Error(Exit::usage, "no verb given", "the verbs are " + verb_list + " (bpfplug --help)");
    if (auto verb = unknown_verb(argc, argv, app)) {
      auto guess = closest_name(*verb, verbs);
      usage = Error(Exit::usage, "unknown verb '" + *verb + "'",
                    guess.empty() ? "the verbs are " + verb_list + " (bpfplug --help)"
                                  : "did you mean '" + guess + "'? (bpfplug --help lists the verbs)");
    }
    if (inv.json) emit(out, to_json(usage));
    else print_error(err, usage);
    return static_cast<int>(Exit::usage);
  }

  setup_logging(inv.verbose);
  try {
    if (peer_receive->parsed()) return bench::run_peer_receive(peer_args, out);
    if (peer_send->parsed()) return bench::run_peer_send(peer_args, out);
    if (bench->parsed() && comp) {
      if (!bench_words.algorithms.empty())
        throw Error(Exit::usage, "--comp compares compression policies, not congestion controls (" +
                                     bench_words.algorithms.front() + ")",
                    "leave out the algorithm names, or drop --comp");
      comp_words.rtt = rtt_opt->count() ? bench_words.rtt : "0";
      comp_words.buffer = buffer_opt->count() ? bench_words.buffer : "";
      comp_words.seconds = duration_opt->count() ? bench_words.duration_s : 4;
      comp_words.runs = bench_words.runs;
      comp_words.json_file = bench_words.json_file;
      return do_comp_bench(inv, comp_words, out, err);
    }
    if (bench->parsed()) return do_bench(inv, bench_words, out, err);
    if (calibrate->parsed()) return do_calibrate(inv.json, calibrate_args, host, paths, out);
    if (agent->parsed()) return do_agent(inv.json, agent_args, host, paths, out);
    PluginManager manager(host, catalogue, paths);
    PolicyManager policies(host, manager.catalogue(), paths);
    if (list->parsed()) return do_list(inv, manager, policies, out);
    if (run->parsed()) return do_run(run_args, host, policies, manager.catalogue(), paths);
    if (load->parsed()) return do_load(inv, manager, policies, out);
    if (swap->parsed()) return do_swap(inv, manager, out);
    if (repair->parsed()) return do_repair(inv, manager, out);
    if (restore->parsed()) return do_restore(inv, manager, out);
    if (unload->parsed()) return do_unload(inv, manager, policies, out);
    if (status->parsed()) return do_status(inv, manager, policies, paths, out);
    if (probe->parsed()) return do_probe(inv, host, out);
    if (enable->parsed()) return do_enable(inv, boot, host, manager, out, err);
    if (disable->parsed()) return do_disable(inv, boot, host, manager, out, err);
    if (apply->parsed()) return do_apply(inv, boot, host, manager, out, err);
    return static_cast<int>(Exit::usage);
  } catch (const Error& e) {
    if (inv.json) emit(out, to_json(e));
    else print_error(err, e);
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    Error unexpected(Exit::failure, e.what(), "this is a bug in bpfplug; rerun with -v and report it");
    if (inv.json) emit(out, to_json(unexpected));
    else print_error(err, unexpected);
    return static_cast<int>(Exit::failure);
  }
}

}  // namespace bpfplug::cli
