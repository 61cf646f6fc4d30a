// `--set key=value` arguments checked against a plugin's declared tunables.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bpfplug/plugin_metadata.hpp"
#include "bpfplug/port_set.hpp"

namespace bpfplug {

// Every tunable of `meta` with its default, overridden by `assignments` ("key=value").
// Throws a usage Error for a malformed assignment, an unknown key (naming the closest one),
// a value that is not an integer, or one outside the declared range.
std::map<std::string, std::int64_t> resolve_tunables(const PluginMeta& meta,
                                                     const std::vector<std::string>& assignments);

// Every port set of `meta` (empty unless assigned), from the same `assignments`
// ("ports=8080,9000-9100"). Throws a usage Error for a malformed set.
std::map<std::string, PortSet> resolve_portsets(const PluginMeta& meta, const std::vector<std::string>& assignments);

}  // namespace bpfplug
