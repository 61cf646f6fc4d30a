#include "bpfplug/tunables.hpp"

#include "bpfplug/catalogue.hpp"
#include "bpfplug/error.hpp"

namespace bpfplug {

std::map<std::string, std::int64_t> resolve_tunables(const PluginMeta& meta,
                                                     const std::vector<std::string>& assignments) {
  std::map<std::string, std::int64_t> values;
  for (const auto& t : meta.tunables) values[t.name] = t.default_value;

  for (const auto& text : assignments) {
    auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
      throw Error(Exit::usage, "malformed --set '" + text + "' for plugin " + meta.name,
                  meta.tunables.empty() ? meta.name + " has no tunables"
                                        : "write --set KEY=VALUE, e.g. --set " + meta.tunables[0].name + "=" +
                                              std::to_string(meta.tunables[0].default_value));
    std::string key = text.substr(0, eq);
    std::string value = text.substr(eq + 1);
    if (meta.find_portset(key)) continue;  // resolve_portsets() reads it
    const TunableSpec* spec = meta.find_tunable(key);
    if (!spec) {
      std::vector<std::string> names;
      for (const auto& t : meta.tunables) names.push_back(t.name);
      for (const auto& p : meta.portsets) names.push_back(p.name);
      auto guess = closest_name(key, names);
      throw Error(Exit::usage, "plugin " + meta.name + " has no tunable '" + key + "'",
                  names.empty()       ? meta.name + " has no tunables"
                  : !guess.empty()    ? "did you mean '" + guess + "'? (bpfplug list shows each plugin's tunables)"
                                      : "bpfplug list shows each plugin's tunables");
    }
    auto number = parse_integer(value);
    if (!number)
      throw Error(Exit::usage, "--set " + key + ": '" + value + "' is not an integer",
                  "give a decimal or 0x-prefixed integer in [" + std::to_string(spec->min) + ", " +
                      std::to_string(spec->max) + "]");
    if (*number < spec->min || *number > spec->max)
      throw Error(Exit::usage,
                  "--set " + key + "=" + value + " is outside [" + std::to_string(spec->min) + ", " +
                      std::to_string(spec->max) + "]",
                  key + ": " + spec->description);
    values[key] = *number;
  }
  return values;
}

}  // namespace bpfplug

namespace bpfplug {

std::map<std::string, PortSet> resolve_portsets(const PluginMeta& meta, const std::vector<std::string>& assignments) {
  std::map<std::string, PortSet> sets;
  for (const auto& p : meta.portsets) sets[p.name] = PortSet();
  for (const auto& text : assignments) {
    auto eq = text.find('=');
    if (eq == std::string::npos) continue;  // resolve_tunables() reports it
    std::string key = text.substr(0, eq);
    if (meta.find_portset(key)) sets[key] = PortSet::parse(std::string_view(text).substr(eq + 1), "--set " + key);
  }
  return sets;
}

}  // namespace bpfplug
