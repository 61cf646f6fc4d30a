// For the threads that emulate the path (the delay line) or measure it (probes): on a machine
// with few CPUs, the flows' own threads and softirqs keep the CPUs busy, and an ordinary thread
// waits milliseconds to run after its timer fires: delay that no real link has.
#pragma once

namespace bpfplug::testbed {

// Makes the calling thread wake on time: timer slack of 1 ns (default 50 us) and, when allowed
// (root), SCHED_FIFO priority 50 so it preempts the workload. Such threads block between
// packets; the kernel's RT throttling (sched_rt_runtime_us) still bounds them. Returns whether
// the real-time priority was granted.
bool make_this_thread_timely();

}  // namespace bpfplug::testbed
