#include "bpfplug/cli/render.hpp"

#include <algorithm>
#include <iomanip>
#include <ostream>
#include <sstream>

namespace bpfplug::cli {
namespace {

std::string join(const std::vector<std::string>& words, const char* sep = " ") {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : sep) + w;
  return s;
}

std::string join_values(const std::map<std::string, std::int64_t>& values) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : values) parts.push_back(k + "=" + std::to_string(v));
  return parts.empty() ? "-" : join(parts);
}

bool is_loaded(const ListView& view, const std::string& name) {
  return std::find(view.loaded.begin(), view.loaded.end(), name) != view.loaded.end();
}

std::string state_of(const ListView& view, const CatalogueEntry& e) {
  if (!is_loaded(view, e.meta.name)) return "not loaded";
  std::string s = "loaded";
  if (view.kernel.current_default == e.ops_name) s += ", default";
  if (auto it = view.records.find(e.meta.name); it != view.records.end()) {
    if (it->second.version != e.meta.version) s += ", version " + it->second.version;
    s += ", since " + it->second.loaded_at;
  }
  return s;
}

}  // namespace

nlohmann::json to_json(const ListView& view) {
  auto plugins = nlohmann::json::array();
  for (const auto& e : view.catalogue.entries()) {
    auto tunables = nlohmann::json::array();
    for (const auto& t : e.meta.tunables)
      tunables.push_back({{"name", t.name}, {"type", t.type}, {"default", t.default_value},
                          {"min", t.min}, {"max", t.max}, {"description", t.description}});
    nlohmann::json p{{"name", e.meta.name},         {"kind", e.meta.kind},
                     {"version", e.meta.version},   {"description", e.meta.description},
                     {"registers_as", e.ops_name},  {"loaded", is_loaded(view, e.meta.name)},
                     {"default", is_loaded(view, e.meta.name) && view.kernel.current_default == e.ops_name},
                     {"tunables", tunables}};
    if (auto it = view.records.find(e.meta.name); it != view.records.end() && is_loaded(view, e.meta.name)) {
      p["loaded_at"] = it->second.loaded_at;
      p["loaded_version"] = it->second.version;
    }
    plugins.push_back(p);
  }
  nlohmann::json kernel{{"available", view.kernel.available},
                        {"allowed", view.kernel.allowed},
                        {"default", view.kernel.current_default}};
  if (view.kernel.previous_default) kernel["previous_default"] = *view.kernel.previous_default;
  return {{"plugins", plugins}, {"kernel", kernel}};
}

nlohmann::json to_json(const LoadResult& r) {
  nlohmann::json j{{"plugin", r.plugin},
                   {"registered_as", r.ops_name},
                   {"attach", to_string(r.attach)},
                   {"ops_map_id", r.ids.ops_map_id}};
  if (r.ids.link_id) j["link_id"] = r.ids.link_id;
  if (r.replaced_default) j["replaced_default"] = *r.replaced_default;
  return j;
}

nlohmann::json to_json(const UnloadResult& r) {
  nlohmann::json j{{"plugin", r.plugin}, {"registered_as", r.ops_name}, {"sockets_left", r.sockets_left}};
  if (r.restored_default) j["restored_default"] = *r.restored_default;
  return j;
}

nlohmann::json to_json(const PluginStatus& s) {
  nlohmann::json j{{"plugin", s.plugin},
                   {"registered_as", s.record.ops_name},
                   {"registered", s.registered},
                   {"version", s.record.version},
                   {"loaded_at", s.record.loaded_at},
                   {"attach", to_string(s.record.attach)},
                   {"ops_map_id", s.ids.ops_map_id},
                   {"default", s.is_default},
                   {"allowed", s.allowed},
                   {"sockets", s.sockets},
                   {"tunables", s.tunables},
                   {"counters", s.counters}};
  if (s.ids.link_id) j["link_id"] = s.ids.link_id;
  return j;
}

nlohmann::json to_json(const KernelFeatures& f, bool privileged) {
  auto features = nlohmann::json::object();
  for (const auto& row : describe_features(f))
    features[row.name] = {{"supported", row.present}, {"detail", row.detail}, {"consequence", row.consequence}};
  return {{"kernel", f.release}, {"privileged", privileged}, {"features", features}};
}

nlohmann::json to_json(const Error& e) {
  nlohmann::json j{{"message", e.what()}, {"exit_code", static_cast<int>(e.code())}};
  if (!e.hint().empty()) j["hint"] = e.hint();
  return {{"error", j}};
}

