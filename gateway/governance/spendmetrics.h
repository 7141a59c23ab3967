#pragma once

#include "limits.h"

#include <QByteArray>
#include <QString>

#include <array>
#include <map>
#include <mutex>
#include <tuple>

namespace Gateway::Governance {

// Spend and refusal counters for /metrics, labelled by key, team and route. One short
// lock per settled request (a map look-up with no allocation once the series exists);
// series are few (keys x routes actually used).
class SpendMetrics final {
public:
    void addSpend(const QString &key, const QString &team, const QByteArray &route, qint64 costNanos,
                  qint64 inputTokens, qint64 outputTokens);
    void addRefusal(LimitKind kind, const QString &key, const QString &team);

    // switchyard_spend_usd_total, switchyard_tokens_total, switchyard_limit_refusals_total.
    void appendPrometheus(QByteArray &out) const;

private:
    using SeriesKey = std::tuple<QString, QString, QByteArray>;
    struct Totals {
        qint64 costNanos = 0;
        qint64 inputTokens = 0;
        qint64 outputTokens = 0;
    };
    using RefusalKey = std::tuple<int, QString, QString>;

    mutable std::mutex m_mutex;
    std::map<SeriesKey, Totals> m_spend;       // guarded by m_mutex
    std::map<RefusalKey, quint64> m_refusals;  // guarded by m_mutex
};

// Prometheus label value escaping (backslash, quote, newline).
QByteArray escapeLabel(QByteArrayView value);

} // namespace Gateway::Governance
