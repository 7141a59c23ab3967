#pragma once

#include <QHash>
#include <QString>

#include <functional>

namespace Ui {

// What the console learns by watching successive snapshots of one backend that no single
// snapshot says: its token rate. Plain class with an injected clock, so the arithmetic is
// tested tick by tick. (How long a backend has been in its health state comes from the
// snapshot itself: the gateway knows when the transition happened, the console may not
// have been watching.)
class BackendObservations final {
public:
    using Clock = std::function<qint64()>; // monotonic milliseconds

    explicit BackendObservations(Clock clock);

    // Feeds one snapshot's values for a backend. Call once per snapshot per backend.
    void observe(const QString &backend, qint64 totalTokens);
    // Tokens per minute over the last completed interval of at least RateIntervalMs.
    double tokensPerMinute(const QString &backend) const;

    static constexpr qint64 RateIntervalMs = 1000;

private:
    struct Entry {
        qint64 baselineTokens = 0;
        qint64 baselineMs = 0;
        double tokensPerMinute = 0;
    };

    Clock m_clock;
    QHash<QString, Entry> m_entries;
};

// "4s", "2m 05s", "3h 10m", "2d 4h": the time since a health transition at a glance.
QString formatAge(qint64 ms);

} // namespace Ui
