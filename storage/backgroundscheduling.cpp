#include "backgroundscheduling.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

namespace Storage {

bool adoptBackgroundScheduling(int niceValue, int realtimeAbove)
{
    bool realtime = false;
    const int policy = ::sched_getscheduler(::getpid());
    if (policy == SCHED_RR || policy == SCHED_FIFO) {
        sched_param param {};
        if (::sched_getparam(::getpid(), &param) == 0) {
            param.sched_priority = std::min(param.sched_priority + realtimeAbove, ::sched_get_priority_max(policy));
            realtime = ::pthread_setschedparam(::pthread_self(), policy, &param) == 0;
        }
    }
    if (!realtime) {
        ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), niceValue);
    }
    return realtime;
}

} // namespace Storage
