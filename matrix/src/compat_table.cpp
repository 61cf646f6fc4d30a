#include "bpfplug/matrix/compat_table.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "bpfplug/matrix/error.hpp"

namespace bpfplug::matrix {
namespace {

using nlohmann::json;

// The probe's entry for `feature`, or null when the guest sent no probe.
const json* probe_feature(const GuestResult& g, std::string_view feature) {
  if (!g.probe.is_object() || !g.probe.contains("features")) return nullptr;
  const auto& features = g.probe["features"];
  auto it = features.find(std::string(feature));
  return it == features.end() ? nullptr : &*it;
}

bool lacks(const GuestResult& g, std::string_view feature) {
  const json* f = probe_feature(g, feature);
  return f && !f->value("supported", true);
}

// "fallback: plain map registration (Linux < 6.4); no atomic swap" -> without the "fallback: ".
std::string consequence(const GuestResult& g, std::string_view feature) {
  std::string text = probe_feature(g, feature)->value("consequence", std::string(feature) + " missing");
  for (std::string_view prefix : {"fallback: ", "unsupported: "})
    if (text.starts_with(prefix)) text.erase(0, prefix.size());
  return text;
}

std::string first_line(const std::string& s, std::size_t max = 160) {
  std::string line = s.substr(0, s.find('\n'));
  return line.size() > max ? line.substr(0, max) + "..." : line;
}

// A failure message starts with "FILE:LINE\n". The line that says most: bpfplug's own error
// (captured CLI output) or an exception, else the assertion with the values it compared. Hints
// and directories are left out: the result file has the whole message.
std::string failure_summary(const std::string& message) {
  std::istringstream in(message);
  std::string location, line;
  std::getline(in, location);
  location = location.substr(location.rfind('/') == std::string::npos ? 0 : location.rfind('/') + 1);
  std::vector<std::string> lines;
  while (std::getline(in, line))
    if (auto start = line.find_first_not_of(" \t"); start != std::string::npos) lines.push_back(line.substr(start));
  std::string said;
  for (const auto& l : lines)
    if (l.starts_with("error: ") || l.find("exception") != std::string::npos) {
      said = l.starts_with("error: ") ? l.substr(7) : l;
      break;
    }
  if (said.empty() && !lines.empty()) {
    said = lines[0];
    if (said.starts_with("Expected equality"))  // the compared expressions and values follow
      for (std::size_t i = 1; i < lines.size() && i <= 4; ++i) said += (i == 1 ? " " : ", ") + lines[i];
  }
  if (auto hint = said.find(" (hint: "); hint != std::string::npos) said.resize(hint);
  return said.empty() ? location : first_line(said) + " (" + location + ")";
}

std::string short_name(const std::string& test) { return test.substr(test.find('.') + 1); }

std::string escape_cell(std::string s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : c == '\n' ? std::string(" ") : std::string(1, c);
  return out;
}

std::string cell_text(const Cell& c) {
  std::string kind(kind_name(c.kind));
  if (c.kind == CellKind::fail) kind = "**FAIL**";
  return escape_cell(c.reason.empty() ? kind : kind + ": " + c.reason);
}

std::string seconds(double s) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << s << " s";
  return out.str();
}

}  // namespace

std::string_view kind_name(CellKind kind) {
  switch (kind) {
    case CellKind::pass: return "pass";
    case CellKind::supported: return "supported";
    case CellKind::fallback: return "fallback";
    case CellKind::unsupported: return "unsupported";
    case CellKind::skipped: return "skipped";
    case CellKind::not_run: return "not run";
    case CellKind::fail: return "FAIL";
  }
  return "?";
}

CellKind kind_from_name(std::string_view name) {
  for (auto k : {CellKind::pass, CellKind::supported, CellKind::fallback, CellKind::unsupported, CellKind::skipped,
                 CellKind::not_run, CellKind::fail})
    if (kind_name(k) == name) return k;
  throw MatrixError("unknown outcome '" + std::string(name) + "'");
}

bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p, ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Cell evaluate(const FeatureRow& row, const GuestResult& g) {
  // A guest that did not finish still proves what ran before the end; the rest was not run.
  std::string not_run = g.timed_out      ? "the guest timed out"
                        : !g.completed() ? "the guest did not finish (see its serial log)"
                                         : "no test run matched";

  std::vector<const TestOutcome*> matched;
  for (const auto& t : g.tests)
    for (auto pattern : row.tests)
      if (glob_match(pattern, t.name)) {
        matched.push_back(&t);
        break;
      }
  std::size_t passed = 0, skipped = 0;
  for (const auto* t : matched) {
    if (t->status == "failed") return {CellKind::fail, short_name(t->name) + ": " + failure_summary(t->message)};
    (t->status == "skipped" ? skipped : passed)++;
  }

  for (auto feature : row.requires_features)
    if (lacks(g, feature)) return {row.when_missing, consequence(g, feature)};
  if (row.tests.empty()) {  // the probe alone decides, from the row's first requirement
    const json* f = row.requires_features.empty() ? nullptr : probe_feature(g, row.requires_features.front());
    if (!f) return {CellKind::not_run, g.completed() ? "no probe output" : not_run};
    return {CellKind::supported, "probe: " + f->value("detail", "")};
  }
  if (matched.empty()) return {CellKind::not_run, not_run};
  if (passed == 0) return {CellKind::skipped, first_line(matched.front()->message)};

  std::string reasons;
  for (auto feature : row.degrades_without)
    if (lacks(g, feature)) reasons += (reasons.empty() ? "" : "; ") + consequence(g, feature);
  if (!reasons.empty()) return {CellKind::fallback, reasons};
  if (skipped > 0) return {CellKind::pass, std::to_string(skipped) + " of " + std::to_string(matched.size()) + " skipped"};
  return {CellKind::pass, {}};
}

