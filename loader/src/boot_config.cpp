#include "bpfplug/boot_config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bpfplug/error.hpp"
#include "bpfplug/tunables.hpp"
#include "bpfplug/unique_fd.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace bpfplug {
namespace {

// What to do about a file that can't be read: the user edited it by hand, or it was damaged.
Error corrupt(const std::string& source, const std::string& what) {
  return Error(Exit::failure, "boot config " + source + " is invalid: " + what,
               "fix it by hand, or remove it and record the plugins again with bpfplug enable NAME");
}

BootEntry parse_entry(const json& j, const std::string& plugin, const std::string& source) {
  std::string where = "plugin '" + plugin + "': ";
  if (!j.is_object()) throw corrupt(source, where + "expected an object, found " + j.type_name());
  BootEntry entry;
  for (const auto& [key, value] : j.items()) {
    if (key == "variant") {
      if (!value.is_string() || value.get<std::string>().empty())
        throw corrupt(source, where + "\"variant\" must be a non-empty string");
      entry.variant = value.get<std::string>();
    } else if (key == "default" || key == "allow") {
      if (!value.is_boolean()) throw corrupt(source, where + "\"" + key + "\" must be true or false");
      (key == "default" ? entry.make_default : entry.allow) = value.get<bool>();
    } else if (key == "tunables") {
      if (!value.is_object()) throw corrupt(source, where + "\"tunables\" must be an object of integers");
      for (const auto& [name, v] : value.items()) {
        bool too_big = v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX;
        if (!v.is_number_integer() || too_big)
          throw corrupt(source, where + "tunable \"" + name + "\" must be an integer, found " + v.dump());
        entry.tunables[name] = v.get<std::int64_t>();
      }
    } else {
      throw corrupt(source, where + "unknown field \"" + key + "\" (the fields are variant, default, allow, tunables)");
    }
  }
  return entry;
}

}  // namespace

std::optional<std::string> BootConfig::default_plugin() const {
  for (const auto& [name, entry] : plugins)
    if (entry.make_default) return name;
  return std::nullopt;
}

BootConfig parse_boot_config(const std::string& text, const std::string& source) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw corrupt(source, "not valid JSON");
  if (!j.is_object()) throw corrupt(source, std::string("expected a JSON object, found ") + j.type_name());
  BootConfig config;
  for (const auto& [key, value] : j.items()) {
    if (key != "plugins") throw corrupt(source, "unknown field \"" + key + "\" (expected only \"plugins\")");
    if (!value.is_object()) throw corrupt(source, "\"plugins\" must be an object keyed by plugin name");
    for (const auto& [plugin, entry] : value.items()) config.plugins[plugin] = parse_entry(entry, plugin, source);
  }
  std::vector<std::string> defaults;
  for (const auto& [name, entry] : config.plugins)
    if (entry.make_default) defaults.push_back(name);
  if (defaults.size() > 1)
    throw corrupt(source, "plugins " + defaults[0] + " and " + defaults[1] +
                              " are both marked default; at most one plugin can be the default");
  return config;
}

std::string format_boot_config(const BootConfig& config) {
  json plugins = json::object();
  for (const auto& [name, e] : config.plugins)
    plugins[name] = {{"variant", e.variant}, {"default", e.make_default}, {"allow", e.allow}, {"tunables", e.tunables}};
  return json{{"plugins", plugins}}.dump(2) + "\n";
}

