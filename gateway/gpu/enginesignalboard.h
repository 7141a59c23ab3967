#pragma once

#include "gpu/enginemetrics.h"
#include "gpu/enginesignalstracker.h"
#include "gpu/scrapesettings.h"
#include "routing/backendsnapshot.h"

#include <QByteArray>
#include <QMutex>
#include <QUrl>

#include <cstdint>
#include <optional>
#include <vector>

namespace Gateway::Gpu {

// How scraping one target went, for the gateway's own /metrics and the console.
struct ScrapeCounters {
    std::uint64_t scrapesOk = 0;
    std::uint64_t scrapesFailed = 0;
    std::uint64_t parseErrors = 0;           // malformed exposition lines, summed over all scrapes
    QByteArray lastError;                    // the latest failure, kept after recovery; empty = none yet
    EngineKind engine = EngineKind::Unknown; // as detected by the latest success
};

struct TargetCounters {
    int backendId = -1;
    QUrl url;
    ScrapeCounters counters;
};

// The latest EngineSignals of every scraped backend, written by the scraper thread and
// read by the snapshot rebuild (every 100 ms) and the metrics endpoint. One mutex around
// a small vector sorted by backend id: a read is a binary search and a struct copy.
class EngineSignalBoard final {
public:
    explicit EngineSignalBoard(qint64 staleAfterMs);
    EngineSignalBoard(const EngineSignalBoard &) = delete;
    EngineSignalBoard &operator=(const EngineSignalBoard &) = delete;

    // Keeps the history of targets whose backend id and URL are unchanged; a new URL for a
    // backend starts afresh (it is another server). A repeated backend id keeps its first URL.
    void setTargets(const std::vector<ScrapeTarget> &targets);

    // Results for backends that are not (or no longer) targets are dropped.
    void recordSuccess(int backendId, const EngineSample &sample, qint64 nowMs);
    void recordFailure(int backendId, const QByteArray &error, qsizetype malformedLines = 0);

    // fresh = false (and ageMs = -1 if never scraped) for unknown backends.
    Routing::EngineSignals signalsFor(int backendId, qint64 nowMs) const;
    std::optional<ScrapeCounters> countersFor(int backendId) const;
    std::vector<TargetCounters> counters() const;

private:
    struct Entry {
        int backendId;
        QUrl url;
        EngineSignalsTracker tracker;
        ScrapeCounters counters;
    };

    Entry *find(int backendId);
    const Entry *find(int backendId) const;

    const qint64 m_staleAfterMs;
    mutable QMutex m_mutex;
    std::vector<Entry> m_entries; // sorted by backendId; guarded by m_mutex
};

} // namespace Gateway::Gpu
