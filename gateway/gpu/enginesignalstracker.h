#pragma once

#include "gpu/enginemetrics.h"
#include "routing/backendsnapshot.h"

#include <QtGlobal>

#include <array>
#include <optional>

namespace Gateway::Gpu {

// Turns the successive scrapes of one engine into the EngineSignals policies read. Pure:
// the caller passes the time (monotonic milliseconds), so tests need no clock.
//
// Freshness depends only on the last success: the signals stay fresh while it is within
// the staleness bound, so one slow scrape of a busy engine (its /metrics shares the API
// server's event loop) does not flap them; a target that keeps failing simply ages out.
// The last values are kept when stale, for display; policies must ignore them then.
//
// Prefix-cache hit rate: hits / queries of the token counters between two successful
// scrapes. An interval without new queries keeps the previous rate (an idle engine has
// not become worse at caching); a counter that went backwards (engine restart) makes the
// rate unknown until the next interval with queries. Engines without the counters, and
// the first scrape of engines with them, use the engine's own hit-rate gauge if any.
//
// Restarts: any cumulative counter the engine reports in two successive scrapes (prefix
// queries and hits, prompt and generation tokens) that went backwards counts one restart,
// as Prometheus' rate() reads a counter reset. Every engine reports at least the token
// totals, so restarts of all four are seen, unless the new process has already counted
// more than the old one had in all by the first good scrape (an engine restarted young,
// or scraped only long after it came back). A metrics_url behind a load balancer (several
// engines answering in turn) reads as restarts; such a target is not one cache, and
// prefix routing cannot help it anyway.
class EngineSignalsTracker final {
public:
    static constexpr qint64 MIN_STALE_AFTER_MS = 1000;
    static constexpr qint64 STALE_AFTER_INTERVALS = 3;

    // The default bound for a scrape interval: max(3 x interval, 1000 ms).
    static qint64 staleBoundFor(qint64 intervalMs);

    explicit EngineSignalsTracker(qint64 staleAfterMs = MIN_STALE_AFTER_MS);

    void recordSuccess(const EngineSample &sample, qint64 nowMs);
    Routing::EngineSignals signalsAt(qint64 nowMs) const;

    EngineKind engine() const { return m_engine; }
    qint64 staleAfterMs() const { return m_staleAfterMs; }

private:
    double nextHitRate(const EngineSample &sample) const;
    // True when a cumulative counter reported in both this sample and the previous
    // success is lower now.
    bool countersWentBackwards(const EngineSample &sample) const;

    qint64 m_staleAfterMs;
    bool m_everSucceeded = false;
    qint64 m_lastSuccessMs = 0;
    EngineKind m_engine = EngineKind::Unknown;
    Routing::EngineSignals m_values; // everything but `fresh` and `ageMs`
    bool m_haveCounters = false;     // the previous success carried both prefix counters
    double m_previousHits = 0.0;
    double m_previousQueries = 0.0;
    // Every cumulative counter of the previous success, for restart detection.
    std::array<std::optional<double>, 4> m_previousCounters;
};

} // namespace Gateway::Gpu
