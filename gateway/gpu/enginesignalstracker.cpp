#include "gpu/enginesignalstracker.h"

#include <algorithm>
#include <array>

namespace Gateway::Gpu {

qint64 EngineSignalsTracker::staleBoundFor(qint64 intervalMs)
{
    return std::max(STALE_AFTER_INTERVALS * std::max<qint64>(intervalMs, 0), MIN_STALE_AFTER_MS);
}

EngineSignalsTracker::EngineSignalsTracker(qint64 staleAfterMs)
    : m_staleAfterMs {std::max<qint64>(staleAfterMs, 0)}
{
}

double EngineSignalsTracker::nextHitRate(const EngineSample &sample) const
{
    constexpr double UNKNOWN = -1.0;
    const double engineRate = sample.prefixCacheHitRate.value_or(UNKNOWN);
    if (!sample.prefixCacheHits || !sample.prefixCacheQueries) {
        return engineRate;
    }
    if (!m_haveCounters) {
        return engineRate; // first interval: no delta yet
    }
    const double hits = *sample.prefixCacheHits - m_previousHits;
    const double queries = *sample.prefixCacheQueries - m_previousQueries;
    if (hits < 0.0 || queries < 0.0) {
        return UNKNOWN; // counter reset: this interval's delta means nothing
    }
    if (queries == 0.0) {
        return m_values.prefixCacheHitRate;
    }
    return std::clamp(hits / queries, 0.0, 1.0);
}

namespace {

// The cumulative counters of a sample, in the order m_previousCounters keeps them.
std::array<std::optional<double>, 4> cumulativeCounters(const EngineSample &sample)
{
    return {sample.prefixCacheQueries, sample.prefixCacheHits, sample.promptTokens, sample.generationTokens};
}

} // namespace

bool EngineSignalsTracker::countersWentBackwards(const EngineSample &sample) const
{
    const auto now = cumulativeCounters(sample);
    for (std::size_t i = 0; i < now.size(); ++i) {
        if (now[i] && m_previousCounters[i] && *now[i] < *m_previousCounters[i]) {
            return true;
        }
    }
    return false;
}

void EngineSignalsTracker::recordSuccess(const EngineSample &sample, qint64 nowMs)
{
    if (countersWentBackwards(sample)) {
        ++m_values.restarts;
    }
    m_previousCounters = cumulativeCounters(sample);
    m_values.prefixCacheHitRate = nextHitRate(sample);
    m_haveCounters = sample.prefixCacheHits && sample.prefixCacheQueries;
    if (m_haveCounters) {
        m_previousHits = *sample.prefixCacheHits;
        m_previousQueries = *sample.prefixCacheQueries;
    }
    m_values.waitingRequests = std::max(sample.waitingRequests.value_or(0.0), 0.0);
    m_values.runningRequests = std::max(sample.runningRequests.value_or(0.0), 0.0);
    m_values.kvCacheUsage = sample.kvCacheUsage.value_or(-1.0);
    m_values.cacheBlockSize = sample.cacheBlockSize;
    m_values.cacheBlocks = sample.cacheBlocks;
    m_engine = sample.engine;
    m_everSucceeded = true;
    m_lastSuccessMs = nowMs;
}

Routing::EngineSignals EngineSignalsTracker::signalsAt(qint64 nowMs) const
{
    if (!m_everSucceeded) {
        return {};
    }
    Routing::EngineSignals current = m_values;
    current.ageMs = std::max<qint64>(nowMs - m_lastSuccessMs, 0);
    current.fresh = current.ageMs <= m_staleAfterMs;
    return current;
}

} // namespace Gateway::Gpu
