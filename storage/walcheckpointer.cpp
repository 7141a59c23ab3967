#include "walcheckpointer.h"

#include "backgroundscheduling.h"
#include "database.h"

#include <QLoggingCategory>
#include <QSqlDriver>
#include <QVariant>

#include <sqlite3.h>

namespace Storage {

namespace {
Q_LOGGING_CATEGORY(lcCheckpoint, "switchyard.storage.checkpoint")
constexpr int CHECKPOINT_NICE = 5;
}

WalCheckpointer::WalCheckpointer(QString databasePath, int intervalMs)
    : m_path {std::move(databasePath)}
    , m_intervalMs {intervalMs}
    , m_thread {[this] { run(); }}
{
}

WalCheckpointer::~WalCheckpointer()
{
    {
        const std::lock_guard lock {m_mutex};
        m_stopping = true;
    }
    m_wake.notify_one();
    m_thread.join();
}

int WalCheckpointer::checkpoints() const
{
    const std::lock_guard lock {m_mutex};
    return m_checkpoints;
}

void WalCheckpointer::run()
{
    // Under a real-time process a normal thread would never run while the workers
    // saturate the core, and the WAL would grow without bound; at the workers' own
    // priority it runs within a time slice, once a second, without preempting them.
    adoptBackgroundScheduling(CHECKPOINT_NICE, 0);
    auto opened = Database::open(m_path);
    if (!opened) {
        qCWarning(lcCheckpoint) << "cannot open the store for checkpoints:" << opened.error();
        return;
    }
    const std::unique_ptr<Database> db = std::move(opened).value();
    const auto handle = db->sqliteHandle();
    if (!handle) {
        qCWarning(lcCheckpoint) << handle.error();
        return;
    }
    sqlite3 *const sqlite = handle.value();
    std::unique_lock lock {m_mutex};
    for (;;) {
        const bool stopping = m_wake.wait_for(lock, std::chrono::milliseconds(m_intervalMs), [this] { return m_stopping; });
        lock.unlock();
        int logFrames = 0;
        int copied = 0;
        const int rc = sqlite3_wal_checkpoint_v2(sqlite, nullptr, SQLITE_CHECKPOINT_PASSIVE, &logFrames, &copied);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
            qCWarning(lcCheckpoint) << "checkpoint failed:" << sqlite3_errmsg(sqlite);
        }
        lock.lock();
        ++m_checkpoints;
        if (stopping) {
            return;
        }
    }
}

} // namespace Storage
