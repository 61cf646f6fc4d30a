#include "bpfplug/state.hpp"

#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bpfplug/atomic_file.hpp"
#include "bpfplug/error.hpp"

namespace bpfplug {

std::string to_string(AttachMode mode) { return mode == AttachMode::link ? "link" : "map"; }

NLOHMANN_JSON_SERIALIZE_ENUM(AttachMode, {{AttachMode::link, "link"}, {AttachMode::map, "map"}})
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RetiredGeneration, generation, version, variant, retired_at)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PluginRecord, version, variant, object, ops_name, attach, loaded_at,
                                                tunables, generation, retired)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CongestionSettings, default_cc, allowed)

void to_json(nlohmann::json& j, const PendingChange& p) {
  j = nlohmann::json{{"op", p.op}, {"plugin", p.plugin}, {"started_at", p.started_at},
                     {"allowed", p.allowed}, {"next", p.next}};
  if (p.default_before) j["default_before"] = *p.default_before;
}

void from_json(const nlohmann::json& j, PendingChange& p) {
  p.op = j.value("op", "");
  p.plugin = j.value("plugin", "");
  p.started_at = j.value("started_at", "");
  p.allowed = j.value("allowed", false);
  if (auto it = j.find("default_before"); it != j.end() && it->is_string()) p.default_before = it->get<std::string>();
  if (auto it = j.find("next"); it != j.end()) p.next = it->get<PluginRecord>();
}

// Found by ADL from nlohmann::json.
void to_json(nlohmann::json& j, const HostState& s) {
  j = nlohmann::json{{"plugins", s.plugins}};
  if (s.previous_default) j["previous_default"] = *s.previous_default;
  if (s.original) j["original"] = *s.original;
  if (s.pending) j["pending"] = *s.pending;
}

void from_json(const nlohmann::json& j, HostState& s) {
  if (auto it = j.find("previous_default"); it != j.end() && it->is_string())
    s.previous_default = it->get<std::string>();
  if (auto it = j.find("plugins"); it != j.end()) s.plugins = it->get<std::map<std::string, PluginRecord>>();
  if (auto it = j.find("original"); it != j.end()) s.original = it->get<CongestionSettings>();
  if (auto it = j.find("pending"); it != j.end() && it->is_object()) s.pending = it->get<PendingChange>();
}

std::string now_iso8601() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%FT%TZ", &utc);
  return text;
}

HostState StateStore::load() const {
  std::ifstream in(file_);
  if (!in) return {};
  try {
    return nlohmann::json::parse(in).get<HostState>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(Exit::failure, "state file " + file_.string() + " is corrupt: " + e.what(),
                "inspect it, then remove it; pins under the bpffs root still show what is loaded");
  }
}

void StateStore::save(const HostState& state) const {
  replace_file(file_, nlohmann::json(state).dump(2) + "\n");
}

}  // namespace bpfplug