CompatTable compat_table(const std::vector<GuestResult>& guests, const std::vector<FeatureRow>& rows) {
  CompatTable table;
  for (const auto& g : guests) table.guests.push_back(g.guest);
  for (const auto& row : rows) {
    table.features.emplace_back(row.feature);
    auto& line = table.cells.emplace_back();
    for (const auto& g : guests) line.push_back(evaluate(row, g));
  }
  return table;
}

namespace {

// The figures tests recorded (RecordProperty), one table per test: a row per figure, a column
// per kernel the test recorded them on.
void render_figures(std::ostringstream& md, const std::vector<GuestResult>& guests) {
  std::vector<std::string> names;  // in order of first appearance
  for (const auto& g : guests)
    for (const auto& t : g.tests)
      if (!t.properties.empty() && std::find(names.begin(), names.end(), t.name) == names.end())
        names.push_back(t.name);
  if (names.empty()) return;
  md << "\n## Figures the tests measured\n\n"
     << "What the tests recorded on each kernel (they assert on these; see the test's source for the "
     << "margins), from the same run.\n";
  for (const auto& name : names) {
    std::vector<std::pair<std::string, const TestOutcome*>> columns;
    std::vector<std::string> figures;
    for (const auto& g : guests)
      for (const auto& t : g.tests) {
        if (t.name != name || t.properties.empty()) continue;
        columns.emplace_back(g.guest + (t.status == "passed" ? "" : " (" + t.status + ")"), &t);
        for (const auto& [k, v] : t.properties)
          if (std::find(figures.begin(), figures.end(), k) == figures.end()) figures.push_back(k);
      }
    md << "\n### " << escape_cell(name) << "\n\n| figure |";
    for (const auto& c : columns) md << ' ' << escape_cell(c.first) << " |";
    md << "\n|---|";
    for (std::size_t i = 0; i < columns.size(); ++i) md << "---|";
    md << '\n';
    for (const auto& f : figures) {
      md << "| " << escape_cell(f) << " |";
      for (const auto& c : columns) {
        auto it = c.second->properties.find(f);
        md << ' ' << (it == c.second->properties.end() ? "-" : escape_cell(it->second)) << " |";
      }
      md << '\n';
    }
  }
}

}  // namespace

std::string render_markdown(const CompatTable& table, const std::vector<GuestResult>& guests,
                            const std::string& command, const std::string& date) {
  std::ostringstream md;
  md << "# Kernel compatibility\n\n"
     << "<!-- Generated by bpfplug-matrix table: do not edit by hand, run the command below again. -->\n"
     << "Generated by `bpfplug-matrix table` on " << date << " from the last kernel-matrix run "
     << "([how the matrix runs](../matrix/README-runner.md)); never edited by hand. The command:\n\n"
     << "```sh\n" << command << "\n```\n\n"
     << "Cells: **pass** (the tests ran and passed), **fallback** (works, through the fallback named), "
     << "**unsupported** (the kernel lacks what the feature needs), **supported** (the probe finds it; "
     << "no test yet), **skipped** (the tests skipped themselves, saying why), **not run**, **FAIL**.\n\n";

  md << "| feature |";
  for (const auto& g : table.guests) md << ' ' << escape_cell(g) << " |";
  md << "\n|---|";
  for (std::size_t i = 0; i < table.guests.size(); ++i) md << "---|";
  md << '\n';
  for (std::size_t f = 0; f < table.features.size(); ++f) {
    md << "| " << escape_cell(table.features[f]) << " |";
    for (const auto& c : table.cells[f]) md << ' ' << cell_text(c) << " |";
    md << '\n';
  }

  md << "\n## The runs\n\n| kernel | release | tests passed / failed / skipped | boot | wall time | notes |\n"
     << "|---|---|---|---|---|---|\n";
  for (const auto& g : guests) {
    std::size_t counts[3] = {};
    for (const auto& t : g.tests) counts[t.status == "passed" ? 0 : t.status == "failed" ? 1 : 2]++;
    std::string notes;
    if (g.timed_out) notes += "timed out; ";
    for (const auto& m : g.missing_markers) notes += "no " + m + " marker; ";
    for (const auto& e : g.errors) notes += e + "; ";
    for (const auto& [name, state] : g.modules)
      if (state != "loaded") notes += name + " " + state + "; ";
    if (notes.size() >= 2) notes.resize(notes.size() - 2);
    md << "| " << escape_cell(g.guest) << " | " << escape_cell(g.release) << " | " << counts[0] << " / " << counts[1]
       << " / " << counts[2] << " | " << (g.boot_seconds > 0 ? seconds(g.boot_seconds) : "-") << " | "
       << seconds(g.wall_seconds) << " | " << escape_cell(notes) << " |\n";
  }
  render_figures(md, guests);
  return md.str();
}

}  // namespace bpfplug::matrix
