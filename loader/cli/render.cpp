#include "bpfplug/cli/render.hpp"

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "bpfplug/comp_calibration.hpp"

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
    if (!it->second.variant.empty() && it->second.variant != kDefaultVariant) s += ", variant " + it->second.variant;
    s += ", since " + it->second.loaded_at;
  }
  return s;
}

}  // namespace

nlohmann::json to_json(const ListView& view) {
  auto plugins = nlohmann::json::array();
  for (const auto& e : view.catalogue.entries()) {
    if (e.meta.variant != kDefaultVariant) continue;  // listed under its plugin's "variants"
    auto variants = nlohmann::json::array();
    for (const auto* v : view.catalogue.variants(e.meta.name)) {
      // The default variant is the plugin as described, unless it declares a text of its own.
      bool plain_default = v == &e && v->meta.variant_description.empty();
      variants.push_back(
          {{"name", v->meta.variant}, {"description", plain_default ? e.meta.description : v->meta.variant_description}});
    }
    auto tunables = nlohmann::json::array();
    for (const auto& t : e.meta.tunables)
      tunables.push_back({{"name", t.name}, {"type", t.type}, {"default", t.default_value},
                          {"min", t.min}, {"max", t.max}, {"description", t.description}});
    nlohmann::json p{{"name", e.meta.name},         {"kind", e.meta.kind},
                     {"version", e.meta.version},   {"description", e.meta.description},
                     {"registers_as", e.ops_name},  {"loaded", is_loaded(view, e.meta.name)},
                     {"default", is_loaded(view, e.meta.name) && view.kernel.current_default == e.ops_name},
                     {"tunables", tunables},        {"variants", variants}};
    if (auto it = view.records.find(e.meta.name); it != view.records.end() && is_loaded(view, e.meta.name)) {
      p["loaded_at"] = it->second.loaded_at;
      p["loaded_version"] = it->second.version;
      p["loaded_variant"] = it->second.variant;
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
                   {"variant", s.record.variant},
                   {"generation", s.record.generation},
                   {"tunables", s.tunables},
                   {"counters", s.counters}};
  if (s.ids.link_id) j["link_id"] = s.ids.link_id;
  if (!s.record.object.empty()) j["object"] = s.record.object;
  auto generations = nlohmann::json::array();
  for (const auto& g : s.generations)
    generations.push_back({{"generation", g.number}, {"version", g.version}, {"variant", g.variant},
                           {"current", g.current}, {"sockets", g.sockets}, {"counters", g.counters}});
  j["generations"] = generations;
  return j;
}

nlohmann::json to_json(const SwapResult& r) {
  return {{"plugin", r.plugin},
          {"registered_as", r.ops_name},
          {"from", {{"version", r.from_version}, {"variant", r.from_variant}, {"ops_map_id", r.old_ids.ops_map_id}}},
          {"to", {{"version", r.to_version}, {"variant", r.to_variant}, {"ops_map_id", r.new_ids.ops_map_id}}},
          {"atomic", r.atomic},
          {"kernel_switch_us", r.kernel_switch_us}};
}

nlohmann::json to_json(const Problem& p) {
  return {{"plugin", p.plugin}, {"problem", p.what}, {"repair", p.fix}};
}

nlohmann::json to_json(const RestoreResult& r) {
  auto unloaded = nlohmann::json::array();
  for (const auto& u : r.unloaded) unloaded.push_back(to_json(u));
  nlohmann::json j{{"unloaded", unloaded}, {"not_restorable", r.not_restorable}};
  if (r.restored) j["restored"] = {{"default", r.restored->default_cc}, {"allowed", r.restored->allowed}};
  else j["restored"] = nullptr;
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
    if (e.meta.variant != kDefaultVariant) continue;
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
    if (e.meta.variant != kDefaultVariant) continue;  // one row per plugin, its variants below
    row(e.meta.name, e.meta.version, e.meta.kind == "policy" ? "(policy)" : e.ops_name, state_of(view, e),
        e.meta.description);
    for (const auto& p : e.meta.portsets)
      out << std::string(name_w + 2, ' ') << "port set: " << p.name << " (" << p.description << ")\n";
    if (!e.meta.tunables.empty()) {
      std::vector<std::string> parts;
      for (const auto& t : e.meta.tunables)
        parts.push_back(t.name + "=" + std::to_string(t.default_value) + " [" + std::to_string(t.min) + ".." +
                        std::to_string(t.max) + "]");
      out << std::string(name_w + 2, ' ') << "tunables: " << join(parts, ", ") << '\n';
    }
    std::vector<std::string> others;
    for (const auto* v : view.catalogue.variants(e.meta.name))
      if (v != &e)
        others.push_back(v->meta.variant +
                         (v->meta.variant_description.empty() ? "" : " (" + v->meta.variant_description + ")"));
    if (!others.empty()) out << std::string(name_w + 2, ' ') << "variants: " << join(others, ", ") << '\n';
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
  std::string impl = s.record.variant.empty() || s.record.variant == "default" ? "" : "variant " + s.record.variant;
  if (!s.record.object.empty()) impl = "object " + s.record.object;
  if (!impl.empty()) line("runs", impl);
  line("tunables", join_values(s.tunables));
  line("counters", join_values(s.counters));
  if (s.generations.size() > 1) {
    // After a swap: connections opened before it keep the implementation they started with.
    out << "  generations (connections keep the implementation they started with):\n";
    for (const auto& g : s.generations)
      out << "    g" << g.number << "  " << std::left << std::setw(8) << (g.version.empty() ? "?" : g.version)
          << std::setw(12) << (g.variant.empty() ? "?" : g.variant) << std::setw(10)
          << (g.current ? "current" : "retired") << g.sockets << " socket(s)\n";
  }
}

void print_swap(std::ostream& out, const SwapResult& r) {
  out << "swapped " << r.plugin << " (" << r.ops_name << "): " << r.from_version << " " << r.from_variant << " -> "
      << r.to_version << " " << r.to_variant << '\n';
  if (r.atomic)
    out << "  one atomic link update (" << std::fixed << std::setprecision(1) << r.kernel_switch_us
        << " us); new connections get the new implementation, open ones keep the old until they close\n";
  else
    out << "  map mode (no struct_ops links): " << r.ops_name << " was unregistered for " << std::fixed
        << std::setprecision(1) << r.kernel_switch_us << " us between the two implementations\n";
}

void print_problems(std::ostream& out, const std::vector<Problem>& problems) {
  if (problems.empty()) return;
  out << "half-done or inconsistent (bpfplug repair, or the next load/swap/unload, fixes it):\n";
  for (const auto& p : problems) out << "  ! " << p.what << "\n    -> " << p.fix << '\n';
}

void print_repair(std::ostream& out, const std::vector<std::string>& done) {
  if (done.empty()) out << "nothing to repair: pins, state file and kernel agree\n";
  for (const auto& d : done) out << "repaired: " << d << '\n';
}

void print_restore(std::ostream& out, const RestoreResult& r) {
  for (const auto& u : r.unloaded) print_unload(out, u);
  if (!r.restored) {
    out << "bpfplug had changed nothing on this host; nothing to restore\n";
    return;
  }
  std::string allowed;
  for (const auto& a : r.restored->allowed) allowed += (allowed.empty() ? "" : " ") + a;
  out << "restored net.ipv4.tcp_congestion_control=" << r.restored->default_cc
      << " and net.ipv4.tcp_allowed_congestion_control=\"" << allowed << "\"\n";
  for (const auto& n : r.not_restorable) out << "  (not restorable: " << n << " is no longer available)\n";
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

// ---- Boot persistence: enable, disable, apply ----

namespace {

nlohmann::json boot_entry_json(const BootEntry& e) {
  return {{"variant", e.variant}, {"default", e.make_default}, {"allow", e.allow}, {"tunables", e.tunables}};
}

std::string describe_boot_entry(const BootEntry& e) {
  std::string s = "variant " + e.variant;
  if (!e.tunables.empty()) s += ", tunables " + join_values(e.tunables);
  if (e.make_default) s += ", system default";
  if (e.allow) s += ", allowed";
  return s;
}

// "would load it (not loaded)", "loaded, made it the default instead of cubic (was not loaded)".
std::string describe_result(const ReconcileResult& r) {
  const ReconcileStep& s = r.step;
  switch (r.outcome) {
    case StepOutcome::failed: {
      std::string text = std::string("FAILED: ") + (r.error ? r.error->what() : s.reason);
      if (r.error && !r.error->hint().empty()) text += " (hint: " + r.error->hint() + ")";
      return text;
    }
    case StepOutcome::unmanaged: return "left alone (loaded, not managed by boot config)";
    case StepOutcome::unchanged: return "nothing to do (" + s.reason + ")";
    case StepOutcome::planned:
    case StepOutcome::done: break;
  }
  bool planned = r.outcome == StepOutcome::planned;
  std::vector<std::string> parts;
  if (s.action == StepAction::load) parts.push_back(planned ? "load it" : "loaded");
  if (s.action == StepAction::swap) parts.push_back(planned ? "swap it" : "swapped");
  if (s.make_default) {
    std::string part = planned ? "make it the default" : "made it the default";
    if (r.replaced_default) part += " instead of " + *r.replaced_default;
    parts.push_back(part);
  }
  if (s.allow) parts.push_back(planned ? "allow it" : "allowed it");
  std::string reason = !planned && s.action == StepAction::load ? "was " + s.reason : s.reason;
  return (planned ? "would " : "") + join(parts, ", ") + " (" + reason + ")";
}

}  // namespace

nlohmann::json to_json(const EnableResult& r, const std::filesystem::path& config_file) {
  nlohmann::json j{{"plugin", r.plugin}, {"config", config_file.string()}, {"entry", boot_entry_json(r.entry)}};
  if (r.previous) j["previous"] = boot_entry_json(*r.previous);
  if (r.default_from) j["default_moved_from"] = *r.default_from;
  return j;
}

nlohmann::json to_json(const DisableResult& r, const std::filesystem::path& config_file) {
  nlohmann::json j{{"plugin", r.plugin}, {"config", config_file.string()}, {"was_enabled", r.removed.has_value()}};
  if (r.removed) j["removed"] = boot_entry_json(*r.removed);
  return j;
}

nlohmann::json to_json(const ReconcileReport& report, const std::filesystem::path& config_file) {
  auto plugins = nlohmann::json::array();
  for (const auto& r : report.plugins) {
    auto tunables = nlohmann::json::object();
    for (const auto& a : r.step.assignments) {
      auto eq = a.find('=');
      if (auto v = parse_integer(a.substr(eq + 1)); v && eq != std::string::npos) tunables[a.substr(0, eq)] = *v;
    }
    nlohmann::json p{{"plugin", r.step.plugin},     {"action", to_string(r.step.action)},
                     {"outcome", to_string(r.outcome)}, {"reason", r.step.reason},
                     {"variant", r.step.variant},   {"tunables", tunables},
                     {"make_default", r.step.make_default}, {"allow", r.step.allow}};
    if (r.replaced_default) p["replaced_default"] = *r.replaced_default;
    if (r.error) p.update(to_json(*r.error));
    plugins.push_back(p);
  }
  return {{"config", config_file.string()}, {"dry_run", report.dry_run}, {"ok", report.ok()}, {"plugins", plugins}};
}

void print_enable(std::ostream& out, const EnableResult& r, const std::filesystem::path& config_file) {
  out << "enabled " << r.plugin << " at boot: " << describe_boot_entry(r.entry) << " (" << config_file.string()
      << ")\n";
  if (r.previous && *r.previous == r.entry) out << "  it was already enabled with these settings\n";
  else if (r.previous) out << "  replaces: " << describe_boot_entry(*r.previous) << '\n';
  if (r.default_from) out << "  the boot default moves from " << *r.default_from << " to " << r.plugin << '\n';
  if (r.previous && r.previous->make_default && !r.entry.make_default)
    out << "  " << r.plugin << " is no longer the boot default\n";
}

void print_disable(std::ostream& out, const DisableResult& r, const std::filesystem::path& config_file) {
  if (!r.removed) {
    out << r.plugin << " was not enabled at boot; " << config_file.string() << " unchanged\n";
    return;
  }
  out << "disabled " << r.plugin << " at boot: removed from " << config_file.string() << " (was "
      << describe_boot_entry(*r.removed) << ")\n";
  if (r.removed->make_default) out << "  no plugin is the boot default any more\n";
}

void print_reconcile(std::ostream& out, const ReconcileReport& report, const std::filesystem::path& config_file) {
  if (report.plugins.empty()) {
    out << "nothing to do: " << config_file.string() << " enables no plugin and none is loaded\n";
    return;
  }
  out << "boot config " << config_file.string() << (report.dry_run ? ": dry run, nothing changed\n" : ":\n");
  std::size_t name_w = 0;
  for (const auto& r : report.plugins) name_w = std::max(name_w, r.step.plugin.size());
  for (const auto& r : report.plugins)
    out << "  " << std::left << std::setw(name_w + 2) << r.step.plugin << describe_result(r) << '\n';
}

nlohmann::json to_json(const PolicyStatus& s) {
  nlohmann::json j = {{"plugin", s.plugin},
          {"kind", "policy"},
          {"version", s.version},
          {"cgroup", s.cgroup.string()},
          {"prog_id", s.ids.prog_id},
          {"link_id", s.ids.link_id},
          {"cgroup_id", s.ids.cgroup_id},
          {"tunables", s.tunables},
          {"portsets", s.portsets},
          {"counters", s.counters},
          {"mechanism", to_string(s.mechanism)}};
  if (s.kernel_set_by_bpfplug)
    j["set_by_bpfplug"] = {{"ports", s.kernel_set_by_bpfplug->ports.to_string()}, {"local", s.kernel_set_by_bpfplug->local}};
  if (s.calibration)
    j["calibration"] = {{"ratio", static_cast<double>(s.calibration->ratio_q) / BPFPLUG_COMP_ONE},
                        {"vc_bytes_per_s", s.calibration->vc_bps},
                        {"vd_bytes_per_s", s.calibration->vd_bps},
                        {"level", s.calibration->level}};
  if (s.host) j["headroom_pct"] = s.host->headroom_pct;
  return j;
}

void print_policy(std::ostream& out, const PolicyStatus& s, const std::string& verb) {
  const bool kernel = s.mechanism == CompMechanism::kernel;
  const std::string where = kernel ? "openEuler tcp_comp (" + std::string(kTcpCompPortsSysctl) + ", host-wide)"
                                   : "cgroup " + (s.cgroup.empty() ? std::string("(gone)") : s.cgroup.string());
  if (!verb.empty()) {
    out << verb << " policy " << s.plugin << " " << s.version << " (" << where << ")\n";
    if (verb != "loaded") return;
  } else if (kernel) {
    out << s.plugin << " " << s.version << ": compression policy driving " << where << "\n";
  } else {
    out << s.plugin << " " << s.version << ": compression policy on " << where << " (prog " << s.ids.prog_id
        << ", link " << s.ids.link_id << ")\n";
  }
  if (s.kernel_set_by_bpfplug)
    out << "  changed outside bpfplug since load: bpfplug set ports = "
        << (s.kernel_set_by_bpfplug->ports.empty() ? "(empty)" : s.kernel_set_by_bpfplug->ports.to_string())
        << ", local = " << s.kernel_set_by_bpfplug->local << "; unload will leave the kernel's values as they are\n";
  for (const auto& [name, ports] : s.portsets) out << "  " << name << " = " << (ports.empty() ? "(empty: compresses nothing)" : ports) << "\n";
  for (const auto& [name, value] : s.tunables) out << "  " << name << " = " << value << "\n";
  if (s.calibration) {
    auto cal = Calibration::from_map_value(*s.calibration);
    char line[200];
    std::snprintf(line, sizeof line, "  calibration: zstd level %d, R %.3f, Vc %.1f MB/s, Vd %.1f MB/s\n", cal.level,
                  cal.ratio, cal.vc_bytes_per_s / 1e6, cal.vd_bytes_per_s / 1e6);
    out << line;
  }
  if (s.host) out << "  CPU headroom: " << s.host->headroom_pct << " % of one CPU\n";
  if (verb.empty())
    for (const auto& [name, value] : s.counters) out << "  " << name << ": " << value << "\n";
}

}  // namespace bpfplug::cli
