#include "logconsole.h"

#include "logline.h"

#include "runtime/statussnapshot.h"

#include <QDateTime>
#include <QTimer>

#include <cstdio>

namespace App {

namespace {

QByteArrayView alertName(Gateway::BudgetRow::Alert alert)
{
    switch (alert) {
    case Gateway::BudgetRow::Alert::Hard:
        return "hard";
    case Gateway::BudgetRow::Alert::Soft:
        return "soft";
    case Gateway::BudgetRow::Alert::Projected:
        return "projected";
    case Gateway::BudgetRow::Alert::None:
        break;
    }
    return "none";
}

// level=warn when the budget is alerting, so a log filter on the level finds it.
QByteArray formatBudgetLine(const Gateway::BudgetRow &row, qint64 nowMs, const QDateTime &timestamp)
{
    using Row = Gateway::BudgetRow;
    const Row::Alert alert = Gateway::budgetAlert(row, nowMs);
    const bool usd = row.unit == Row::Unit::Usd;
    const auto exhaustsAt = Gateway::projectedExhaustionMs(row, nowMs);
    const QString exhausts = exhaustsAt
        ? QDateTime::fromMSecsSinceEpoch(*exhaustsAt, Qt::UTC).toString(Qt::ISODateWithMs)
        : QString {};
    return formatLogLine(timestamp, alert == Row::Alert::None ? "info" : "warn", "budget stats",
                         {{"scope", row.scope == Row::Scope::Team ? "team" : "key"},
                          {"name", row.name},
                          {"team", row.team},
                          {"window", row.window == Row::Window::Day ? "day" : "month"},
                          {"unit", usd ? "usd" : "tokens"},
                          {"spent", row.spent, usd ? 4 : 0},
                          {"limit", row.limit, usd ? 2 : 0},
                          {"burn_per_hour", row.burnPerHour ? QString::number(*row.burnPerHour, 'f', usd ? 4 : 0) : QString {}},
                          {"exhausts_at", exhausts},
                          {"alert", alertName(alert)}});
}

} // namespace

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
    const QList<Gateway::BudgetRow> budgets = m_budgetTracker.update(m_status.budgetStatus());
    const QByteArray lines = formatStats(m_status.statusSnapshot(), budgets, QDateTime::currentDateTimeUtc());
    std::fwrite(lines.constData(), 1, static_cast<std::size_t>(lines.size()), stdout);
    std::fflush(stdout);
}

QByteArray LogConsole::formatStats(const Gateway::StatusSnapshot &snapshot, const QList<Gateway::BudgetRow> &budgets,
                                   const QDateTime &timestamp)
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
                              {"health", backend.health},
                              {"rps", backend.requestsPerSecond},
                              {"requests", backend.requests},
                              {"errors", backend.errors},
                              {"in_flight", backend.inFlight},
                              {"p50_ms", backend.latency.p50Ms, 1},
                              {"p99_ms", backend.latency.p99Ms, 1},
                              {"ttft_p99_ms", backend.ttft.p99Ms, 1}});
    }
    const qint64 nowMs = timestamp.toMSecsSinceEpoch();
    for (const Gateway::BudgetRow &row : budgets) {
        out += formatBudgetLine(row, nowMs, timestamp);
    }
    return out;
}

} // namespace App
