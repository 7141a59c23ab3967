#pragma once

#include <QString>

#include <map>
#include <mutex>
#include <tuple>
#include <vector>

namespace Gateway::Shared {

// Usage the shared store has not seen yet: settlements that happened while Redis was
// unreachable (of reservations held in Redis, which must also be released there, and of
// reservations the local fallback made). Summed per key, team and UTC day, so an outage
// of any length costs memory per account and day, not per request.
struct BacklogEntry {
    QString key;
    QString team;
    qint64 atMs = 0;          // the last settlement's time: names the day and month windows
    qint64 releases = 0;      // Redis reservations to release
    qint64 estimatedTokens = 0; // their estimates
    qint64 estimatedNanos = 0;
    qint64 tokens = 0;        // real usage to commit
    qint64 nanos = 0;
};

class OutageBacklog final {
public:
    // Adds settlements (sums: every count and amount adds up). Thread-safe.
    void add(const BacklogEntry &usage);
    std::vector<BacklogEntry> take();
    void clear();
    std::size_t size() const;

private:
    using Slot = std::tuple<QString, QString, qint64>; // key, team, UTC day
    mutable std::mutex m_mutex;
    std::map<Slot, BacklogEntry> m_entries; // guarded by m_mutex
};

} // namespace Gateway::Shared
