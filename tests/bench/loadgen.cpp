// switchyard-loadgen: an open- and closed-loop HTTP/1.1 load generator for the gateway
// benchmark (docs/BENCHMARKS.md). Plain C++20 and epoll so that it costs little CPU on the
// core it shares with the upstream, and so that its own overhead is identical for every
// target it measures.

#include "loadgenoptions.h"
#include "loadrunner.h"

#include <sched.h>
#include <sys/prctl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

namespace
{
    bool pinToCpu(int cpu)
    {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        return sched_setaffinity(0, sizeof set, &set) == 0;
    }
}

int main(int argc, char **argv)
{
    std::string error;
    const std::optional<Bench::LoadgenOptions> options = Bench::parseLoadgenOptions(argc, argv, error);
    if (!options) {
        std::fputs(Bench::loadgenUsage(), error.empty() ? stdout : stderr);
        if (error.empty())
            return 0;
        std::fprintf(stderr, "switchyard-loadgen: %s\n", error.c_str());
        return 64;
    }
    if (options->cpu >= 0 && !pinToCpu(options->cpu)) {
        std::fprintf(stderr, "switchyard-loadgen: cannot pin to CPU %d: %s\n", options->cpu, std::strerror(errno));
        return 1;
    }
    // Default timer slack (50 us) would blur the open-loop schedule at 5,000 req/s (200 us apart).
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

    Bench::LoadRunner runner(*options);
    if (!runner.setUp(error)) {
        const bool open = options->mode == Bench::LoadgenOptions::Mode::OpenLoop;
        std::printf("{\"mode\":\"%s\",\"error\":\"%s\"}\n", open ? "open" : "closed", error.c_str());
        std::fprintf(stderr, "switchyard-loadgen: %s\n", error.c_str());
        return 2;
    }
    runner.run();
    runner.printJson();
    return 0;
}
