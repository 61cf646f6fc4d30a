// bpfplug-matrix: run the kernel test suite on guest kernels under qemu, and turn the results
// into docs/compatibility.md and a CI verdict. Usage: matrix/README-runner.md.
#include <CLI/CLI.hpp>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>

#include "bpfplug/matrix/compat_table.hpp"
#include "bpfplug/matrix/error.hpp"
#include "bpfplug/matrix/gate.hpp"
#include "bpfplug/matrix/runner.hpp"

namespace fs = std::filesystem;
using namespace bpfplug::matrix;

namespace {

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw MatrixError("can't read " + path.string());
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) throw MatrixError(path.string() + " is not JSON");
  return j;
}

void write_text(const fs::path& path, const std::string& text) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) throw MatrixError("can't write " + path.string());
}

// Result files of `run` and `host`; a plain gtest JSON (a host suite run) is taken as the
// host's column, without probe.
std::vector<GuestResult> read_results(const std::vector<std::string>& files) {
  std::vector<GuestResult> results;
  for (const auto& f : files) {
    auto j = read_json(f);
    if (!j.contains("testsuites")) {
      results.push_back(guest_result_from_json(j));
      continue;
    }
    GuestResult host;
    host.guest = host_guest_name();
    host.tests = tests_from_gtest_json(j);
    results.push_back(host);
  }
  return results;
}

std::string kernel_cache() {
  const char* env = std::getenv("BPFPLUG_KERNEL_CACHE");
  return env && *env ? env : "/var/cache/bpfplug/kernels";
}

std::string today() {
  std::time_t now = std::time(nullptr);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", std::gmtime(&now));
  return buf;
}

std::string command_line(int argc, char** argv) {
  std::string s = "bpfplug-matrix";
  for (int i = 1; i < argc; ++i) s += std::string(" ") + argv[i];
  return s;
}

void print_summary(const GuestResult& r, const fs::path& out) {
  std::size_t passed = 0, failed = 0, skipped = 0;
  for (const auto& t : r.tests) {
    (t.status == "passed" ? passed : t.status == "failed" ? failed : skipped)++;
    if (t.status == "failed") std::cout << "  FAILED  " << t.name << '\n';
  }
  std::cout << r.guest << " (" << r.release << "): " << passed << " passed, " << failed << " failed, " << skipped
            << " skipped; boot " << r.boot_seconds << " s, wall " << r.wall_seconds << " s -> " << out.string() << '\n';
  for (const auto& e : r.errors) std::cout << "warning: " << e << '\n';
}

