#include "gpu/enginesignalboard.h"

#include <QMutexLocker>

#include <algorithm>

namespace Gateway::Gpu {

namespace {

template <typename Entries>
auto findIn(Entries &entries, int backendId) -> decltype(entries.data())
{
    const auto it = std::lower_bound(entries.begin(), entries.end(), backendId,
                                     [](const auto &entry, int id) { return entry.backendId < id; });
    return it != entries.end() && it->backendId == backendId ? &*it : nullptr;
}

} // namespace

EngineSignalBoard::EngineSignalBoard(qint64 staleAfterMs)
    : m_staleAfterMs {staleAfterMs}
{
}

EngineSignalBoard::Entry *EngineSignalBoard::find(int backendId)
{
    return findIn(m_entries, backendId);
}

const EngineSignalBoard::Entry *EngineSignalBoard::find(int backendId) const
{
    return findIn(m_entries, backendId);
}

void EngineSignalBoard::setTargets(const std::vector<ScrapeTarget> &targets)
{
    std::vector<ScrapeTarget> sorted = targets;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const ScrapeTarget &a, const ScrapeTarget &b) { return a.backendId < b.backendId; });

    const QMutexLocker lock {&m_mutex};
    std::vector<Entry> next;
    next.reserve(sorted.size());
    for (const ScrapeTarget &target : sorted) {
        if (!next.empty() && next.back().backendId == target.backendId) {
            continue;
        }
        Entry *previous = find(target.backendId);
        if (previous && previous->url == target.url) {
            next.push_back(std::move(*previous));
        } else {
            next.push_back(Entry {target.backendId, target.url, EngineSignalsTracker {m_staleAfterMs}, {}});
        }
    }
    m_entries = std::move(next);
}

void EngineSignalBoard::recordSuccess(int backendId, const EngineSample &sample, qint64 nowMs)
{
    const QMutexLocker lock {&m_mutex};
    Entry *entry = find(backendId);
    if (!entry) {
        return;
    }
    entry->tracker.recordSuccess(sample, nowMs);
    ++entry->counters.scrapesOk;
    entry->counters.parseErrors += static_cast<std::uint64_t>(sample.malformedLines);
    entry->counters.engine = sample.engine;
}

void EngineSignalBoard::recordFailure(int backendId, const QByteArray &error, qsizetype malformedLines)
{
    const QMutexLocker lock {&m_mutex};
    Entry *entry = find(backendId);
    if (!entry) {
        return;
    }
    ++entry->counters.scrapesFailed;
    entry->counters.parseErrors += static_cast<std::uint64_t>(malformedLines);
    entry->counters.lastError = error;
}

Routing::EngineSignals EngineSignalBoard::signalsFor(int backendId, qint64 nowMs) const
{
    const QMutexLocker lock {&m_mutex};
    const Entry *entry = find(backendId);
    return entry ? entry->tracker.signalsAt(nowMs) : Routing::EngineSignals {};
}

std::optional<ScrapeCounters> EngineSignalBoard::countersFor(int backendId) const
{
    const QMutexLocker lock {&m_mutex};
    const Entry *entry = find(backendId);
    if (!entry) {
        return std::nullopt;
    }
    return entry->counters;
}

std::vector<TargetCounters> EngineSignalBoard::counters() const
{
    const QMutexLocker lock {&m_mutex};
    std::vector<TargetCounters> out;
    out.reserve(m_entries.size());
    for (const Entry &entry : m_entries) {
        out.push_back(TargetCounters {entry.backendId, entry.url, entry.counters});
    }
    return out;
}

} // namespace Gateway::Gpu
