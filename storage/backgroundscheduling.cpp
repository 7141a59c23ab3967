#include "backgroundscheduling.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

namespace Storage {

bool adoptBackgroundScheduling(int niceValue)
{
    bool realtime = false;
    const int policy = ::sched_getscheduler(::getpid());
    if (policy == SCHED_RR || policy == SCHED_FIFO) {
        sched_param param {};
        realtime = ::sched_getparam(::getpid(), &param) == 0 && ::pthread_setschedparam(::pthread_self(), policy, &param) == 0;
    }
    if (!realtime) {
        ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), niceValue);
    }
    return realtime;
}

} // namespace Storage
