#pragma once

#include "latencyhistogram.h"
#include "loadgenoptions.h"
#include "responseframer.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace Bench
{
    // Drives one measurement: a pool of keep-alive connections on one epoll loop, either on
    // a fixed open-loop schedule or closed loop, recording latencies into a histogram.
    // Single-threaded by design: one core, no locks, same cost for every target measured.
    class LoadRunner final
    {
    public:
        explicit LoadRunner(const LoadgenOptions &options);
        ~LoadRunner();
        LoadRunner(const LoadRunner &) = delete;
        LoadRunner &operator=(const LoadRunner &) = delete;

        // Opens every connection before the clock starts, so connection setup is never
        // measured as request latency. False (with a message) if the target is unreachable.
        bool setUp(std::string &error);
        void run();
        void printJson() const;

    private:
        struct Connection
        {
            enum class State { Closed, Connecting, Idle, Sending, Waiting };

            int fd = -1;
            State state = State::Closed;
            bool wantWrite = false;        // EPOLLOUT currently registered
            std::size_t sendOffset = 0;
            std::int64_t startNs = 0;      // scheduled (open loop) or actual (closed loop) send time
            bool measured = false;         // inside the measured window
            std::int64_t retryAtNs = 0;    // when Closed: earliest reconnect
            std::uint32_t generation = 0;  // bumped per socket, so stale epoll events are ignored
            ResponseFramer framer;
            std::unique_ptr<char[]> buffer;
            std::size_t buffered = 0;
        };

        struct Totals
        {
            std::uint64_t requests = 0;           // measured responses (any status)
            std::uint64_t errors = 0;             // measured requests lost to I/O or protocol errors, or timeouts
            std::uint64_t timeouts = 0;           // measured requests still unanswered after the drain period
            std::uint64_t non2xx = 0;
            std::uint64_t windowCompletions = 0;  // responses that completed inside the measured window
            std::uint64_t reconnects = 0;
        };

        std::int64_t scheduledNs(std::uint64_t index) const;
        bool finished(std::int64_t now) const;
        void dispatchPending();
        void accountUnfinished();
        void setWriteInterest(std::size_t i, bool want);
        void openConnection(std::size_t i);
        std::uint64_t eventTag(std::size_t i) const;
        void markBroken(std::size_t i);
        void retryClosed(std::int64_t now);
        std::int64_t nextRetryNs(std::int64_t fallback) const;
        void fail(std::size_t i);
        void dispatch(std::size_t i, std::int64_t startNs, bool measured);
        void trySend(std::size_t i);
        void becomeIdle(std::size_t i, std::int64_t now);
        void complete(std::size_t i);
        void onReadable(std::size_t i);
        void onWritable(std::size_t i);
        void waitAndDispatchEvents(std::int64_t wakeNs);

        const LoadgenOptions &m_options;
        const bool m_open = m_options.mode == LoadgenOptions::Mode::OpenLoop;
        std::vector<Connection> m_connections;
        std::vector<std::size_t> m_idle;  // stack: reusing the hottest connection first
        int m_epollFd = -1;
        int m_timerFd = -1;
        std::int64_t m_armedNs = -1;
        std::size_t m_brokenCount = 0;
        std::uint64_t m_inFlight = 0;

        std::int64_t m_startNs = 0;
        std::int64_t m_warmupEndNs = 0;
        std::int64_t m_endNs = 0;
        std::uint64_t m_warmupCount = 0;
        std::uint64_t m_totalCount = 0;
        std::uint64_t m_dueCount = 0;
        std::uint64_t m_dispatched = 0;

        LatencyHistogram m_histogram;
        Totals m_totals;
    };
}

