#pragma once

#include "governance/spendjournal.h"
#include "util/expected.h"

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

// The governance spend journal's single writer: the data plane hands reservations and
// settlements to reserved()/settled(), a dedicated thread commits them to SQLite
// (spend_reservations, spend_ledger) in one transaction per batch.
//
// What a crash can lose: a batch is committed at most `flushInterval` (default 1 s,
// governance.journal_flush_ms) after its first job was queued, so a process crash loses
// at most the last interval's jobs plus the batch being committed (whose transaction
// rolls back whole). A lost settlement whose reservation was committed is not lost
// spend: the next start finds the reservation open and settles it at its estimate. A
// lost reservation whose request was still running loses that request's spend. The
// destructor (shutdown) commits everything queued.
//
// Start-up recovery (in start(), before any job): every open reservation left by a
// crashed run is settled at its estimate (a ledger row with estimated = 1 at the
// reservation's time) and removed; then this UTC day's and month's spend per key and
// per team is summed from the ledger, for the limit store to seed its budgets with.
//
// The queue is bounded (Options::capacity jobs, a million by default: many seconds of a
// busy gateway's traffic, about 100 MB at worst) so a disk that stops taking writes
// cannot exhaust memory; beyond it jobs are dropped, counted (droppedJobs) and logged.
// The in-memory limits still hold the dropped spend until the process ends.
class SpendJournalWriter final : public Gateway::Governance::SpendJournal {
public:
    struct Options {
        QString databasePath;
        std::chrono::milliseconds flushInterval {1000};
        qsizetype capacity = 1 << 20;
        // Wall clock for the recovery's day and month, Unix epoch ms; empty = the system clock.
        std::function<qint64()> nowMs;
    };

    struct Started {
        std::unique_ptr<SpendJournalWriter> writer;
        Gateway::Governance::RecoveredSpend recovered;
    };
    // Opens the database, runs recovery and starts the writer thread. Call at start-up,
    // never on the data plane.
    static Gateway::Expected<Started, QString> start(Options options);

    // Commits everything queued, then joins the thread.
    ~SpendJournalWriter() override;
    SpendJournalWriter(const SpendJournalWriter &) = delete;
    SpendJournalWriter &operator=(const SpendJournalWriter &) = delete;

    void reserved(Gateway::Governance::ReservationRecord &&record) override;
    void settled(Gateway::Governance::SettlementRecord &&record) override;

    // Blocks until every job queued before the call is committed. Tests and shutdown.
    void flush();

    quint64 committedJobs() const { return m_committedJobs.load(std::memory_order_relaxed); }
    quint64 failedJobs() const { return m_failedJobs.load(std::memory_order_relaxed); }
    quint64 droppedJobs() const { return m_droppedJobs.load(std::memory_order_relaxed); }

    // Test hook, to simulate a crash: the queued jobs are thrown away and the thread
    // stops without writing them.
    void discardQueuedForTest();

private:
    using Job = std::variant<Gateway::Governance::ReservationRecord, Gateway::Governance::SettlementRecord>;

    explicit SpendJournalWriter(Options options);
    void enqueue(Job &&job);
    void run(const std::function<void(Gateway::Expected<Gateway::Governance::RecoveredSpend, QString>)> &reportOpened);

    const Options m_options;

    mutable std::mutex m_mutex;
    std::condition_variable m_workAvailable;
    std::condition_variable m_progress;
    std::deque<Job> m_queue;  // guarded by m_mutex
    quint64 m_enqueued = 0;   // guarded by m_mutex
    quint64 m_completed = 0;  // guarded by m_mutex
    int m_flushWaiters = 0;   // guarded by m_mutex
    bool m_stopping = false;  // guarded by m_mutex
    bool m_discard = false;   // guarded by m_mutex
    bool m_writerGone = false; // guarded by m_mutex

    std::atomic<quint64> m_committedJobs {0};
    std::atomic<quint64> m_failedJobs {0};
    std::atomic<quint64> m_droppedJobs {0};

    struct ThreadJoiner {
        void operator()(QThread *thread) const;
    };
    std::unique_ptr<QThread, ThreadJoiner> m_thread;
};

} // namespace Storage
