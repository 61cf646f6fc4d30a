#include "bpfplug/matrix/initramfs.hpp"

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "bpfplug/matrix/archive_layout.hpp"
#include "bpfplug/matrix/cpio.hpp"
#include "bpfplug/matrix/error.hpp"
#include "bpfplug/matrix/ldd.hpp"
#include "bpfplug/matrix/subprocess.hpp"

namespace fs = std::filesystem;

namespace bpfplug::matrix {
namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw MatrixError("can't read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool is_elf(const fs::path& path) {
  char magic[4] = {};
  std::ifstream(path, std::ios::binary).read(magic, 4);
  return std::string_view(magic, 4) == "\x7f" "ELF";
}

// A host file (at its own path unless `guest_path` says otherwise), and what the dynamic linker
// will look for when it runs.
void add_with_libraries(ArchiveLayout& layout, const fs::path& host_path, std::string guest_path = {}) {
  fs::path path = fs::absolute(host_path).lexically_normal();
  if (!fs::exists(path)) throw MatrixError("can't put " + path.string() + " in the initramfs: no such file");
  layout.add_file(guest_path.empty() ? path.string() : guest_path, path);
  if (!is_elf(path)) return;
  for (const auto& lib : shared_libraries_of(path.string()).paths)
    if (!layout.contains(lib)) layout.add_file(lib, lib);
}

// What a root file system needs before /init mounts the rest: mount points, a console for
// /init's output, /var/run for iproute2 (it keeps network namespaces in /var/run/netns).
void add_skeleton(ArchiveLayout& layout) {
  for (const char* dir : {"/proc", "/sys", "/dev", "/run", "/root"}) layout.add_directory(dir);
  layout.add_directory("/tmp", 01777);
  layout.add_char_device("/dev/console", 5, 1, 0600);
  layout.add_char_device("/dev/null", 1, 3, 0666);
  layout.add_symlink("/var/run", "../run");
  layout.add_text("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n", 0644);
  layout.add_text("/etc/group", "root:x:0:\nnogroup:x:65534:\n", 0644);
}

// /bin/busybox and a link for each applet, except those a real tool replaces.
void add_busybox(ArchiveLayout& layout, const fs::path& busybox, const std::set<std::string>& replaced) {
  add_with_libraries(layout, busybox, "/bin/busybox");
  Captured list = run_capture({busybox.string(), "--list"});
  if (list.exit_code != 0) throw MatrixError(busybox.string() + " --list failed: " + list.out);
  std::istringstream applets(list.out);
  for (std::string applet; applets >> applet;)
    if (!replaced.count(applet) && !layout.contains("/bin/" + applet)) layout.add_symlink("/bin/" + applet, "busybox");
}

std::string decompressor(const std::string& path) {
  if (path.ends_with(".xz")) return "xz";
  if (path.ends_with(".zst")) return "zstd";
  if (path.ends_with(".gz")) return "gzip";
  return {};
}

// Modules at /lib/modules/RELEASE/..., decompressed (busybox insmod reads plain .ko only).
std::vector<InitModule> add_modules(ArchiveLayout& layout, const fs::path& kernel_dir, const std::string& release,
                                    const std::vector<std::string>& wanted, const fs::path& work_dir,
                                    std::vector<WantedModule>& report) {
  fs::path dir = kernel_dir / "lib/modules" / release;
  if (!fs::exists(dir / "modules.dep"))
    throw MatrixError("no " + (dir / "modules.dep").string() + " (matrix/fetch-kernels.sh runs depmod)");
  std::string builtin = fs::exists(dir / "modules.builtin") ? read_file(dir / "modules.builtin") : "";
  ModulePlan plan = plan_modules(read_file(dir / "modules.dep"), builtin, wanted);
  report = plan.wanted;

  std::vector<InitModule> steps;
  fs::create_directories(work_dir / "modules");
  for (const auto& path : plan.load_order) {
    std::string guest = "/lib/modules/" + release + "/" + uncompressed_module_path(path);
    fs::path source = dir / path;
    if (std::string tool = decompressor(path); !tool.empty()) {
      fs::path staged = work_dir / "modules" / (module_name(path) + ".ko");
      if (run_to_file({tool, "-dc", source.string()}, staged) != 0)
        throw MatrixError("can't decompress " + source.string() + " with " + tool);
      source = staged;
    }
    layout.add_file(guest, source);
    steps.push_back({module_name(path), guest, {}});
  }
  for (const auto& w : plan.wanted)
    if (w.state != WantedModule::State::load)
      steps.push_back({w.name, {}, w.state == WantedModule::State::builtin ? "builtin" : "missing"});
  return steps;
}

}  // namespace

std::string kernel_release(const fs::path& kernel_dir) {
  fs::path file = kernel_dir / "release";
  if (!fs::exists(file)) throw MatrixError("no " + file.string() + ": is " + kernel_dir.string() + " a kernel fetched by matrix/fetch-kernels.sh?");
  std::string release = read_file(file);
  while (!release.empty() && std::isspace(static_cast<unsigned char>(release.back()))) release.pop_back();
  return release;
}

InitramfsReport build_initramfs(const InitramfsSpec& spec, const fs::path& work_dir, const fs::path& archive) {
  InitramfsReport report;
  report.release = kernel_release(spec.kernel_dir);

  ArchiveLayout layout;
  add_skeleton(layout);
  std::set<std::string> replaced;
  for (const auto& tool : spec.tools) {
    add_with_libraries(layout, tool);
    replaced.insert(tool.filename().string());
  }
  for (const auto& file : spec.files) add_with_libraries(layout, file);
  add_busybox(layout, spec.busybox, replaced);

  InitSpec init = spec.init;
  init.modules = add_modules(layout, spec.kernel_dir, report.release, spec.modules, work_dir, report.modules);
  layout.add_text("/init", render_init_script(init), 0755);

  write_cpio(layout, archive);
  report.entries = layout.entries().size();
  report.bytes = fs::file_size(archive);
  return report;
}

}  // namespace bpfplug::matrix
