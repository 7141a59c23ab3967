#include "routerview.h"

#include <algorithm>

namespace Gateway::Sim::Fleet {

RouterView::RouterView(int backends, SimTime scrapeInterval, SimTime phase)
    : m_scraped(static_cast<std::size_t>(backends))
    , m_prefillSpeeds(static_cast<std::size_t>(backends))
    , m_lastPrefillSent(static_cast<std::size_t>(backends), 0)
    , m_interval(std::max<SimTime>(0, scrapeInterval))
{
    m_snapshot.backends.resize(static_cast<std::size_t>(backends));
    if (m_interval > 0) {
        for (int i = 0; i < backends; ++i) {
            m_nextScrape.push_back(phase + m_interval * i / backends);
        }
    }
}

Routing::PrefillTicket RouterView::dispatched(int backend, const RequestLoad &load, SimTime now)
{
    const auto index = static_cast<std::size_t>(backend);
    Routing::BackendState &state = m_snapshot.backends[index];
    const Routing::PrefillTicket ticket {now, state.prefillsInFlight == 0};
    ++state.inFlightRequests;
    ++state.prefillsInFlight;
    state.inFlightTokens += load.expected;
    state.inFlightPrefillTokens += load.prefill;
    state.inFlightDecodeTokens += load.decode;
    m_lastPrefillSent[index] = now;
    return ticket;
}

void RouterView::prefillDone(int backend, const RequestLoad &load, const Routing::PrefillTicket &ticket, SimTime now)
{
    const auto index = static_cast<std::size_t>(backend);
    Routing::BackendState &state = m_snapshot.backends[index];
    state.inFlightPrefillTokens -= load.prefill;
    --state.prefillsInFlight;
    m_prefillSpeeds[index].observe(ticket, load.prefill, now);
    state.prefillUsPerToken = m_prefillSpeeds[index].usPerToken();
}

void RouterView::finished(int backend, const RequestLoad &load, bool prefillPending)
{
    Routing::BackendState &state = m_snapshot.backends[static_cast<std::size_t>(backend)];
    --state.inFlightRequests;
    state.inFlightTokens -= load.expected;
    if (prefillPending) {
        state.inFlightPrefillTokens -= load.prefill;
        --state.prefillsInFlight;
    }
    state.inFlightDecodeTokens -= load.decode;
}

std::optional<SimTime> RouterView::nextScrape() const
{
    if (m_nextScrape.empty()) {
        return std::nullopt;
    }
    return *std::min_element(m_nextScrape.begin(), m_nextScrape.end());
}

std::vector<int> RouterView::takeDueScrapes(SimTime now)
{
    std::vector<int> due;
    for (std::size_t i = 0; i < m_nextScrape.size(); ++i) {
        if (m_nextScrape[i] <= now) {
            due.push_back(static_cast<int>(i));
            m_nextScrape[i] += m_interval;
        }
    }
    return due;
}

void RouterView::scrape(int backend, const ServerStatus &status, SimTime now)
{
    const auto index = static_cast<std::size_t>(backend);
    Scraped &previous = m_scraped[index];
    Routing::EngineSignals &engine = m_snapshot.backends[index].engine;
    engine.fresh = true;
    engine.waitingRequests = status.waiting;
    engine.runningRequests = status.running;
    engine.kvCacheUsage = status.kvCacheUsage;
    // As the gateway's EngineSignalsTracker: a counter below its last value is a restart.
    if (previous.at >= 0 && (status.processPrefixCacheQueries < previous.queries || status.processPrefixCacheHits < previous.hits)) {
        ++engine.restarts;
    }
    const std::int64_t queries = status.processPrefixCacheQueries - previous.queries;
    engine.prefixCacheHitRate = queries > 0 ? static_cast<double>(status.processPrefixCacheHits - previous.hits) / static_cast<double>(queries) : -1.0;
    engine.cacheBlockSize = status.blockSize;
    engine.cacheBlocks = status.numGpuBlocks;
    previous = {now, status.processPrefixCacheQueries, status.processPrefixCacheHits};
}

const Routing::BackendSnapshot &RouterView::snapshot(SimTime now)
{
    for (std::size_t i = 0; i < m_scraped.size(); ++i) {
        Routing::BackendState &state = m_snapshot.backends[i];
        state.engine.ageMs = m_scraped[i].at < 0 ? -1 : (now - m_scraped[i].at) / MICROS_PER_MILLI;
        state.prefillElapsedUs = state.prefillsInFlight > 0 ? now - m_lastPrefillSent[i] : -1;
    }
    return m_snapshot;
}

} // namespace Gateway::Sim::Fleet
