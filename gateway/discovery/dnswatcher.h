#pragma once

#include "dnsresolver.h"

#include <QString>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace Gateway::Discovery {

// Resolves each watched provider's DNS question every interval, on a thread of its own:
// resolution blocks (the resolver library waits for the nameserver), so it never runs on
// an event loop or a data-plane worker. Answers are reported from that thread, one at a
// time, outside any lock of the watcher.
class DnsWatcher final {
public:
    struct Watch {
        QString provider;
        DnsQuestion question;
        qint64 intervalMs = 5000;
        bool operator==(const Watch &other) const
        {
            return provider == other.provider && intervalMs == other.intervalMs && question.type == other.question.type &&
                   question.name == other.question.name && question.port == other.question.port &&
                   question.nameserver == other.question.nameserver;
        }
    };
    using Report = std::function<void(const QString &provider, const DnsAnswer &answer)>;

    explicit DnsWatcher(Report report);
    // Stops and joins the thread; a resolution under way finishes first (bounded by the
    // question's timeout x tries).
    ~DnsWatcher();
    DnsWatcher(const DnsWatcher &) = delete;
    DnsWatcher &operator=(const DnsWatcher &) = delete;

    // What to watch from now on. New and changed watches are resolved at once; unchanged
    // ones keep their schedule.
    void setWatches(std::vector<Watch> watches);

private:
    struct Entry {
        Watch watch;
        qint64 dueMs = 0;
    };
    void run();

    Report m_report;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::vector<Entry> m_entries;
    bool m_stopping = false;
    std::thread m_thread; // last: started once everything above exists
};

} // namespace Gateway::Discovery
