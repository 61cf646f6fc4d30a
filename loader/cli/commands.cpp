#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>

#include "bpfplug/cli/cli.hpp"
#include "bpfplug/cli/render.hpp"
#include "bpfplug/libbpf_log.hpp"
#include "bpfplug/plugin_manager.hpp"

namespace bpfplug::cli {
namespace {

struct Invocation {
  bool json = false;
  bool verbose = false;
  std::string plugin;
  LoadOptions load;
  bool all = false;
  bool force = false;
};

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

int do_list(const Invocation& inv, PluginManager& manager, std::ostream& out) {
  ListView view{manager.catalogue(), manager.loaded(), manager.recorded_state().plugins, manager.kernel_congestion()};
  if (inv.json) emit(out, to_json(view));
  else print_list(out, view);
  return 0;
}

int do_load(const Invocation& inv, PluginManager& manager, std::ostream& out) {
  auto result = manager.load(inv.plugin, inv.load);
  if (inv.json) emit(out, to_json(result));
  else print_load(out, result);
  return 0;
}

int do_unload(const Invocation& inv, PluginManager& manager, std::ostream& out) {
  if (inv.all == !inv.plugin.empty())
    throw Error(Exit::usage, "unload needs a plugin NAME or --all (not both)", "bpfplug unload dctcp");
  std::vector<UnloadResult> results =
      inv.all ? manager.unload_all(inv.force) : std::vector{manager.unload(inv.plugin, inv.force)};
  if (inv.json) {
    auto arr = nlohmann::json::array();
    for (const auto& r : results) arr.push_back(to_json(r));
    emit(out, inv.all ? nlohmann::json{{"unloaded", arr}} : arr.at(0));
  } else {
    for (const auto& r : results) print_unload(out, r);
    if (inv.all && results.empty()) out << "no plugin was loaded\n";
  }
  return 0;
}

int do_status(const Invocation& inv, PluginManager& manager, std::ostream& out) {
  std::vector<std::string> names = inv.plugin.empty() ? manager.loaded() : std::vector{inv.plugin};
  std::vector<PluginStatus> statuses;
  for (const auto& name : names) statuses.push_back(manager.status(name));
  auto kernel = manager.kernel_congestion();
  if (inv.json) {
    if (!inv.plugin.empty()) {
      emit(out, to_json(statuses.at(0)));
    } else {
      auto arr = nlohmann::json::array();
      for (const auto& s : statuses) arr.push_back(to_json(s));
      emit(out, {{"plugins", arr}, {"default", kernel.current_default}});
    }
    return 0;
  }
  if (statuses.empty()) out << "no plugin loaded (bpfplug list shows the plugins this build carries)\n";
  for (const auto& s : statuses) print_status(out, s, kernel);
  return 0;
}

int do_probe(const Invocation& inv, Host& host, std::ostream& out) {
  auto features = host.features();
  if (inv.json) emit(out, to_json(features, host.privileged()));
  else print_probe(out, features, host.privileged());
  return 0;
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
  load->add_flag("--default", inv.load.make_default,
                 "Also make it the system default (net.ipv4.tcp_congestion_control); unload restores the old one");
  load->add_flag("--allow", inv.load.allow,
                 "Add it to net.ipv4.tcp_allowed_congestion_control so unprivileged programs may choose it");
  load->add_option("--set", inv.load.assignments, "Set a tunable before load (repeatable): --set KEY=VALUE");
  auto* unload = app.add_subcommand("unload", "Unregister plugin NAME (restores the default if it was the default)");
  unload->add_option("NAME", inv.plugin, "Plugin to unload");
  unload->add_flag("--all", inv.all, "Unload every loaded plugin");
  unload->add_flag("--force", inv.force,
                   "Unload even while connections use it (they keep the old algorithm until they close)");
  auto* status = app.add_subcommand("status", "What is loaded: kernel ids, sockets using it, tunables, counters");
  status->add_option("NAME", inv.plugin, "Only this plugin");
  auto* probe = app.add_subcommand("probe", "What this kernel supports and which bpfplug features work here");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e, out, err);  // --help, --version
    Error usage(Exit::usage, e.what(), "see bpfplug --help, or bpfplug VERB --help");
    if (app.get_subcommands().empty() && !unknown_verb(argc, argv, app))
      usage = Error(Exit::usage, "no verb given",
                    "the verbs are list, load, unload, status, probe (bpfplug --help)");
    if (auto verb = unknown_verb(argc, argv, app)) {
      auto guess = closest_name(*verb, {"list", "load", "unload", "status", "probe"});
      usage = Error(Exit::usage, "unknown verb '" + *verb + "'",
                    guess.empty() ? "the verbs are list, load, unload, status, probe (bpfplug --help)"
                                  : "did you mean '" + guess + "'? (bpfplug --help lists the verbs)");
    }
    if (inv.json) emit(out, to_json(usage));
    else print_error(err, usage);
    return static_cast<int>(Exit::usage);
  }

  setup_logging(inv.verbose);
  try {
    PluginManager manager(host, catalogue, paths);
    if (list->parsed()) return do_list(inv, manager, out);
    if (load->parsed()) return do_load(inv, manager, out);
    if (unload->parsed()) return do_unload(inv, manager, out);
    if (status->parsed()) return do_status(inv, manager, out);
    if (probe->parsed()) return do_probe(inv, host, out);
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