void print_list(std::ostream& out, const ListView& view) {
  std::size_t name_w = 6, ops_w = 12, state_w = 5;
  for (const auto& e : view.catalogue.entries()) {
    name_w = std::max(name_w, e.meta.name.size());
    ops_w = std::max(ops_w, e.ops_name.size());
    state_w = std::max(state_w, state_of(view, e).size());
  }
  auto row = [&](const std::string& a, const std::string& b, const std::string& c, const std::string& d,
                 const std::string& e) {
    out << std::left << std::setw(name_w + 2) << a << std::setw(9) << b << std::setw(ops_w + 2) << c
        << std::setw(state_w + 2) << d << e << '\n';
  };
  row("PLUGIN", "VERSION", "REGISTERS AS", "STATE", "DESCRIPTION");
  for (const auto& e : view.catalogue.entries()) {
    row(e.meta.name, e.meta.version, e.ops_name, state_of(view, e), e.meta.description);
    if (!e.meta.tunables.empty()) {
      std::vector<std::string> parts;
      for (const auto& t : e.meta.tunables)
        parts.push_back(t.name + "=" + std::to_string(t.default_value) + " [" + std::to_string(t.min) + ".." +
                        std::to_string(t.max) + "]");
      out << std::string(name_w + 2, ' ') << "tunables: " << join(parts, ", ") << '\n';
    }
  }
  out << "\nkernel: available  " << join(view.kernel.available) << '\n'
      << "        default    " << view.kernel.current_default;
  if (view.kernel.previous_default)
    out << " (bpfplug restores " << *view.kernel.previous_default << " when this plugin is unloaded)";
  out << "\n        allowed    " << join(view.kernel.allowed) << '\n';
}

void print_load(std::ostream& out, const LoadResult& r) {
  out << "loaded " << r.plugin << ": registered as " << r.ops_name << " (";
  if (r.attach == AttachMode::link) out << "struct_ops link id " << r.ids.link_id << ", ";
  else out << "map registration, no link on this kernel, ";
  out << "ops map id " << r.ids.ops_map_id << ")\n";
  if (r.replaced_default)
    out << "default congestion control: " << r.ops_name << " (was " << *r.replaced_default << ")\n";
}

void print_unload(std::ostream& out, const UnloadResult& r) {
  out << "unloaded " << r.plugin << " (" << r.ops_name << ")\n";
  if (r.restored_default) out << "default congestion control restored to " << *r.restored_default << '\n';
  if (r.sockets_left > 0)
    out << "warning: " << r.sockets_left << " connection(s) keep running " << r.ops_name << " until they close\n";
}

void print_status(std::ostream& out, const PluginStatus& s, const KernelCongestion& kernel) {
  auto line = [&](const char* key, const std::string& value) {
    out << "  " << std::left << std::setw(10) << key << value << '\n';
  };
  out << s.plugin << ": " << (s.registered ? "registered as " : "NOT registered (pins only) as ")
      << s.record.ops_name << '\n';
  line("version", s.record.version.empty() ? "-" : s.record.version);
  line("since", s.record.loaded_at.empty() ? "-" : s.record.loaded_at);
  std::ostringstream kernel_ids;
  if (s.record.attach == AttachMode::link) kernel_ids << "struct_ops link id " << s.ids.link_id << ", ";
  else kernel_ids << "map registration, ";
  kernel_ids << "ops map id " << s.ids.ops_map_id;
  line("kernel", kernel_ids.str());
  std::string def = s.is_default ? "yes" : "no";
  if (s.is_default && kernel.previous_default) def += " (unload restores " + *kernel.previous_default + ")";
  line("default", def);
  line("allowed", s.allowed ? "yes (unprivileged programs may choose it)" : "no (root or CAP_NET_ADMIN only)");
  line("sockets", std::to_string(s.sockets));
  line("tunables", join_values(s.tunables));
  line("counters", join_values(s.counters));
}

void print_probe(std::ostream& out, const KernelFeatures& f, bool privileged) {
  out << "kernel " << f.release << (privileged ? " (running as root)" : " (not root: load/unload need root)")
      << '\n';
  for (const auto& row : describe_features(f))
    out << "  " << std::left << std::setw(16) << row.name << std::setw(5) << (row.present ? "yes" : "no")
        << row.consequence << "  [" << row.detail << "]\n";
}

void print_error(std::ostream& err, const Error& e) {
  err << "error: " << e.what();
  if (!e.hint().empty()) err << " (hint: " << e.hint() << ")";
  err << '\n';
}

}  // namespace bpfplug::cli
