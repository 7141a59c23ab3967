#pragma once

// Shared by the admission tests: building requests and recording what queued requests'
// callbacks receive (synchronously, on the thread that resolved the wait).

#include "admission/admissionqueue.h"

#include <QString>
#include <QStringList>

#include <initializer_list>
#include <memory>
#include <utility>
#include <vector>

namespace AdmissionTest {

using namespace Gateway::Admission;

inline AdmissionRequest request(PriorityClass priority, const QString &key, std::int64_t tokens = 100,
                                qint64 deadlineMs = 0, double keyWeight = 0.0)
{
    AdmissionRequest r;
    r.priority = priority;
    r.virtualKey = key;
    r.tokens = tokens;
    r.deadlineMs = deadlineMs;
    r.keyWeight = keyWeight;
    return r;
}

// QStringList from literals (the build forbids implicit conversions from char *).
inline QStringList names(std::initializer_list<const char *> list)
{
    QStringList result;
    for (const char *name : list) {
        result << QString::fromLatin1(name);
    }
    return result;
}

inline QueueSettings settingsWith(int slotCount, int maxQueued = QueueSettings::DEFAULT_MAX_QUEUED)
{
    QueueSettings settings;
    settings.slotCount = slotCount;
    settings.maxQueued = maxQueued;
    return settings;
}

// What the callbacks received, in delivery order, each under the name it was queued as.
class Outcomes {
public:
    struct Entry {
        QString name;
        WaitResult result;
    };

    WaitCallback callbackFor(const QString &name)
    {
        return [this, name](WaitResult result) { m_entries.push_back(Entry {name, std::move(result)}); };
    }

    std::vector<Entry> &entries() { return m_entries; }
    qsizetype count() const { return static_cast<qsizetype>(m_entries.size()); }
    const Entry *find(const QString &name) const
    {
        for (const Entry &entry : m_entries) {
            if (entry.name == name) {
                return &entry;
            }
        }
        return nullptr;
    }

private:
    std::vector<Entry> m_entries;
};

// Queues `request` under `name`; the handle is kept in `handles` so the wait lasts.
inline AdmitResult admitNamed(AdmissionQueue &queue, Outcomes &outcomes, std::vector<WaitHandle> &handles,
                              const QString &name, const AdmissionRequest &request, qint64 nowMs)
{
    AdmitResult result = queue.admit(request, outcomes.callbackFor(name), nowMs);
    if (result.handle.isValid()) {
        handles.push_back(std::move(result.handle));
    }
    return result;
}

// With a single slot held by `held`: gives it back, then each granted ticket in turn, and
// returns the names of the requests in the order they got the slot.
inline QStringList grantOrder(SlotTicket held, Outcomes &outcomes, qint64 nowMs)
{
    QStringList order;
    std::size_t seen = outcomes.entries().size();
    SlotTicket current = std::move(held);
    for (;;) {
        current.release(nowMs);
        if (outcomes.entries().size() == seen) {
            return order;
        }
        Outcomes::Entry &entry = outcomes.entries()[seen++];
        if (entry.result.verdict != Verdict::Granted) {
            order << QStringLiteral("!") + entry.name;
            return order;
        }
        order << entry.name;
        current = std::move(entry.result.ticket);
    }
}

} // namespace AdmissionTest
