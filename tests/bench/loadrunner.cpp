#include "loadrunner.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace Bench
{
    namespace
    {
        constexpr std::size_t kReadBufferBytes = 64 * 1024;
        constexpr int kMaxEvents = 256;
        constexpr std::int64_t kReconnectDelayNs = 10'000'000;  // avoid spinning against a dead port
        constexpr std::int64_t kConnectTimeoutNs = 3'000'000'000;
        constexpr std::uint64_t kTimerTag = UINT64_MAX;

        std::int64_t nowNs()
        {
            timespec ts {};
            clock_gettime(CLOCK_MONOTONIC, &ts);
            return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
        }
    }

    LoadRunner::LoadRunner(const LoadgenOptions &options)
        : m_options(options)
        , m_connections(static_cast<std::size_t>(options.connections))
    {
        for (Connection &c : m_connections)
            c.buffer = std::make_unique<char[]>(kReadBufferBytes);
        m_idle.reserve(m_connections.size());
    }

    LoadRunner::~LoadRunner()
    {
        for (Connection &c : m_connections) {
            if (c.fd >= 0)
                close(c.fd);
        }
        if (m_timerFd >= 0)
            close(m_timerFd);
        if (m_epollFd >= 0)
            close(m_epollFd);
    }

    bool LoadRunner::setUp(std::string &error)
    {
        m_epollFd = epoll_create1(EPOLL_CLOEXEC);
        m_timerFd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (m_epollFd < 0 || m_timerFd < 0) {
            error = std::string("epoll/timerfd: ") + std::strerror(errno);
            return false;
        }
        epoll_event ev {};
        ev.events = EPOLLIN;
        ev.data.u64 = kTimerTag;
        epoll_ctl(m_epollFd, EPOLL_CTL_ADD, m_timerFd, &ev);

        // Open every connection before the clock starts, so connection setup is not
        // measured as request latency.
        const std::int64_t deadline = nowNs() + kConnectTimeoutNs;
        for (std::size_t i = 0; i < m_connections.size(); ++i)
            openConnection(i);
        while (m_idle.size() < m_connections.size()) {
            const std::int64_t now = nowNs();
            if (now >= deadline) {
                error = "could not connect all " + std::to_string(m_connections.size()) + " connections to "
                        + m_options.host + ":" + m_options.port;
                return false;
            }
            retryClosed(now);
            waitAndDispatchEvents(std::min(deadline, nextRetryNs(deadline)));
        }
        m_totals = Totals {};
        return true;
    }

    void LoadRunner::run()
    {
        const std::int64_t start = nowNs();
        m_warmupEndNs = start + static_cast<std::int64_t>(m_options.warmupSeconds * 1e9);
        m_endNs = m_warmupEndNs + static_cast<std::int64_t>(m_options.durationSeconds * 1e9);
        const std::int64_t drainDeadline = m_endNs + static_cast<std::int64_t>(m_options.drainSeconds * 1e9);

        if (m_open) {
            m_startNs = start;
            m_warmupCount = static_cast<std::uint64_t>(std::llround(m_options.rate * m_options.warmupSeconds));
            m_totalCount = m_warmupCount
                           + static_cast<std::uint64_t>(std::llround(m_options.rate * m_options.durationSeconds));
        } else {
            // Closed loop: every connection starts at once and keeps one request in flight.
            while (!m_idle.empty()) {
                const std::size_t i = m_idle.back();
                m_idle.pop_back();
                dispatch(i, start, start >= m_warmupEndNs);
            }
        }

        while (true) {
            const std::int64_t now = nowNs();
            if (m_open) {
                while (m_dueCount < m_totalCount && scheduledNs(m_dueCount) <= now)
                    ++m_dueCount;
                dispatchPending();
            }
            if (m_brokenCount > 0)
                retryClosed(now);
            if (finished(now) || now >= drainDeadline)
                break;

            std::int64_t wake = drainDeadline;
            if (m_open && m_dueCount < m_totalCount)
                wake = std::min(wake, scheduledNs(m_dueCount));
            if (!m_open && now < m_endNs)
                wake = std::min(wake, m_endNs);
            if (m_brokenCount > 0)
                wake = std::min(wake, nextRetryNs(wake));
            waitAndDispatchEvents(wake);
        }
        accountUnfinished();
    }

    void LoadRunner::printJson() const
    {
        const double us = 1000.0;
        const auto pct = [this, us](double p) { return static_cast<double>(m_histogram.valueAtPercentile(p)) / us; };
        char rate[32];
        if (m_open)
            std::snprintf(rate, sizeof rate, "%g", m_options.rate);
        else
            std::snprintf(rate, sizeof rate, "null");
        std::printf("{\"mode\":\"%s\",\"target_rate\":%s,\"achieved_rps\":%.1f,\"requests\":%llu,"
                    "\"errors\":%llu,\"non_2xx\":%llu,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,"
                    "\"p999_us\":%.1f,\"max_us\":%.1f,\"timeouts\":%llu,\"reconnects\":%llu,"
                    "\"connections\":%d,\"duration_s\":%g}\n",
                    m_open ? "open" : "closed", rate,
                    static_cast<double>(m_totals.windowCompletions) / m_options.durationSeconds,
                    static_cast<unsigned long long>(m_totals.requests),
                    static_cast<unsigned long long>(m_totals.errors),
                    static_cast<unsigned long long>(m_totals.non2xx),
                    pct(50), pct(90), pct(99), pct(99.9), static_cast<double>(m_histogram.max()) / us,
                    static_cast<unsigned long long>(m_totals.timeouts),
                    static_cast<unsigned long long>(m_totals.reconnects),
                    m_options.connections, m_options.durationSeconds);
        std::fflush(stdout);
    }

    // Request i of the open-loop schedule is due at start + i/R, independent of how the
    // server behaved before it: this is what makes the open loop immune to coordinated
    // omission.
    std::int64_t LoadRunner::scheduledNs(std::uint64_t index) const
    {
        return m_startNs + static_cast<std::int64_t>(static_cast<double>(index) * 1e9 / m_options.rate);
    }

    bool LoadRunner::finished(std::int64_t now) const
    {
        if (m_open)
            return m_dispatched == m_totalCount && m_inFlight == 0;
        return now >= m_endNs && m_inFlight == 0;
    }

    // Requests that are due but found no idle connection wait here, in schedule order.
    void LoadRunner::dispatchPending()
    {
        while (m_dispatched < m_dueCount && !m_idle.empty()) {
            const std::size_t i = m_idle.back();
            m_idle.pop_back();
            const std::uint64_t index = m_dispatched++;
            dispatch(i, scheduledNs(index), index >= m_warmupCount);
        }
    }

    void LoadRunner::accountUnfinished()
    {
        std::uint64_t lost = 0;
        for (const Connection &c : m_connections) {
            if ((c.state == Connection::State::Sending || c.state == Connection::State::Waiting) && c.measured)
                ++lost;
        }
        if (m_open) {
            // Due or not, every measured request never sent also never got an answer.
            const std::uint64_t firstMeasured = std::max(m_dispatched, m_warmupCount);
            lost += m_totalCount - std::min(m_totalCount, firstMeasured);
        }
        m_totals.timeouts += lost;
        m_totals.errors += lost;
    }

    void LoadRunner::setWriteInterest(std::size_t i, bool want)
    {
        Connection &c = m_connections[i];
        if (c.wantWrite == want)
            return;
        epoll_event ev {};
        ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
        ev.data.u64 = eventTag(i);
        epoll_ctl(m_epollFd, EPOLL_CTL_MOD, c.fd, &ev);
        c.wantWrite = want;
    }

    void LoadRunner::openConnection(std::size_t i)
    {
        Connection &c = m_connections[i];
        c.buffered = 0;
        c.framer.reset();
        c.fd = socket(m_options.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c.fd < 0) {
            markBroken(i);
            return;
        }
        // Requests are small and latency-bound: never let Nagle hold one back.
        const int one = 1;
        setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        const int rc = connect(c.fd, reinterpret_cast<const sockaddr *>(&m_options.address), m_options.addressLength);
        if (rc < 0 && errno != EINPROGRESS) {
            close(c.fd);
            c.fd = -1;
            markBroken(i);
            return;
        }
        ++c.generation;
        epoll_event ev {};
        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.u64 = eventTag(i);
        epoll_ctl(m_epollFd, EPOLL_CTL_ADD, c.fd, &ev);
        c.wantWrite = true;
        c.state = Connection::State::Connecting;
    }

    std::uint64_t LoadRunner::eventTag(std::size_t i) const
    {
        return (std::uint64_t {m_connections[i].generation} << 32) | i;
    }

    void LoadRunner::markBroken(std::size_t i)
    {
        Connection &c = m_connections[i];
        c.state = Connection::State::Closed;
        c.retryAtNs = nowNs() + kReconnectDelayNs;
        ++m_brokenCount;
    }

    void LoadRunner::retryClosed(std::int64_t now)
    {
        for (std::size_t i = 0; i < m_connections.size() && m_brokenCount > 0; ++i) {
            Connection &c = m_connections[i];
            if (c.state == Connection::State::Closed && c.fd < 0 && c.retryAtNs <= now) {
                --m_brokenCount;
                ++m_totals.reconnects;
                openConnection(i);
            }
        }
    }

    std::int64_t LoadRunner::nextRetryNs(std::int64_t fallback) const
    {
        std::int64_t next = fallback;
        for (const Connection &c : m_connections) {
            if (c.state == Connection::State::Closed && c.fd < 0)
                next = std::min(next, c.retryAtNs);
        }
        return next;
    }

    // Drops the connection; a request in flight on it is lost. The connection is
    // reopened so the pool keeps its size.
    void LoadRunner::fail(std::size_t i)
    {
        Connection &c = m_connections[i];
        const bool busy = c.state == Connection::State::Sending || c.state == Connection::State::Waiting;
        if (busy) {
            --m_inFlight;
            if (c.measured)
                ++m_totals.errors;
        } else if (c.state == Connection::State::Idle) {
            if (const auto it = std::find(m_idle.begin(), m_idle.end(), i); it != m_idle.end())
                m_idle.erase(it);
        }
        close(c.fd);  // also removes it from the epoll set
        c.fd = -1;
        c.state = Connection::State::Closed;
        c.wantWrite = false;
        ++m_totals.reconnects;
        openConnection(i);
    }

    void LoadRunner::dispatch(std::size_t i, std::int64_t startNs, bool measured)
    {
        Connection &c = m_connections[i];
        c.state = Connection::State::Sending;
        c.startNs = startNs;
        c.measured = measured;
        c.sendOffset = 0;
        c.framer.reset();
        ++m_inFlight;
        trySend(i);
    }

    void LoadRunner::trySend(std::size_t i)
    {
        Connection &c = m_connections[i];
        const std::string &request = m_options.request;
        while (c.sendOffset < request.size()) {
            const ssize_t n = send(c.fd, request.data() + c.sendOffset, request.size() - c.sendOffset, MSG_NOSIGNAL);
            if (n > 0) {
                c.sendOffset += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                setWriteInterest(i, true);
                return;
            }
            fail(i);
            return;
        }
        if (c.state == Connection::State::Sending)
            c.state = Connection::State::Waiting;
        setWriteInterest(i, false);
    }

    void LoadRunner::becomeIdle(std::size_t i, std::int64_t now)
    {
        Connection &c = m_connections[i];
        c.state = Connection::State::Idle;
        if (m_open) {
            m_idle.push_back(i);
            dispatchPending();
        } else if (now < m_endNs) {
            dispatch(i, now, now >= m_warmupEndNs);
        } else {
            m_idle.push_back(i);
        }
    }

    void LoadRunner::complete(std::size_t i)
    {
        Connection &c = m_connections[i];
        const std::int64_t now = nowNs();
        --m_inFlight;
        if (c.measured) {
            m_histogram.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, now - c.startNs)));
            ++m_totals.requests;
            const int status = c.framer.statusCode();
            if (status < 200 || status > 299)
                ++m_totals.non2xx;
        }
        if (now >= m_warmupEndNs && now < m_endNs)
            ++m_totals.windowCompletions;

        const bool reusable = c.framer.keepAlive() && c.state == Connection::State::Waiting && c.buffered == 0;
        c.framer.reset();
        if (reusable) {
            becomeIdle(i, now);
        } else {
            // The server ended keep-alive (or answered before the request was fully sent):
            // open a fresh connection, as any HTTP client would.
            close(c.fd);
            c.fd = -1;
            c.state = Connection::State::Closed;
            c.wantWrite = false;
            ++m_totals.reconnects;
            openConnection(i);
        }
    }

    void LoadRunner::onReadable(std::size_t i)
    {
        Connection &c = m_connections[i];
        const ssize_t n = read(c.fd, c.buffer.get() + c.buffered, kReadBufferBytes - c.buffered);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            fail(i);
            return;
        }
        if (n == 0) {
            const bool busy = c.state == Connection::State::Sending || c.state == Connection::State::Waiting;
            if (busy && c.framer.finishOnEof()) {
                c.buffered = 0;
                complete(i);  // reopens: the framer no longer allows keep-alive
                return;
            }
            // An idle keep-alive connection closed by the server is not a lost request.
            fail(i);
            return;
        }
        if (c.state != Connection::State::Sending && c.state != Connection::State::Waiting) {
            fail(i);  // bytes nobody asked for: the stream is out of sync
            return;
        }
        c.buffered += static_cast<std::size_t>(n);
        const ResponseFramer::Result r = c.framer.feed(c.buffer.get(), c.buffered);
        // Keep only what the framer has not consumed (a partial header block or chunk line).
        if (r.consumed > 0 && r.consumed < c.buffered)
            std::memmove(c.buffer.get(), c.buffer.get() + r.consumed, c.buffered - r.consumed);
        c.buffered -= r.consumed;
        switch (r.status) {
        case ResponseFramer::Status::Complete:
            complete(i);
            break;
        case ResponseFramer::Status::Error:
            fail(i);
            break;
        case ResponseFramer::Status::NeedMore:
            if (c.buffered == kReadBufferBytes)
                fail(i);
            break;
        }
    }

    void LoadRunner::onWritable(std::size_t i)
    {
        Connection &c = m_connections[i];
        if (c.state == Connection::State::Connecting) {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0) {
                close(c.fd);
                c.fd = -1;
                c.wantWrite = false;
                markBroken(i);
                return;
            }
            setWriteInterest(i, false);
            becomeIdle(i, nowNs());
        } else if (c.state == Connection::State::Sending) {
            trySend(i);
        } else {
            setWriteInterest(i, false);
        }
    }

    // Sleeps until an fd is ready or the absolute time `wakeNs` arrives (timerfd, so
    // wake-ups have microsecond rather than epoll_wait's millisecond resolution).
    void LoadRunner::waitAndDispatchEvents(std::int64_t wakeNs)
    {
        if (wakeNs != m_armedNs) {
            itimerspec spec {};
            spec.it_value.tv_sec = wakeNs / 1'000'000'000;
            spec.it_value.tv_nsec = wakeNs % 1'000'000'000;
            if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0)
                spec.it_value.tv_nsec = 1;  // zero would disarm the timer
            timerfd_settime(m_timerFd, TFD_TIMER_ABSTIME, &spec, nullptr);
            m_armedNs = wakeNs;
        }
        epoll_event events[kMaxEvents];
        const int n = epoll_wait(m_epollFd, events, kMaxEvents, -1);
        for (int k = 0; k < n; ++k) {
            const std::uint64_t tag = events[k].data.u64;
            if (tag == kTimerTag) {
                std::uint64_t expirations = 0;
                [[maybe_unused]] const ssize_t r = read(m_timerFd, &expirations, sizeof expirations);
                m_armedNs = -1;  // fired: must be re-armed even for the same time
                continue;
            }
            const std::size_t i = tag & 0xffffffffu;
            Connection &c = m_connections[i];
            const std::uint32_t what = events[k].events;
            // An earlier event in this batch may have closed (and reopened) this connection.
            if (c.fd < 0 || tag != eventTag(i))
                continue;
            if ((what & EPOLLOUT) != 0 || ((what & (EPOLLERR | EPOLLHUP)) != 0 && c.state == Connection::State::Connecting)) {
                onWritable(i);
                if (c.fd < 0)
                    continue;
            }
            if ((what & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0 && c.state != Connection::State::Connecting)
                onReadable(i);
        }
    }
}
