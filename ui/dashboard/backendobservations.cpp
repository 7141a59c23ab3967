#include "backendobservations.h"

#include <algorithm>

namespace Ui {

BackendObservations::BackendObservations(Clock clock)
    : m_clock {std::move(clock)}
{
}

void BackendObservations::observe(const QString &backend, qint64 totalTokens)
{
    const qint64 now = m_clock();
    auto it = m_entries.find(backend);
    if (it == m_entries.end()) {
        Entry entry;
        entry.baselineTokens = totalTokens;
        entry.baselineMs = now;
        m_entries.insert(backend, entry);
        return;
    }
    Entry &entry = *it;
    const qint64 elapsed = now - entry.baselineMs;
    if (elapsed >= RateIntervalMs) {
        // A restarted counter (gateway restart) counts as zero, never negative.
        const qint64 delta = std::max<qint64>(0, totalTokens - entry.baselineTokens);
        entry.tokensPerMinute = static_cast<double>(delta) * 60000.0 / static_cast<double>(elapsed);
        entry.baselineTokens = totalTokens;
        entry.baselineMs = now;
    }
}

double BackendObservations::tokensPerMinute(const QString &backend) const
{
    const auto it = m_entries.constFind(backend);
    return it == m_entries.cend() ? 0 : it->tokensPerMinute;
}

QString formatAge(qint64 ms)
{
    const qint64 seconds = std::max<qint64>(0, ms) / 1000;
    const auto two = [](qint64 value) { return QStringLiteral("%1").arg(value, 2, 10, QLatin1Char('0')); };
    if (seconds < 60) {
        return QString::number(seconds) + QLatin1Char('s');
    }
    if (seconds < 3600) {
        return QString::number(seconds / 60) + QStringLiteral("m ") + two(seconds % 60) + QLatin1Char('s');
    }
    if (seconds < 86400) {
        return QString::number(seconds / 3600) + QStringLiteral("h ") + two(seconds / 60 % 60) + QLatin1Char('m');
    }
    return QString::number(seconds / 86400) + QStringLiteral("d ") + QString::number(seconds / 3600 % 24) + QLatin1Char('h');
}

} // namespace Ui
