#pragma once

#include "cache/semanticstore.h"
#include "util/expected.h"

#include <QString>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace Storage {

// Keeps the semantic cache's entries in SQLite (semantic_cache) so a restart keeps the
// cache. The data plane hands new entries to stored(), which only queues (bounded:
// beyond `capacity` entries are dropped and counted, the in-memory index still has
// them); a dedicated thread commits the queue in one transaction per batch and deletes
// rows past their expiry. load() reads the live rows back at start-up, before serving.
class SemanticCacheWriter final : public Gateway::Cache::SemanticStore {
public:
    struct Options {
        QString databasePath;
        qsizetype capacity = 10000;
        // Wall clock for expiry, Unix epoch ms; empty = the system clock.
        std::function<qint64()> nowMs;
    };

    // Start-up only (blocking I/O): the rows not yet expired, oldest first.
    static Gateway::Expected<std::vector<Gateway::Cache::SemanticRecord>, QString> load(const QString &databasePath,
                                                                                          qint64 nowMs);
    static Gateway::Expected<std::unique_ptr<SemanticCacheWriter>, QString> start(Options options);

    // Commits what is queued, then joins the thread.
    ~SemanticCacheWriter() override;
    SemanticCacheWriter(const SemanticCacheWriter &) = delete;
    SemanticCacheWriter &operator=(const SemanticCacheWriter &) = delete;

    void stored(Gateway::Cache::SemanticRecord &&record) override;
    // Blocks until everything queued before the call is committed (tests, shutdown).
    void flush();

    quint64 committed() const { return m_committed.load(std::memory_order_relaxed); }
    quint64 dropped() const { return m_dropped.load(std::memory_order_relaxed); }

private:
    explicit SemanticCacheWriter(Options options);
    void run(std::promise<QString> *opened);

    const Options m_options;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_progress;
    std::deque<Gateway::Cache::SemanticRecord> m_queue; // guarded by m_mutex
    quint64 m_enqueued = 0;                             // guarded by m_mutex
    quint64 m_done = 0;                                 // guarded by m_mutex
    bool m_stopping = false;                            // guarded by m_mutex
    std::atomic<quint64> m_committed {0};
    std::atomic<quint64> m_dropped {0};
    std::thread m_thread;
};

} // namespace Storage
