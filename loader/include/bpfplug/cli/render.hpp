// How the CLI shows results: one function per result type, text for people, JSON for machines.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <vector>

#include "bpfplug/boot_config.hpp"
#include "bpfplug/error.hpp"
#include "bpfplug/features.hpp"
#include "bpfplug/plugin_manager.hpp"
#include "bpfplug/policy_manager.hpp"
#include "bpfplug/reconcile.hpp"

namespace bpfplug::cli {

struct ListView {
  const Catalogue& catalogue;
  std::vector<std::string> loaded;
  std::map<std::string, PluginRecord> records;  // what bpfplug recorded for loaded plugins
  KernelCongestion kernel;
};

nlohmann::json to_json(const ListView& view);
nlohmann::json to_json(const LoadResult& result);
nlohmann::json to_json(const UnloadResult& result);
nlohmann::json to_json(const PluginStatus& status);
nlohmann::json to_json(const SwapResult& result);
nlohmann::json to_json(const Problem& problem);
nlohmann::json to_json(const RestoreResult& result);
nlohmann::json to_json(const KernelFeatures& features, bool privileged);
nlohmann::json to_json(const Error& error);
nlohmann::json to_json(const PolicyStatus& status);

void print_list(std::ostream& out, const ListView& view);
void print_load(std::ostream& out, const LoadResult& result);
void print_unload(std::ostream& out, const UnloadResult& result);
void print_status(std::ostream& out, const PluginStatus& status, const KernelCongestion& kernel);
void print_swap(std::ostream& out, const SwapResult& result);
void print_problems(std::ostream& out, const std::vector<Problem>& problems);
void print_repair(std::ostream& out, const std::vector<std::string>& done);
void print_restore(std::ostream& out, const RestoreResult& result);
void print_probe(std::ostream& out, const KernelFeatures& features, bool privileged);
void print_error(std::ostream& err, const Error& error);
// verb: "loaded", "unloaded" or "" (status).
void print_policy(std::ostream& out, const PolicyStatus& status, const std::string& verb);

// Boot persistence: `config_file` is the boot config they changed or applied.
nlohmann::json to_json(const EnableResult& result, const std::filesystem::path& config_file);
nlohmann::json to_json(const DisableResult& result, const std::filesystem::path& config_file);
nlohmann::json to_json(const ReconcileReport& report, const std::filesystem::path& config_file);
void print_enable(std::ostream& out, const EnableResult& result, const std::filesystem::path& config_file);
void print_disable(std::ostream& out, const DisableResult& result, const std::filesystem::path& config_file);
void print_reconcile(std::ostream& out, const ReconcileReport& report, const std::filesystem::path& config_file);

}  // namespace bpfplug::cli
