#include "spendmetrics.h"

#include "metrics/exposition.h"

namespace Gateway::Governance {

QByteArray escapeLabel(QByteArrayView value)
{
    return Metrics::escapeLabelValue(value);
}

void SpendMetrics::addSpend(const QString &key, const QString &team, const QByteArray &route, qint64 costNanos,
                            qint64 inputTokens, qint64 outputTokens)
{
    const std::lock_guard lock {m_mutex};
    Totals &totals = m_spend[SeriesKey {key, team, route}];
    totals.costNanos += costNanos;
    totals.inputTokens += inputTokens;
    totals.outputTokens += outputTokens;
}

void SpendMetrics::addRefusal(LimitKind kind, const QString &key, const QString &team)
{
    const std::lock_guard lock {m_mutex};
    ++m_refusals[RefusalKey {static_cast<int>(kind), key, team}];
}

void SpendMetrics::appendPrometheus(QByteArray &out) const
{
    const std::lock_guard lock {m_mutex};
    const auto labels = [](const QString &key, const QString &team, const QByteArray &route) -> QByteArray {
        return "key=\"" + escapeLabel(key.toUtf8()) + "\",team=\"" + escapeLabel(team.toUtf8()) + "\",route=\"" +
               escapeLabel(route) + '"';
    };
    out += "# HELP switchyard_spend_usd_total Cost of answered requests from the price table, in US dollars.\n"
           "# TYPE switchyard_spend_usd_total counter\n";
    for (const auto &[series, totals] : m_spend) {
        const auto &[key, team, route] = series;
        out += "switchyard_spend_usd_total{" + labels(key, team, route) + "} " +
               QByteArray::number(nanosToUsd(totals.costNanos), 'g', 12) + '\n';
    }
    out += "# HELP switchyard_tokens_total Tokens used by answered requests (direction=input|output).\n"
           "# TYPE switchyard_tokens_total counter\n";
    for (const auto &[series, totals] : m_spend) {
        const auto &[key, team, route] = series;
        out += "switchyard_tokens_total{" + labels(key, team, route) + ",direction=\"input\"} " +
               QByteArray::number(totals.inputTokens) + '\n';
        out += "switchyard_tokens_total{" + labels(key, team, route) + ",direction=\"output\"} " +
               QByteArray::number(totals.outputTokens) + '\n';
    }
    out += "# HELP switchyard_limit_refusals_total Requests refused by a virtual key's or team's limit or budget.\n"
           "# TYPE switchyard_limit_refusals_total counter\n";
    for (const auto &[series, count] : m_refusals) {
        const auto &[kind, key, team] = series;
        const QLatin1String name = limitKindName(static_cast<LimitKind>(kind));
        out += "switchyard_limit_refusals_total{limit=\"" + QByteArray(name.data(), name.size()) + "\",key=\"" +
               escapeLabel(key.toUtf8()) + "\",team=\"" + escapeLabel(team.toUtf8()) + "\"} " +
               QByteArray::number(count) + '\n';
    }
}

} // namespace Gateway::Governance
