#include "dnswatcher.h"

#include <algorithm>
#include <chrono>
#include <limits>

namespace Gateway::Discovery {

namespace {

qint64 nowMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

} // namespace

DnsWatcher::DnsWatcher(Report report)
    : m_report {std::move(report)}
    , m_thread {[this] { run(); }}
{
}

DnsWatcher::~DnsWatcher()
{
    {
        const std::lock_guard lock {m_mutex};
        m_stopping = true;
    }
    m_wake.notify_all();
    m_thread.join();
}

void DnsWatcher::setWatches(std::vector<Watch> watches)
{
    {
        const std::lock_guard lock {m_mutex};
        std::vector<Entry> entries;
        for (Watch &watch : watches) {
            const auto same = std::find_if(m_entries.begin(), m_entries.end(),
                                           [&watch](const Entry &entry) { return entry.watch == watch; });
            entries.push_back({std::move(watch), same == m_entries.end() ? 0 : same->dueMs});
        }
        m_entries = std::move(entries);
    }
    m_wake.notify_all();
}

void DnsWatcher::run()
{
    std::unique_lock lock {m_mutex};
    while (!m_stopping) {
        const qint64 now = nowMs();
        qint64 nextDue = std::numeric_limits<qint64>::max();
        const Entry *due = nullptr;
        for (const Entry &entry : m_entries) {
            if (entry.dueMs <= now && !due) {
                due = &entry;
            }
            nextDue = std::min(nextDue, entry.dueMs);
        }
        if (!due) {
            if (nextDue == std::numeric_limits<qint64>::max()) {
                m_wake.wait(lock);
            } else {
                m_wake.wait_for(lock, std::chrono::milliseconds(nextDue - now));
            }
            continue;
        }
        const Watch watch = due->watch;
        for (Entry &entry : m_entries) {
            if (entry.watch == watch) {
                entry.dueMs = now + watch.intervalMs;
            }
        }
        lock.unlock();
        const DnsAnswer answer = resolve(watch.question);
        lock.lock();
        // Reported only while still watched as asked: an answer to a question the policy
        // no longer asks must not bring its servers back.
        const bool current = std::any_of(m_entries.begin(), m_entries.end(),
                                         [&watch](const Entry &entry) { return entry.watch == watch; });
        if (current && !m_stopping) {
            lock.unlock();
            m_report(watch.provider, answer);
            lock.lock();
        }
    }
}

} // namespace Gateway::Discovery
