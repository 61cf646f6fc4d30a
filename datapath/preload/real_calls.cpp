#include "real_calls.hpp"

#include <dlfcn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

namespace bpfplug::preload {
namespace {

RealCalls g_real;
std::once_flag g_resolved;

template <typename F>
void resolve(F& slot, const char* name, bool optional = false) {
  slot = reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
  if (slot || optional) return;
  // No logging machinery yet: this runs before anything else works.
  const char* head = "bpfplug-preload: libc has no ";
  ::syscall(SYS_write, 2, head, std::strlen(head));
  ::syscall(SYS_write, 2, name, std::strlen(name));
  ::syscall(SYS_write, 2, "\n", 1);
  std::abort();
}

void resolve_all() {
  RealCalls& r = g_real;
  resolve(r.socket, "socket");
  resolve(r.connect, "connect");
  resolve(r.listen, "listen");
  resolve(r.accept, "accept");
  resolve(r.accept4, "accept4");
  resolve(r.close, "close");
  resolve(r.close_range, "close_range", true);  // glibc 2.34+
  resolve(r.shutdown, "shutdown");
  resolve(r.dup, "dup");
  resolve(r.dup2, "dup2");
  resolve(r.dup3, "dup3");
  resolve(r.fcntl, "fcntl");
  resolve(r.send, "send");
  resolve(r.sendto, "sendto");
  resolve(r.sendmsg, "sendmsg");
  resolve(r.sendmmsg, "sendmmsg");
  resolve(r.write, "write");
  resolve(r.writev, "writev");
  resolve(r.recv, "recv");
  resolve(r.recvfrom, "recvfrom");
  resolve(r.recvmsg, "recvmsg");
  resolve(r.recvmmsg, "recvmmsg");
  resolve(r.read, "read");
  resolve(r.readv, "readv");
  resolve(r.poll, "poll");
  resolve(r.ppoll, "ppoll");
  resolve(r.select, "select");
  resolve(r.pselect, "pselect");
  resolve(r.epoll_ctl, "epoll_ctl");
  resolve(r.epoll_wait, "epoll_wait");
  resolve(r.epoll_pwait, "epoll_pwait");
  resolve(r.epoll_pwait2, "epoll_pwait2", true);  // glibc 2.35+
  resolve(r.sendfile, "sendfile");
  resolve(r.splice, "splice");
}

}  // namespace

const RealCalls& real() {
  std::call_once(g_resolved, resolve_all);
  return g_real;
}

}  // namespace bpfplug::preload
