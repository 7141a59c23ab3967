#include "metrichistory.h"

#include "runtime/statussnapshot.h"

#include <QObject>

#include <algorithm>

namespace Ui {

QString MetricHistory::metricName(Metric metric)
{
    switch (metric) {
    case Metric::RequestsPerSecond:
        return QObject::tr("Requests/s");
    case Metric::TtftP50:
        return QObject::tr("TTFT p50 (ms)");
    case Metric::TtftP99:
        return QObject::tr("TTFT p99 (ms)");
    case Metric::ErrorRate:
        return QObject::tr("Error rate (%)");
    case Metric::TokensPerSecond:
        return QObject::tr("Tokens/s");
    case Metric::CostPerHour:
        return QObject::tr("Cost/hour (USD)");
    case Metric::Count:
        break;
    }
    return {};
}

MetricHistory::Scope &MetricHistory::scope(const QString &name)
{
    auto it = m_scopes.find(name);
    if (it == m_scopes.end()) {
        it = m_scopes.insert(name, Scope {});
        m_order.append(name);
        // all, then routes, then backends, each in order of appearance.
        std::stable_sort(m_order.begin(), m_order.end(), [](const QString &a, const QString &b) {
            const auto rank = [](const QString &s) { return s == allScope() ? 0 : s.startsWith(u"route:") ? 1 : 2; };
            return rank(a) < rank(b);
        });
    }
    return *it;
}

void MetricHistory::addSnapshot(const Gateway::StatusSnapshot &snapshot, qint64 nowMs)
{
    qint64 allTokens = 0;
    for (const Gateway::BackendStatus &backend : snapshot.backends) {
        const qint64 tokens = backend.tokensIn + backend.tokensOut;
        allTokens += tokens;
        record(backendScope(backend.id), {backend.requests, backend.errors, tokens}, backend.requestsPerSecond,
               backend.ttft.p50Ms, backend.ttft.p99Ms, nowMs);
    }
    double weightedP50 = 0;
    double rateSum = 0;
    double worstP99 = 0;
    for (const Gateway::RouteStatus &route : snapshot.routes) {
        // A route's tokens are its targets' backends' (shared when routes share one).
        qint64 tokens = 0;
        for (const Gateway::RouteTargetStatus &target : route.targets) {
            if (target.backendIndex >= 0 && static_cast<std::size_t>(target.backendIndex) < snapshot.backends.size()) {
                const auto &backend = snapshot.backends[static_cast<std::size_t>(target.backendIndex)];
                tokens += backend.tokensIn + backend.tokensOut;
            }
        }
        record(routeScope(QString::fromUtf8(route.model)), {route.requests, route.errors, tokens},
               route.requestsPerSecond, route.ttft.p50Ms, route.ttft.p99Ms, nowMs);
        weightedP50 += route.ttft.p50Ms * route.requestsPerSecond;
        rateSum += route.requestsPerSecond;
        worstP99 = std::max(worstP99, route.ttft.p99Ms);
    }
    // Overall TTFT: the routes' p50s weighted by traffic, and the worst route's p99 (a
    // tail is only as good as its worst part).
    record(allScope(), {snapshot.totalRequests, snapshot.totalErrors, allTokens}, snapshot.requestsPerSecond,
           rateSum > 0 ? weightedP50 / rateSum : 0, worstP99, nowMs);
}

void MetricHistory::record(const QString &name, const Totals &totals, double requestsPerSecond, double ttftP50,
                           double ttftP99, qint64 nowMs)
{
    Scope &s = scope(name);
    if (!s.hasBaseline) {
        // Counters started before the console: the first snapshot is only a baseline.
        s.hasBaseline = true;
        s.last = totals;
        s.lastMs = nowMs;
        return;
    }
    const qint64 elapsedMs = std::max<qint64>(1, nowMs - s.lastMs);
    // A restarted gateway resets its counters; count that interval as zero.
    const qint64 requests = std::max<qint64>(0, totals.requests - s.last.requests);
    const qint64 errors = std::max<qint64>(0, totals.errors - s.last.errors);
    const qint64 tokens = std::max<qint64>(0, totals.tokens - s.last.tokens);
    s.last = totals;
    s.lastMs = nowMs;

    while (!s.costs.empty() && s.costs.front().first < nowMs - CostWindowMs) {
        s.costs.pop_front();
    }
    double cost = 0;
    for (const auto &entry : s.costs) {
        cost += entry.second;
    }

    Sample sample;
    sample.atMs = nowMs;
    auto set = [&sample](Metric metric, double value) { sample.values[static_cast<std::size_t>(metric)] = value; };
    set(Metric::RequestsPerSecond, requestsPerSecond);
    set(Metric::TtftP50, ttftP50);
    set(Metric::TtftP99, ttftP99);
    set(Metric::ErrorRate, requests > 0 ? 100.0 * static_cast<double>(errors) / static_cast<double>(requests) : 0);
    set(Metric::TokensPerSecond, static_cast<double>(tokens) * 1000.0 / static_cast<double>(elapsedMs));
    set(Metric::CostPerHour, cost * 3600000.0 / static_cast<double>(CostWindowMs));
    s.samples.push_back(sample);
    while (s.samples.size() > Capacity) {
        s.samples.pop_front();
    }
}

void MetricHistory::addCost(const QString &route, const QString &backend, double usd, qint64 atMs)
{
    if (usd <= 0) {
        return;
    }
    scope(allScope()).costs.emplace_back(atMs, usd);
    if (!route.isEmpty()) {
        scope(routeScope(route)).costs.emplace_back(atMs, usd);
    }
    if (!backend.isEmpty()) {
        scope(backendScope(backend)).costs.emplace_back(atMs, usd);
    }
}

std::vector<QPointF> MetricHistory::series(const QString &name, Metric metric, qint64 nowMs) const
{
    std::vector<QPointF> points;
    const auto it = m_scopes.constFind(name);
    if (it == m_scopes.cend()) {
        return points;
    }
    points.reserve(it->samples.size());
    for (const Sample &sample : it->samples) {
        points.emplace_back(static_cast<double>(sample.atMs - nowMs) / 1000.0,
                            sample.values[static_cast<std::size_t>(metric)]);
    }
    return points;
}

std::size_t MetricHistory::sampleCount(const QString &name) const
{
    const auto it = m_scopes.constFind(name);
    return it == m_scopes.cend() ? 0 : it->samples.size();
}

} // namespace Ui