BootConfig BootConfigStore::load() const {
  std::ifstream in(file_);
  if (!in) {
    std::error_code ec;
    if (!fs::exists(file_, ec)) return {};
    throw Error(Exit::failure, "can't read boot config " + file_.string() + ": " + errno_text(errno),
                "check its permissions");
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_boot_config(text.str(), file_.string());
}

void BootConfigStore::save(const BootConfig& config) const {
  auto fail = [&](const std::string& what, int err) {
    bool denied = err == EACCES || err == EPERM || err == EROFS;
    return Error(denied ? Exit::permission : Exit::failure, "can't " + what + ": " + errno_text(err),
                 denied ? "the boot config is the system's: run as root" : "");
  };
  std::error_code ec;
  fs::create_directories(file_.parent_path(), ec);
  if (ec) throw fail("create " + file_.parent_path().string(), ec.value());

  // A crash at any point leaves the old file or the new one, never a mix: the file decides
  // what the next boot loads.
  auto tmp = file_;
  tmp += ".tmp." + std::to_string(getpid());
  std::string text = format_boot_config(config);
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) throw fail("write " + tmp.string(), errno);
    ::fchmod(fd.get(), 0644);  // readable by all whatever the umask: it holds no secret
    std::size_t done = 0;
    while (done < text.size()) {
      ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int err = errno;
        fs::remove(tmp, ec);
        throw fail("write " + tmp.string(), err);
      }
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) {
      int err = errno;
      fs::remove(tmp, ec);
      throw fail("write " + tmp.string(), err);
    }
  }
  fs::rename(tmp, file_, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw fail("replace " + file_.string(), ec.value());
  }
  // The rename itself must reach the disk too.
  UniqueFd dir(::open(file_.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir) ::fsync(dir.get());
}

BootEntry make_boot_entry(const Catalogue& catalogue, const std::string& plugin, const EnableOptions& options) {
  // The variant's own tunables and ranges: variants are the same plugin with other defaults.
  const CatalogueEntry& entry = catalogue.get(plugin, options.variant);
  auto resolved = resolve_tunables(entry.meta, options.assignments);
  BootEntry boot;
  boot.variant = entry.meta.variant;
  boot.make_default = options.make_default;
  boot.allow = options.allow;
  // Only what was set: the rest follows the plugin's defaults (0x10 is stored as 16).
  for (const auto& text : options.assignments) {
    std::string key = text.substr(0, text.find('='));
    boot.tunables[key] = resolved.at(key);
  }
  return boot;
}

EnableResult enable_at_boot(BootConfig& config, const std::string& plugin, BootEntry entry) {
  EnableResult result;
  result.plugin = plugin;
  if (auto it = config.plugins.find(plugin); it != config.plugins.end()) result.previous = it->second;
  if (entry.make_default) {
    for (auto& [name, other] : config.plugins) {
      if (name != plugin && other.make_default) {
        other.make_default = false;
        result.default_from = name;
      }
    }
  }
  result.entry = entry;
  config.plugins[plugin] = std::move(entry);
  return result;
}

DisableResult disable_at_boot(BootConfig& config, const Catalogue& catalogue, const std::string& plugin) {
  DisableResult result;
  result.plugin = plugin;
  auto it = config.plugins.find(plugin);
  if (it == config.plugins.end()) {
    if (!catalogue.find(plugin)) {
      // Neither enabled nor known: a typo. Suggest from both, since a plugin enabled by an
      // older build may no longer be in the catalogue.
      std::vector<std::string> names;
      for (const auto& e : catalogue.entries())
        if (e.meta.variant == kDefaultVariant) names.push_back(e.meta.name);
      for (const auto& [name, entry] : config.plugins) names.push_back(name);
      auto guess = closest_name(plugin, names);
      throw Error(Exit::usage, "unknown plugin '" + plugin + "'",
                  guess.empty() ? "bpfplug list shows all plugins" : "did you mean '" + guess + "'?");
    }
    return result;
  }
  result.removed = it->second;
  config.plugins.erase(it);
  return result;
}

std::vector<std::string> boot_assignments(const PluginMeta& meta, const BootEntry& entry) {
  std::vector<std::string> explicit_values;
  for (const auto& [k, v] : entry.tunables) explicit_values.push_back(k + "=" + std::to_string(v));
  std::vector<std::string> all;
  for (const auto& [k, v] : resolve_tunables(meta, explicit_values)) all.push_back(k + "=" + std::to_string(v));
  return all;
}

}  // namespace bpfplug
