// Owners for libbpf handles and bpffs pins. Every kernel object bpfplug touches is held by one
// of these, so an error at any step releases what the steps before it created.
#pragma once

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <filesystem>
#include <memory>

namespace bpfplug {

struct BpfObjectCloser {
  void operator()(bpf_object* obj) const noexcept { bpf_object__close(obj); }
};
using BpfObjectPtr = std::unique_ptr<bpf_object, BpfObjectCloser>;

// Destroying a bpf_link detaches it: for a struct_ops link that unregisters the ops.
// bpf_link__disconnect() before destruction keeps the kernel object alive (pinned).
struct BpfLinkDestroyer {
  void operator()(bpf_link* link) const noexcept { bpf_link__destroy(link); }
};
using BpfLinkPtr = std::unique_ptr<bpf_link, BpfLinkDestroyer>;

struct BtfFreer {
  void operator()(btf* b) const noexcept { btf__free(b); }
};
using BtfPtr = std::unique_ptr<btf, BtfFreer>;

// A path in bpffs that this process pinned. Removed on destruction unless keep() was called,
// so a failed load leaves nothing pinned behind.
class PinGuard {
 public:
  PinGuard() = default;
  explicit PinGuard(std::filesystem::path path) : path_(std::move(path)) {}
  PinGuard(PinGuard&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  PinGuard& operator=(PinGuard&&) = delete;
  PinGuard(const PinGuard&) = delete;
  PinGuard& operator=(const PinGuard&) = delete;
  ~PinGuard() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove(path_, ignored);
  }
  void keep() noexcept { path_.clear(); }

 private:
  std::filesystem::path path_;
};

}  // namespace bpfplug
