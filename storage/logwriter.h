#pragma once

#include "walcheckpointer.h"

#include "runtime/requestlog.h"
#include "safety/redactorslot.h"
#include "util/expected.h"

#include <QByteArray>
#include <QString>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <variant>

class QThread;

namespace Storage {

class Database;

// The request log's single writer: the data plane hands finished requests to record(),
// a dedicated thread writes them to SQLite in batches.
//
// Data plane side: record() and recordEvent() take a mutex for a deque push and return;
// they never wait on SQLite. The queue is bounded (Options::capacity jobs, request rows
// and events together); when it is full the job is dropped and droppedRows() grows, so a
// slow disk costs log rows, never request latency. The writer logs a warning when it
// sees new drops.
//
// Writer side: a thread named "storage-log-writer" opens its OWN Database (Qt Sql
// connections are per thread), sleeps until work arrives, then takes everything queued
// and writes it in ONE transaction through prepared INSERTs. Under load the queue fills
// while a batch commits, so batches grow and the cost of a commit is shared by many rows.
//
// Retention: at start, every Options::retentionInterval and on enforceRetention(),
// request_log rows older than retentionDays and beyond the newest maxRows are deleted.
// Events are kept (they are few and form the audit trail).
//
// Crash safety: a committed batch survives a process crash (WAL). At risk on a crash are
// only the jobs still queued in memory plus the batch being written, whose transaction
// rolls back as a whole; the database is never left half-written. With a process crash
// (not power loss) nothing committed is lost; see Database on synchronous=NORMAL.
class LogWriter final : public Gateway::RequestLogSink {
public:
    static constexpr qsizetype DEFAULT_CAPACITY = 65536;

    struct Options {
        QString databasePath;
        qsizetype capacity = DEFAULT_CAPACITY;
        int retentionDays = 30;      // <= 0 disables the age limit
        qint64 maxRows = 1'000'000;  // <= 0 disables the row limit
        std::chrono::milliseconds retentionInterval {60'000};
        // Wall clock for the age limit, Unix epoch ms; empty = the system clock.
        std::function<qint64()> nowMs;
    };

    // Starts the writer thread and waits until it has opened (and migrated) its
    // database; fails with the reason when it cannot. Call at start-up, not on the data
    // plane.
    static Gateway::Expected<std::unique_ptr<LogWriter>, QString> start(Options options);

    // Writes everything still queued, then joins the thread.
    ~LogWriter() override;
    Q_DISABLE_COPY_MOVE(LogWriter)

    // RequestLogSink: queue one finished request. Thread-safe, never blocks beyond the
    // queue's mutex.
    void record(Gateway::RequestLogEntry &&entry) override;

    // Queues one row for the events table (kind e.g. "policy.activated", subject what it
    // concerns, detail a JSON document). Same queue, capacity and drop rule as record().
    void recordEvent(QString kind, QString subject, QByteArray detailJson) override;

    // The patterns the writer thread replaces, in each batch it takes, in the texts that
    // can carry client or upstream text: a row's route (the model name as the client sent
    // it) and route reason, an event's subject and detail. Other columns hold names from
    // the policy or the gateway's own values.
    void setRedaction(std::shared_ptr<const Gateway::Safety::Redactor> redactor) override;

    // Asks the writer to apply retention after the jobs queued before this call. Never
    // dropped (it does not count against the capacity).
    void enforceRetention();

    // Blocks until every job queued before the call is committed (or has failed and been
    // counted). For tests and shutdown; never call it on the data plane. Do not call it
    // while the writer is paused for a test.
    void flush();

    // Rows committed to request_log and events.
    quint64 writtenRows() const override { return m_written.load(std::memory_order_relaxed); }
    // Jobs refused because the queue was full.
    quint64 droppedRows() const override { return m_dropped.load(std::memory_order_relaxed); }
    // Rows that reached the writer but could not be written (SQL error, busy > 5 s).
    quint64 failedRows() const { return m_failed.load(std::memory_order_relaxed); }
    // Transactions committed with at least one row.
    quint64 batchesWritten() const { return m_batches.load(std::memory_order_relaxed); }
    // Rows and events waiting in the queue now.
    qsizetype queueDepth() const;

    // Test hook: while paused the writer takes nothing from the queue, so a test can fill
    // it deterministically. The destructor unpauses.
    void pauseForTest(bool paused);

private:
    struct Event {
        qint64 atMs = 0;
        QString kind;
        QString subject;
        QByteArray detailJson;
    };
    struct RetentionRequest {};
    using Job = std::variant<Gateway::RequestLogEntry, Event, RetentionRequest>;

    explicit LogWriter(Options options);

    // On the writer thread, before a batch is written.
    static void redact(const Gateway::Safety::Redactor &redactor, std::deque<Job> &batch);

    bool enqueue(Job &&job, bool bounded);
    void run(const std::function<void(Gateway::Expected<bool, QString>)> &reportOpened);
    qint64 nowMs() const;

    const Options m_options;

    mutable std::mutex m_mutex;
    std::condition_variable m_workAvailable; // writer waits: jobs, unpause, stop
    std::condition_variable m_progress;      // flush() waits: committed sequence moved
    std::deque<Job> m_queue;                 // guarded by m_mutex
    qsizetype m_queuedData = 0;              // guarded by m_mutex: rows and events in m_queue
    quint64 m_enqueued = 0;                  // guarded by m_mutex: jobs accepted so far
    quint64 m_completed = 0;                 // guarded by m_mutex: jobs written or failed
    int m_flushWaiters = 0;                  // guarded by m_mutex: flush() calls waiting
    bool m_paused = false;                   // guarded by m_mutex
    bool m_stopping = false;                 // guarded by m_mutex
    bool m_writerGone = false;               // guarded by m_mutex

    Gateway::Safety::RedactorSlot m_redaction;

    std::atomic<quint64> m_written {0};
    std::atomic<quint64> m_dropped {0};
    std::atomic<quint64> m_failed {0};
    std::atomic<quint64> m_batches {0};

    struct ThreadJoiner {
        void operator()(QThread *thread) const;
    };
    std::unique_ptr<QThread, ThreadJoiner> m_thread;
    std::unique_ptr<WalCheckpointer> m_checkpointer; // started once the writer has opened the store
};

} // namespace Storage
