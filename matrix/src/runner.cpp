#include "bpfplug/matrix/runner.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "bpfplug/matrix/error.hpp"
#include "bpfplug/matrix/guest_run.hpp"
#include "bpfplug/matrix/initramfs.hpp"
#include "bpfplug/matrix/subprocess.hpp"

namespace fs = std::filesystem;

namespace bpfplug::matrix {
namespace {

constexpr const char* kGuestGtestJson = "/tmp/results.json";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A private temporary directory, removed when the run ends.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "bpfplug-matrix-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw MatrixError("can't create a temporary directory in " + fs::temp_directory_path().string());
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The guest stops the command a little before the host stops the guest, so a hung test still
// leaves time to send out what the others did.
unsigned inner_timeout(std::chrono::seconds outer) {
  auto s = static_cast<unsigned>(outer.count());
  unsigned margin = std::max(30u, s / 10);
  return s > margin + 10 ? s - margin : std::max(5u, s / 2);
}

InitramfsSpec initramfs_spec(const GuestRunOptions& o) {
  InitramfsSpec spec;
  spec.kernel_dir = o.kernel_dir;
  spec.busybox = o.busybox;
  spec.modules = o.modules;
  spec.files = o.extra_files;
  spec.files.push_back(o.cli);
  for (const auto& name : default_guest_tools()) {
    fs::path tool = name.starts_with("/") ? fs::path(name) : find_program(name);
    if (tool.empty()) throw MatrixError("no " + name + " on this host (the kernel tests run it in the guest)");
    spec.tools.push_back(tool);
  }
  spec.init.cli = fs::absolute(o.cli).lexically_normal().string();
  spec.init.command_timeout_seconds = inner_timeout(o.timeout);
  if (!o.command.empty()) {
    spec.init.command = {"/bin/sh", "-c", o.command};
  } else {
    if (o.test_binary.empty()) throw MatrixError("run needs --test-binary (or --command)");
    spec.files.push_back(o.test_binary);
    spec.init.command = {fs::absolute(o.test_binary).lexically_normal().string(), "--gtest_filter=" + o.filter,
                         std::string("--gtest_output=json:") + kGuestGtestJson};
    spec.init.gtest_output = kGuestGtestJson;
  }
  return spec;
}

// One progress line in one write: guests run side by side and share the terminal.
void say(std::ostream& progress, const std::string& line) { progress << (line + '\n') << std::flush; }

}  // namespace

const std::vector<std::string>& default_guest_modules() {
  static const std::vector<std::string> modules = {"veth",    "sch_tbf",   "sch_htb",   "sch_ingress", "cls_bpf",
                                                   "tcp_dctcp", "sch_netem", "sch_red", "sch_fq"};
  return modules;
}

const std::vector<std::string>& default_guest_tools() {
  // /bin/sh is the host's (dash): Debian's busybox ash runs its own applets before PATH, so
  // `ip netns exec` in a test would get busybox's ip, which has no netns.
  static const std::vector<std::string> tools = {"/bin/sh", "ip", "tc", "ethtool", "sysctl"};
  return tools;
}

GuestResult run_guest(const GuestRunOptions& o, std::ostream& progress) {
  TempDir work;
  fs::path initrd = work.path() / "initramfs.cpio";
  InitramfsSpec spec = initramfs_spec(o);
  InitramfsReport built = build_initramfs(spec, work.path(), initrd);
  say(progress, "initramfs: " + std::to_string(built.entries) + " entries, " +
                     std::to_string(built.bytes / (1024 * 1024)) + " MiB, kernel " + built.release);
  for (const auto& m : built.modules)
    if (m.state == WantedModule::State::missing) say(progress, "note: " + m.name + " is not a module of " + built.release);
  if (!o.keep_initramfs.empty()) fs::copy_file(initrd, o.keep_initramfs, fs::copy_options::overwrite_existing);

  GuestBoot boot;
  boot.kernel = o.kernel_dir / "vmlinuz";
  boot.initrd = initrd;
  boot.log = o.log;
  boot.timeout = o.timeout;
  boot.memory_mb = o.memory_mb;
  boot.cpu = o.cpu;
  say(progress, "booting " + o.guest + " (timeout " + std::to_string(o.timeout.count()) + " s), serial log " +
                     o.log.string());
  BootOutcome outcome = boot_guest(boot);

  GuestResult result = parse_serial_log(read_file(o.log), o.command.empty());
  result.guest = o.guest;
  result.wall_seconds = outcome.wall_seconds;
  result.timed_out = outcome.timed_out;
  if (result.release.empty()) result.release = built.release;
  return result;
}

std::string host_guest_name() {
  utsname u{};
  uname(&u);
  int major = 0, minor = 0;
  std::sscanf(u.release, "%d.%d", &major, &minor);
  return std::to_string(major) + "." + std::to_string(minor) + " (host)";
}

GuestResult run_host(const HostRunOptions& o, std::ostream& progress) {
  GuestResult result;
  result.guest = o.guest.empty() ? host_guest_name() : o.guest;
  Captured probe = run_capture({o.cli.string(), "--json", "probe"}, false);
  result.probe = nlohmann::json::parse(probe.out, nullptr, false);
  if (result.probe.is_discarded()) throw MatrixError(o.cli.string() + " --json probe did not print JSON: " + probe.out);
  result.release = result.probe.value("kernel", "");

  fs::path gtest_json = o.gtest_json;
  std::string output = o.output.empty() ? "" : read_file(o.output);
  std::optional<TempDir> work;
  if (gtest_json.empty()) {
    if (o.test_binary.empty()) throw MatrixError("host needs --test-binary or --gtest-json");
    work.emplace();
    gtest_json = work->path() / "results.json";
    std::ofstream(o.log, std::ios::trunc);
    say(progress, "running " + o.test_binary.string() + " here, console output in " + o.log.string());
    Bounded run = run_bounded({o.test_binary.string(), "--gtest_filter=" + o.filter, "--gtest_output=json:" + gtest_json.string()},
                              o.log, o.timeout);
    result.command_exit = run.exit_code;
    result.wall_seconds = run.wall_seconds;
    result.timed_out = run.timed_out;
    output = read_file(o.log);
  }
  auto gtest = nlohmann::json::parse(read_file(gtest_json), nullptr, false);
  if (gtest.is_discarded()) {
    result.missing_markers.push_back("gtest");
    result.errors.push_back("no gtest JSON from the host run");
  } else {
    result.tests = tests_from_gtest_json(gtest, output);
  }
  return result;
}

}  // namespace bpfplug::matrix