int verb_run(GuestRunOptions o, unsigned timeout, const fs::path& out) {
  o.timeout = std::chrono::seconds(timeout);
  if (o.kernel_dir.empty()) o.kernel_dir = fs::path(kernel_cache()) / o.guest;
  if (o.log.empty()) o.log = fs::path(out).replace_extension(".log");
  if (o.log.has_parent_path()) fs::create_directories(o.log.parent_path());
  GuestResult r = run_guest(o, std::cerr);
  if (!o.command.empty()) std::cout << r.output;
  write_text(out, to_json(r).dump(2) + "\n");
  if (!r.dmesg.empty()) write_text(fs::path(out).replace_extension(".dmesg"), r.dmesg);
  print_summary(r, out);
  if (r.timed_out) {
    std::cerr << "error: guest " << o.guest << " timed out after " << timeout << " s and was killed (serial log "
              << o.log.string() << ")\n";
    return 1;
  }
  if (!r.completed()) {
    std::string missing;
    for (const auto& m : r.missing_markers) missing += " " + m;
    std::cerr << "error: guest " << o.guest << " did not run to its end (missing markers:" << missing
              << "); boot failure or crash, see " << o.log.string() << '\n';
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bpfplug-matrix: the kernel test suite on guest kernels under qemu, and the compatibility table"};
  app.require_subcommand(1);

  GuestRunOptions run;
  unsigned run_timeout = 900;
  std::string run_out;
  std::vector<std::string> modules;
  auto* run_cmd = app.add_subcommand("run", "boot one guest kernel and run the kernel tests in it");
  run_cmd->add_option("--guest", run.guest, "GUEST name, e.g. 6.1 (the column title)")->required();
  run_cmd->add_option("--kernel-dir", run.kernel_dir, "DIR with vmlinuz, release, lib/modules (default $BPFPLUG_KERNEL_CACHE/GUEST)");
  run_cmd->add_option("--test-binary", run.test_binary, "PATH of bpfplug_kernel_tests")->check(CLI::ExistingFile);
  run_cmd->add_option("--cli", run.cli, "PATH of bpfplug (the one the test binary was built with)")->required()->check(CLI::ExistingFile);
  run_cmd->add_option("--filter", run.filter, "GTEST_FILTER for the test binary");
  run_cmd->add_option("--timeout", run_timeout, "SECONDS before the guest is killed");
  run_cmd->add_option("--out", run_out, "FILE for the result JSON")->required();
  run_cmd->add_option("--log", run.log, "FILE for the serial console (default: --out with .log)");
  run_cmd->add_option("--module", modules, "MODULE to insmod in the guest (repeatable; default: the tests' set)");
  run_cmd->add_option("--file", run.extra_files, "extra host FILE to put in the guest at its own path")->check(CLI::ExistingFile);
  run_cmd->add_option("--command", run.command, "debug: run this shell COMMAND in the guest instead of the tests");
  run_cmd->add_option("--memory", run.memory_mb, "guest MiB");
  run_cmd->add_option("--cpu", run.cpu, "qemu -cpu MODEL");
  run_cmd->add_option("--busybox", run.busybox, "static busybox PATH")->check(CLI::ExistingFile);
  run_cmd->add_option("--keep-initramfs", run.keep_initramfs, "copy the initramfs to FILE");

  HostRunOptions host;
  unsigned host_timeout = 1800;
  std::string host_out;
  auto* host_cmd = app.add_subcommand("host", "the same results from the host's own kernel (native run, or a gtest JSON of one)");
  host_cmd->add_option("--guest", host.guest, "column title (default: MAJOR.MINOR (host))");
  host_cmd->add_option("--cli", host.cli, "PATH of bpfplug, for the probe")->required()->check(CLI::ExistingFile);
  host_cmd->add_option("--test-binary", host.test_binary, "run this PATH here")->check(CLI::ExistingFile);
  host_cmd->add_option("--gtest-json", host.gtest_json, "or take this gtest JSON FILE")->check(CLI::ExistingFile);
  host_cmd->add_option("--output", host.output, "that run's console output FILE (for skip messages)")->check(CLI::ExistingFile);
  host_cmd->add_option("--filter", host.filter, "GTEST_FILTER");
  host_cmd->add_option("--timeout", host_timeout, "SECONDS");
  host_cmd->add_option("--out", host_out, "FILE for the result JSON")->required();

  std::string parse_guest, parse_log, parse_out;
  auto* parse_cmd = app.add_subcommand("parse", "read a serial log of `run` again (no boot)");
  parse_cmd->add_option("--guest", parse_guest, "GUEST name")->required();
  parse_cmd->add_option("--log", parse_log, "serial log FILE")->required()->check(CLI::ExistingFile);
  parse_cmd->add_option("--out", parse_out, "FILE for the result JSON")->required();

  std::string table_out;
  std::vector<std::string> table_results;
  auto* table_cmd = app.add_subcommand("table", "write docs/compatibility.md from result files");
  table_cmd->add_option("--out", table_out, "FILE to write")->required();
  table_cmd->add_option("results", table_results, "RESULT.json files, one per kernel, in column order")->required()->check(CLI::ExistingFile);

  std::string expectations_file;
  std::vector<std::string> gate_results;
  auto* gate_cmd = app.add_subcommand("gate", "fail (exit 1) if a feature does worse than expected on any kernel");
  gate_cmd->add_option("--expectations", expectations_file, "FILE (matrix/expectations.json)")->required()->check(CLI::ExistingFile);
  gate_cmd->add_option("results", gate_results, "RESULT.json files")->required()->check(CLI::ExistingFile);

  std::string expect_out;
  std::vector<std::string> expect_results;
  auto* expect_cmd = app.add_subcommand("expect", "write what the results show as expectations (never a FAIL)");
  expect_cmd->add_option("--out", expect_out, "FILE to write (matrix/expectations.json)")->required();
  expect_cmd->add_option("results", expect_results, "RESULT.json files")->required()->check(CLI::ExistingFile);

  CLI11_PARSE(app, argc, argv);
  try {
    if (*run_cmd) {
      if (!modules.empty()) run.modules = modules;
      return verb_run(run, run_timeout, run_out);
    }
    if (*host_cmd) {
      host.timeout = std::chrono::seconds(host_timeout);
      host.log = fs::path(host_out).replace_extension(".log");
      if (host.log.has_parent_path()) fs::create_directories(host.log.parent_path());
      GuestResult r = run_host(host, std::cerr);
      write_text(host_out, to_json(r).dump(2) + "\n");
      print_summary(r, host_out);
      return r.completed() ? 0 : 1;
    }
    if (*parse_cmd) {
      std::ifstream in(parse_log, std::ios::binary);
      std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      GuestResult r = parse_serial_log(log);
      r.guest = parse_guest;
      write_text(parse_out, to_json(r).dump(2) + "\n");
      print_summary(r, parse_out);
      return r.completed() ? 0 : 1;
    }
    if (*table_cmd) {
      auto results = read_results(table_results);
      write_text(table_out, render_markdown(compat_table(results), results, command_line(argc, argv), today()));
      std::cout << "wrote " << table_out << '\n';
      return 0;
    }
    if (*expect_cmd) {
      write_text(expect_out, observed_expectations(compat_table(read_results(expect_results))).dump(2) + "\n");
      std::cout << "wrote " << expect_out << " (review it: it records today's outcomes as the floor)\n";
      return 0;
    }
    if (*gate_cmd) {
      GateReport report = gate(parse_expectations(read_json(expectations_file)), compat_table(read_results(gate_results)));
      for (const auto& f : report.improvements)
        std::cout << "note: " << f.guest << " / " << f.feature << ": better than expected (" << f.expected << " -> "
                  << f.actual << "); update " << expectations_file << '\n';
      for (const auto& f : report.regressions)
        std::cout << "error: " << f.guest << " / " << f.feature << ": expected " << f.expected << ", got " << f.actual << '\n';
      std::cout << (report.passed() ? "gate: passed" : "gate: FAILED, " + std::to_string(report.regressions.size()) + " regression(s)")
                << '\n';
      return report.passed() ? 0 : 1;
    }
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
