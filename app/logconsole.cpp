#include "logconsole.h"

#include "logline.h"

#include "runtime/statussnapshot.h"

#include <QDateTime>
#include <QTimer>

#include <cstdio>

namespace App {

LogConsole::LogConsole(const Gateway::StatusProvider &status, std::chrono::milliseconds interval, QObject *parent)
    : QObject {parent}
    , m_status {status}
    , m_timer {new QTimer(this)}
{
    m_timer->setInterval(interval);
    connect(m_timer, &QTimer::timeout, this, &LogConsole::writeStats);
}

void LogConsole::start()
{
    m_timer->start();
}

void LogConsole::stop()
{
    m_timer->stop();
}

void LogConsole::writeStats()
{
    const QByteArray lines = formatStats(m_status.statusSnapshot(), QDateTime::currentDateTimeUtc());
    std::fwrite(lines.constData(), 1, static_cast<std::size_t>(lines.size()), stdout);
    std::fflush(stdout);
}

QByteArray LogConsole::formatStats(const Gateway::StatusSnapshot &snapshot, const QDateTime &timestamp)
{
    QByteArray out = formatLogLine(timestamp, "info", "stats",
                                   {{"rps", snapshot.requestsPerSecond},
                                    {"requests", snapshot.totalRequests},
                                    {"errors", snapshot.totalErrors},
                                    {"open_connections", snapshot.openConnections},
                                    {"active", snapshot.activeRequests},
                                    {"uptime_s", snapshot.uptimeMs / 1000}});
    if (snapshot.limitStore.shared) {
        // Degraded: Redis unreachable, every limit enforced on this gateway's own state.
        const Gateway::LimitStoreStatus &store = snapshot.limitStore;
        out += formatLogLine(timestamp, store.redisUp ? "info" : "warn", "limit store",
                             {{"redis", store.endpoint},
                              {"state", store.redisUp ? "shared" : "degraded"},
                              {"fallback_reservations", static_cast<qint64>(store.fallbackReservations)},
                              {"backlog_entries", static_cast<qint64>(store.backlogEntries)}});
    }
    for (const Gateway::RouteStatus &route : snapshot.routes) {
        out += formatLogLine(timestamp, "info", "route stats",
                             {{"route", route.model},
                              {"rps", route.requestsPerSecond},
                              {"requests", route.requests},
                              {"errors", route.errors},
                              {"p50_ms", route.latency.p50Ms, 1},
                              {"p99_ms", route.latency.p99Ms, 1},
                              {"ttft_p99_ms", route.ttft.p99Ms, 1}});
    }
    for (const Gateway::BackendStatus &backend : snapshot.backends) {
        out += formatLogLine(timestamp, "info", "backend stats",
                             {{"backend", backend.id},
                              {"rps", backend.requestsPerSecond},
                              {"requests", backend.requests},
                              {"errors", backend.errors},
                              {"in_flight", backend.inFlight},
                              {"p50_ms", backend.latency.p50Ms, 1},
                              {"p99_ms", backend.latency.p99Ms, 1},
                              {"ttft_p99_ms", backend.ttft.p99Ms, 1}});
    }
    return out;
}

} // namespace App
