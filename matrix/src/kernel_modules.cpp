#include "bpfplug/matrix/kernel_modules.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "bpfplug/matrix/error.hpp"

namespace bpfplug::matrix {
namespace {

constexpr std::string_view kCompressions[] = {".xz", ".zst", ".gz"};

std::string normalise(std::string_view name) {
  std::string n(name);
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// modules.dep: "PATH: DEP DEP ..." per line -> path -> its dependencies (the full closure,
// nearest first, as depmod writes them).
std::map<std::string, std::vector<std::string>> parse_dep(std::string_view text) {
  std::map<std::string, std::vector<std::string>> deps;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    deps[line.substr(0, colon)] = words(std::string_view(line).substr(colon + 1));
  }
  return deps;
}

// Post-order: a module's dependencies are placed before it.
void place(const std::string& path, const std::map<std::string, std::vector<std::string>>& deps,
           std::set<std::string>& placed, std::set<std::string>& visiting, std::vector<std::string>& order) {
  if (placed.count(path)) return;
  if (!visiting.insert(path).second) throw MatrixError("modules.dep has a dependency cycle through " + path);
  if (auto it = deps.find(path); it != deps.end())
    for (const auto& dep : it->second) place(dep, deps, placed, visiting, order);
  visiting.erase(path);
  placed.insert(path);
  order.push_back(path);
}

}  // namespace

std::string module_name(std::string_view path) {
  std::string_view base = path.substr(path.rfind('/') == std::string_view::npos ? 0 : path.rfind('/') + 1);
  for (auto ext : kCompressions)
    if (base.ends_with(ext)) base.remove_suffix(ext.size());
  if (base.ends_with(".ko")) base.remove_suffix(3);
  return normalise(base);
}

std::string uncompressed_module_path(std::string_view path) {
  for (auto ext : kCompressions)
    if (path.ends_with(ext)) return std::string(path.substr(0, path.size() - ext.size()));
  return std::string(path);
}

ModulePlan plan_modules(std::string_view modules_dep, std::string_view modules_builtin,
                        const std::vector<std::string>& wanted) {
  auto deps = parse_dep(modules_dep);
  std::map<std::string, std::string> path_of;  // name -> modules.dep path
  for (const auto& [path, _] : deps) path_of.emplace(module_name(path), path);
  std::set<std::string> builtin;
  for (const auto& path : words(modules_builtin)) builtin.insert(module_name(path));

  ModulePlan plan;
  std::set<std::string> placed, visiting;
  for (const auto& raw : wanted) {
    std::string name = normalise(raw);
    WantedModule w{name, WantedModule::State::missing};
    if (auto it = path_of.find(name); it != path_of.end()) {
      w.state = WantedModule::State::load;
      place(it->second, deps, placed, visiting, plan.load_order);
    } else if (builtin.count(name)) {
      w.state = WantedModule::State::builtin;
    }
    plan.wanted.push_back(w);
  }
  return plan;
}

}  // namespace bpfplug::matrix
