#include "outagebacklog.h"

#include "governance/utcwindow.h"

#include <algorithm>

namespace Gateway::Shared {

void OutageBacklog::add(const BacklogEntry &usage)
{
    const std::lock_guard lock {m_mutex};
    BacklogEntry &entry = m_entries[Slot {usage.key, usage.team, Governance::utcDay(usage.atMs)}];
    entry.key = usage.key;
    entry.team = usage.team;
    entry.atMs = std::max(entry.atMs, usage.atMs);
    entry.releases += usage.releases;
    entry.estimatedTokens += usage.estimatedTokens;
    entry.estimatedNanos += usage.estimatedNanos;
    entry.tokens += usage.tokens;
    entry.nanos += usage.nanos;
}

std::vector<BacklogEntry> OutageBacklog::take()
{
    const std::lock_guard lock {m_mutex};
    std::vector<BacklogEntry> out;
    out.reserve(m_entries.size());
    for (auto &[slot, entry] : m_entries) {
        out.push_back(std::move(entry));
    }
    m_entries.clear();
    return out;
}

void OutageBacklog::clear()
{
    const std::lock_guard lock {m_mutex};
    m_entries.clear();
}

std::size_t OutageBacklog::size() const
{
    const std::lock_guard lock {m_mutex};
    return m_entries.size();
}

} // namespace Gateway::Shared
