#pragma once

#include <QHash>
#include <QPointF>
#include <QString>
#include <QStringList>

#include <array>
#include <deque>
#include <vector>

namespace Gateway {
struct StatusSnapshot;
}

namespace Ui {

// The last 15 minutes of the console's chart metrics, per scope: everything, each route,
// each backend. Fed one snapshot a second (plus costs from the request log); a bounded
// ring per scope, so memory stays flat however long the console runs. No QObject, no
// clock: the caller passes the time, so tests drive it sample by sample.
class MetricHistory final {
public:
    enum class Metric { RequestsPerSecond, TtftP50, TtftP99, ErrorRate, TokensPerSecond, CostPerHour, Count };

    static constexpr int SampleIntervalMs = 1000;
    static constexpr int WindowSeconds = 15 * 60;
    static constexpr std::size_t Capacity = WindowSeconds * 1000 / SampleIntervalMs;
    // Costs arrive from the request log in batches; the hourly rate is taken over a
    // window long enough to smooth that.
    static constexpr qint64 CostWindowMs = 5 * 60 * 1000;

    static QString allScope() { return QStringLiteral("all"); }
    static QString routeScope(const QString &route) { return QStringLiteral("route:") + route; }
    static QString backendScope(const QString &backend) { return QStringLiteral("backend:") + backend; }
    static QString metricName(Metric metric);

    void addSnapshot(const Gateway::StatusSnapshot &snapshot, qint64 nowMs);
    void addCost(const QString &route, const QString &backend, double usd, qint64 atMs);

    // Points (seconds before `nowMs`, value), oldest first.
    std::vector<QPointF> series(const QString &scope, Metric metric, qint64 nowMs) const;
    // Scopes seen so far: all first, then routes, then backends.
    QStringList scopes() const { return m_order; }
    std::size_t sampleCount(const QString &scope) const;

private:
    struct Totals {
        qint64 requests = 0;
        qint64 errors = 0;
        qint64 tokens = 0;
    };
    struct Sample {
        qint64 atMs = 0;
        std::array<double, static_cast<std::size_t>(Metric::Count)> values {};
    };
    struct Scope {
        bool hasBaseline = false;
        Totals last;
        qint64 lastMs = 0;
        std::deque<Sample> samples;
        std::deque<std::pair<qint64, double>> costs; // (at, usd) within CostWindowMs
    };

    void record(const QString &scope, const Totals &totals, double requestsPerSecond, double ttftP50, double ttftP99,
                qint64 nowMs);
    Scope &scope(const QString &name);

    QHash<QString, Scope> m_scopes;
    QStringList m_order;
};

} // namespace Ui
