// How the CLI shows results: one function per result type, text for people, JSON for machines.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <vector>

#include "bpfplug/error.hpp"
#include "bpfplug/features.hpp"
#include "bpfplug/plugin_manager.hpp"

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
nlohmann::json to_json(const KernelFeatures& features, bool privileged);
nlohmann::json to_json(const Error& error);

void print_list(std::ostream& out, const ListView& view);
void print_load(std::ostream& out, const LoadResult& result);
void print_unload(std::ostream& out, const UnloadResult& result);
void print_status(std::ostream& out, const PluginStatus& status, const KernelCongestion& kernel);
void print_probe(std::ostream& out, const KernelFeatures& features, bool privileged);
void print_error(std::ostream& err, const Error& error);

}  // namespace bpfplug::cli
