#pragma once

#include <QString>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace Storage {

// Copies the write-ahead log back into the database file on a thread of its own, every
// interval, with PASSIVE checkpoints (they never wait for, or block, the writer).
//
// Why not SQLite's automatic checkpoint: it runs inside the COMMIT of whichever
// connection crosses the threshold, which for the request log is the log writer; the
// checkpoint's copy and fsync then stall the writer for tens of milliseconds while the
// data plane keeps queueing rows, and at saturation the bounded queue overflowed and rows
// were dropped (benchmark: 34% of rows lost). The writer's connection turns automatic
// checkpoints off and this thread does them instead.
class WalCheckpointer final {
public:
    static constexpr int DEFAULT_INTERVAL_MS = 1000;

    // Opens its own connection to `databasePath` on its thread. Failures are logged, never
    // fatal: without checkpoints the WAL only grows until the next start.
    explicit WalCheckpointer(QString databasePath, int intervalMs = DEFAULT_INTERVAL_MS);
    // Runs a last checkpoint and joins the thread.
    ~WalCheckpointer();
    WalCheckpointer(const WalCheckpointer &) = delete;
    WalCheckpointer &operator=(const WalCheckpointer &) = delete;

    // Checkpoints completed so far (for tests).
    int checkpoints() const;

private:
    void run();

    const QString m_path;
    const int m_intervalMs;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stopping = false;
    int m_checkpoints = 0;
    std::thread m_thread; // last: started once the members above exist
};

} // namespace Storage
