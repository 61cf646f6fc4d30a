// poll/select/epoll for compressed connections: a connection holding decoded bytes the program
// has not read is readable even when the kernel has nothing queued (the bytes came off the
// socket with an earlier read). Tracks the program's epoll registrations to report those.
#pragma once

namespace bpfplug::preload {

// `fd` is being closed: forget its epoll registrations (and the registrations of `fd` itself
// if it is an epoll instance). `deregister`: also take it out of the kernel's epoll sets,
// because a descriptor of the library's own keeps the socket open after close.
void epoll_forget(int fd, bool deregister);

void readiness_prepare_fork();
void readiness_parent_after_fork();
void readiness_child_after_fork();

}  // namespace bpfplug::preload
