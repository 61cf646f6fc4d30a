#include "bpfplug/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "bpfplug/error.hpp"

namespace bpfplug {

int FileLock::default_timeout_ms() {
  const char* text = std::getenv("BPFPLUG_LOCK_TIMEOUT_MS");
  return text && *text ? std::atoi(text) : 10000;
}

FileLock::FileLock(const std::filesystem::path& path) : FileLock(path, default_timeout_ms()) {}

FileLock::FileLock(const std::filesystem::path& path, int timeout_ms) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  fd_.reset(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd_) throw Error(Exit::failure, "can't open lock file " + path.string() + ": " + errno_text(errno));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) throw Error(Exit::failure, "can't lock " + path.string() + ": " + errno_text(errno));
    if (std::chrono::steady_clock::now() >= deadline)
      throw Error(Exit::conflict,
                  "another bpfplug is changing plugins (it holds " + path.string() + "); waited " +
                      std::to_string(timeout_ms) + " ms",
                  "wait for it to finish and run the command again");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace bpfplug
