#include "bpfplug/testbed/timely_thread.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>

namespace bpfplug::testbed {

bool make_this_thread_timely() {
  prctl(PR_SET_TIMERSLACK, 1UL);
  sched_param param{};
  param.sched_priority = 50;
  return pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0;
}

}  // namespace bpfplug::testbed
