#include "logwriter.h"

#include "database.h"
#include "backgroundscheduling.h"
#include "requestlogids.h"
#include "sqlvalues.h"

#include <QDateTime>
#include <QSqlDriver>
#include <QLoggingCategory>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <future>

namespace Storage {

namespace {

Q_LOGGING_CATEGORY(lcLogWriter, "switchyard.storage.logwriter")

constexpr qint64 MS_PER_DAY = 24LL * 60 * 60 * 1000;
// Drops are reported at most this often so a saturated queue does not flood the log.
constexpr std::chrono::seconds DROP_REPORT_INTERVAL {10};
// After the first job of a batch arrives, the writer lets more gather for this long (or
// until HIGH_WATER jobs wait): a quiet gateway pays for one wake-up and one transaction
// per window instead of per row. A busy one reaches HIGH_WATER first: a batch of that
// many rows takes about a millisecond to write, which bounds how long the writer holds
// the CPU when it preempts a worker (see adoptBackgroundScheduling), while the commit's
// cost is still shared by hundreds of rows.
constexpr std::chrono::milliseconds BATCH_WINDOW {100};
constexpr std::size_t HIGH_WATER = 512;
constexpr int WRITER_NICE = 5;
// Rows deleted per retention transaction (see BatchWriter::deleteOldest).
constexpr int RETENTION_CHUNK = 2000;
// Rows per multi-row INSERT: one statement execution (cursor set-up, statement journal,
// halt) per this many rows instead of per row, which is most of SQLite's per-row cost
// after the B-tree inserts themselves. 16 columns x 32 rows = 512 parameters, well under
// SQLite's limit.
constexpr int ROWS_PER_INSERT = 32;
// Statement sizes, largest first: a batch's rows go in statements of 32, its remainder
// in statements of 8, then single rows, so a small batch (a quiet gateway) is not
// written row by row.
constexpr std::array<int, 3> STATEMENT_ROWS {ROWS_PER_INSERT, 8, 1};
constexpr int COLUMNS = 18;

// The writer thread's database side: its connection and its prepared statements, which
// must be destroyed before the connection.
class BatchWriter final {
public:
    explicit BatchWriter(std::unique_ptr<Database> db)
        : m_db {std::move(db)}
        , m_insertEvent {m_db->connection()}
    {
    }
    ~BatchWriter()
    {
        for (MultiRowInsert &insert : m_inserts) {
            sqlite3_finalize(insert.statement); // before the connection closes
        }
    }
    Q_DISABLE_COPY_MOVE(BatchWriter)

    Gateway::Expected<bool, QString> prepare()
    {
        // Rows go through SQLite's own API on the connection Qt opened: binding fifteen
        // values through QVariant per row cost the data plane's core more than the
        // insert itself.
        auto handle = m_db->sqliteHandle();
        if (!handle) {
            return Gateway::Unexpected {handle.error()};
        }
        m_handle = handle.value();
        // Checkpoints run on their own thread (WalCheckpointer), never inside this
        // connection's COMMIT: their fsync would stall the writer and overflow its queue.
        sqlite3_exec(m_handle, "PRAGMA wal_autocheckpoint = 0", nullptr, nullptr, nullptr);
        const QByteArray insert = "INSERT INTO request_log (id, finished_at_ms, request_id, virtual_key, route, backend,"
                                  " endpoint, status, error_class, latency_ms, ttft_ms, tokens_in, tokens_out, cost_usd,"
                                  " attempts, stream, route_reason, cache) VALUES ";
        const QByteArray row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        for (std::size_t i = 0; i < STATEMENT_ROWS.size(); ++i) {
            QByteArray rows = insert + row;
            for (int r = 1; r < STATEMENT_ROWS[i]; ++r) {
                rows += ", " + row;
            }
            MultiRowInsert &target = m_inserts[i];
            target.rows = STATEMENT_ROWS[i];
            target.bound.assign(static_cast<std::size_t>(COLUMNS * target.rows), Bound {});
            if (sqlite3_prepare_v3(m_handle, rows.constData(), -1, SQLITE_PREPARE_PERSISTENT, &target.statement,
                                   nullptr) != SQLITE_OK) {
                return Gateway::Unexpected {QStringLiteral("cannot prepare the request log insert: %1")
                                                .arg(QString::fromUtf8(sqlite3_errmsg(m_handle)))};
            }
        }
        // Ids continue from the newest row (RequestLogIds: time-ordered, see there).
        QSqlQuery newest {m_db->connection()};
        if (newest.exec(QStringLiteral("SELECT max(id) FROM request_log")) && newest.next()) {
            m_lastId = newest.value(0).toLongLong();
        }
        if (!m_insertEvent.prepare(QStringLiteral("INSERT INTO events (at_ms, kind, subject, detail) VALUES (?, ?, ?, ?)"))) {
            return Gateway::Unexpected {QStringLiteral("cannot prepare the events insert: %1").arg(m_insertEvent.lastError().text())};
        }
        return true;
    }

    bool begin()
    {
        auto begun = m_db->beginWrite();
        if (!begun) {
            qCWarning(lcLogWriter) << "cannot start a request log transaction:" << begun.error();
        }
        return begun.hasValue();
    }

    bool commit()
    {
        auto committed = m_db->commit();
        if (!committed) {
            qCWarning(lcLogWriter) << "cannot commit request log rows:" << committed.error();
            m_db->rollback();
        }
        return committed.hasValue();
    }

    // `count` rows at once, in statements of STATEMENT_ROWS sizes; returns the rows
    // written.
    int insert(const Gateway::RequestLogEntry *const *entries, int count)
    {
        int written = 0;
        for (MultiRowInsert &target : m_inserts) {
            while (count >= target.rows) {
                sqlite3_reset(target.statement);
                // Key names converted to UTF-8 must live until the step.
                QByteArray keys[ROWS_PER_INSERT];
                for (int r = 0; r < target.rows; ++r) {
                    bind(target.statement, target.bound, r * COLUMNS, *entries[r], keys[r]);
                }
                if (sqlite3_step(target.statement) == SQLITE_DONE) {
                    written += target.rows;
                } else {
                    qCWarning(lcLogWriter) << "cannot insert request log rows:" << sqlite3_errmsg(m_handle);
                }
                entries += target.rows;
                count -= target.rows;
            }
        }
        return written;
    }

    // What a statement parameter is bound to now. Bindings outlive sqlite3_reset(), and
    // most columns repeat from row to row (route, backend, endpoint, status, empty text
    // shared by every row...), so a parameter is only bound again when its value changed:
    // for text that is a different pointer or length. SQLITE_STATIC text is read at the
    // step, so an unchanged pointer always reads the current row's bytes, and every
    // parameter is checked against the current rows before every step.
    struct Bound {
        const void *text = nullptr;
        qint64 integer = 0;
        double real = 0;
        int size = -1;
        char kind = 0; // 0 unbound, 't' text, 'i' integer, 'r' real
    };

    void bind(sqlite3_stmt *statement, std::vector<Bound> &bound, int offset, const Gateway::RequestLogEntry &entry,
              QByteArray &keyStorage)
    {
        static const char EMPTY[] = "";
        // Empty text is bound as '' (never NULL): the columns are NOT NULL.
        const auto text = [&](int column, QByteArrayView value) {
            const char *data = value.isEmpty() ? EMPTY : value.data();
            const int size = static_cast<int>(value.size());
            Bound &slot = bound[static_cast<std::size_t>(offset + column)];
            if (slot.kind != 't' || slot.text != data || slot.size != size) {
                sqlite3_bind_text(statement, offset + column + 1, data, size, SQLITE_STATIC);
                slot = {data, 0, 0, size, 't'};
            }
        };
        const auto integer = [&](int column, qint64 value) {
            Bound &slot = bound[static_cast<std::size_t>(offset + column)];
            if (slot.kind != 'i' || slot.integer != value) {
                sqlite3_bind_int64(statement, offset + column + 1, value);
                slot = {nullptr, value, 0, -1, 'i'};
            }
        };
        const auto real = [&](int column, double value) {
            Bound &slot = bound[static_cast<std::size_t>(offset + column)];
            if (slot.kind != 'r' || std::memcmp(&slot.real, &value, sizeof value) != 0) {
                sqlite3_bind_double(statement, offset + column + 1, value);
                slot = {nullptr, 0, value, -1, 'r'};
            }
        };
        QByteArrayView key;
        if (!entry.virtualKey.isEmpty()) {
            // Rows of one key share its name: convert it once.
            if (entry.virtualKey.constData() != m_keyName.constData() || entry.virtualKey.size() != m_keyName.size()) {
                m_keyName = entry.virtualKey;
                m_keyUtf8 = entry.virtualKey.toUtf8();
            }
            keyStorage = m_keyUtf8; // shared: keeps the bytes alive even if the cache moves on
            key = keyStorage;
        }
        m_lastId = RequestLogIds::next(m_lastId, entry.finishedAtMs);
        integer(0, m_lastId);
        integer(1, entry.finishedAtMs);
        text(2, entry.requestId);
        text(3, key);
        text(4, entry.route);
        text(5, entry.backend);
        text(6, entry.endpoint);
        integer(7, entry.status);
        text(8, entry.errorClass);
        real(9, entry.latencyMs);
        real(10, entry.ttftMs);
        integer(11, entry.tokensIn);
        integer(12, entry.tokensOut);
        real(13, entry.costUsd);
        integer(14, entry.attempts);
        integer(15, entry.stream ? 1 : 0);
        text(16, entry.routeReason);
        text(17, entry.cache);
    }

    bool insert(qint64 atMs, const QString &kind, const QString &subject, const QByteArray &detailJson)
    {
        m_insertEvent.bindValue(0, atMs);
        m_insertEvent.bindValue(1, SqlValues::text(kind));
        m_insertEvent.bindValue(2, SqlValues::text(subject));
        m_insertEvent.bindValue(3, SqlValues::text(detailJson));
        if (!m_insertEvent.exec()) {
            qCWarning(lcLogWriter) << "cannot insert an event:" << m_insertEvent.lastError().text();
            return false;
        }
        return true;
    }

    // The newest id retention removes (0 = nothing): rows older than the age limit, and
    // everything at or below the id of the (maxRows + 1)-th newest row. Ids order by time
    // and grow with insertion, so both are id bounds.
    qint64 retentionCutoff(qint64 nowMs, int retentionDays, qint64 maxRows)
    {
        qint64 cutoff = 0;
        if (retentionDays > 0) {
            cutoff = RequestLogIds::firstIdAt(nowMs - retentionDays * MS_PER_DAY) - 1;
        }
        if (maxRows > 0) {
            QSqlQuery query {m_db->connection()};
            query.prepare(QStringLiteral("SELECT id FROM request_log ORDER BY id DESC LIMIT 1 OFFSET ?"));
            query.addBindValue(maxRows);
            if (!query.exec()) {
                qCWarning(lcLogWriter) << "request log retention by row count failed:" << query.lastError().text();
            } else if (query.next()) {
                cutoff = std::max(cutoff, query.value(0).toLongLong());
            }
        }
        return std::max<qint64>(cutoff, 0);
    }

    // Deletes at most RETENTION_CHUNK of the oldest rows at or below `cutoff`, in a
    // transaction of its own. Returns true when none are left. Chunks keep each
    // transaction short: deleting a minute's excess at once (hundreds of thousands of rows
    // at a busy gateway) stalled the writer for seconds and overflowed its queue.
    bool deleteOldest(qint64 cutoff)
    {
        if (cutoff <= 0 || !begin()) {
            return true;
        }
        QSqlQuery query {m_db->connection()};
        query.prepare(QStringLiteral("DELETE FROM request_log WHERE id IN"
                                     " (SELECT id FROM request_log WHERE id <= ? ORDER BY id LIMIT ?)"));
        query.addBindValue(cutoff);
        query.addBindValue(RETENTION_CHUNK);
        if (!query.exec()) {
            qCWarning(lcLogWriter) << "request log retention failed:" << query.lastError().text();
            m_db->rollback();
            return true; // tried again at the next retention interval
        }
        const int deleted = query.numRowsAffected();
        commit();
        return deleted < RETENTION_CHUNK;
    }

    // All of it at once: for retention requests (start-up, enforceRetention()), which
    // promise that retention is done when flush() returns.
    void applyRetention(qint64 nowMs, int retentionDays, qint64 maxRows)
    {
        const qint64 cutoff = retentionCutoff(nowMs, retentionDays, maxRows);
        while (!deleteOldest(cutoff)) {
        }
    }

private:
    std::unique_ptr<Database> m_db;
    sqlite3 *m_handle = nullptr;
    // One prepared INSERT per STATEMENT_ROWS size, with what its parameters are bound to.
    struct MultiRowInsert {
        int rows = 0;
        sqlite3_stmt *statement = nullptr;
        std::vector<Bound> bound;
    };
    std::array<MultiRowInsert, STATEMENT_ROWS.size()> m_inserts {};
    qint64 m_lastId = 0;  // id of the newest row written
    QString m_keyName;    // the last virtual key name seen...
    QByteArray m_keyUtf8; // ...and its UTF-8
    QSqlQuery m_insertEvent;
};

} // namespace

void LogWriter::ThreadJoiner::operator()(QThread *thread) const
{
    thread->wait();
    delete thread;
}

LogWriter::LogWriter(Options options)
    : m_options {std::move(options)}
{
    // Retention at start is the first job, so flush() right after start() covers it.
    m_queue.push_back(Job {std::in_place_index<2>, RetentionRequest {}});
    m_enqueued = 1;
}

Gateway::Expected<std::unique_ptr<LogWriter>, QString> LogWriter::start(Options options)
{
    if (options.capacity < 1) {
        return Gateway::Unexpected {QStringLiteral("the request log queue capacity must be at least 1")};
    }
    std::unique_ptr<LogWriter> writer {new LogWriter(std::move(options))};

    // Shared with the thread: set_value() may still be finishing when get() returns here.
    auto opened = std::make_shared<std::promise<Gateway::Expected<bool, QString>>>();
    std::future<Gateway::Expected<bool, QString>> openedResult = opened->get_future();
    LogWriter *self = writer.get();
    writer->m_thread.reset(QThread::create([self, opened] {
        self->run([opened](Gateway::Expected<bool, QString> result) { opened->set_value(std::move(result)); });
    }));
    writer->m_thread->setObjectName(QStringLiteral("storage-log-writer"));
    // The data plane comes first: run() sets the writer's scheduling (nice +5, or under a
    // real-time policy short bursts just above the workers). A writer that falls behind
    // drops rows and counts them; it never blocks a request.
    writer->m_thread->start(QThread::LowPriority);

    // The thread reports exactly once, after opening and before taking any job.
    auto result = openedResult.get();
    if (!result) {
        return Gateway::Unexpected {result.error()};
    }
    writer->m_checkpointer = std::make_unique<WalCheckpointer>(writer->m_options.databasePath);
    return writer;
}

LogWriter::~LogWriter()
{
    {
        const std::lock_guard lock {m_mutex};
        m_stopping = true;
        m_paused = false;
    }
    m_workAvailable.notify_one();
    m_thread.reset();
}

qint64 LogWriter::nowMs() const
{
    return m_options.nowMs ? m_options.nowMs() : QDateTime::currentMSecsSinceEpoch();
}

bool LogWriter::enqueue(Job &&job, bool bounded)
{
    bool wake = false;
    {
        const std::lock_guard lock {m_mutex};
        if (bounded) {
            if (m_queuedData >= m_options.capacity) {
                m_dropped.fetch_add(1, std::memory_order_relaxed);
                return false;
            }
            ++m_queuedData;
        }
        // Only the first job after the writer emptied the queue needs a wake-up (the
        // writer re-checks the queue under the mutex before it sleeps), and one more when
        // a batch is full enough to write before its window ends.
        wake = m_queue.empty() || m_queue.size() + 1 == HIGH_WATER;
        m_queue.push_back(std::move(job));
        ++m_enqueued;
    }
    if (wake) {
        m_workAvailable.notify_one();
    }
    return true;
}

void LogWriter::record(Gateway::RequestLogEntry &&entry)
{
    enqueue(Job {std::in_place_index<0>, std::move(entry)}, true);
}

void LogWriter::recordEvent(QString kind, QString subject, QByteArray detailJson)
{
    enqueue(Job {std::in_place_index<1>, Event {nowMs(), std::move(kind), std::move(subject), std::move(detailJson)}}, true);
}

void LogWriter::enforceRetention()
{
    enqueue(Job {std::in_place_index<2>, RetentionRequest {}}, false);
}

void LogWriter::flush()
{
    std::unique_lock lock {m_mutex};
    const quint64 target = m_enqueued;
    ++m_flushWaiters; // the writer skips its batching window for us
    m_workAvailable.notify_one();
    m_progress.wait(lock, [&] { return m_completed >= target || m_writerGone; });
    --m_flushWaiters;
}

qsizetype LogWriter::queueDepth() const
{
    const std::lock_guard lock {m_mutex};
    return m_queuedData;
}

void LogWriter::pauseForTest(bool paused)
{
    {
        const std::lock_guard lock {m_mutex};
        m_paused = paused;
    }
    m_workAvailable.notify_one();
}

void LogWriter::setRedaction(std::shared_ptr<const Gateway::Safety::Redactor> redactor)
{
    m_redaction.set(std::move(redactor));
}

void LogWriter::redact(const Gateway::Safety::Redactor &redactor, std::deque<Job> &batch)
{
    // Consecutive rows mostly name the same route: its text is checked once per run.
    QByteArray lastRoute;
    QByteArray lastRedactedRoute;
    for (Job &job : batch) {
        if (auto *entry = std::get_if<0>(&job)) {
            if (entry->route != lastRoute || lastRoute.isNull()) {
                lastRoute = entry->route;
                lastRedactedRoute = entry->route;
                redactor.redact(lastRedactedRoute);
            }
            entry->route = lastRedactedRoute;
            if (!entry->routeReason.isEmpty()) {
                redactor.redact(entry->routeReason);
            }
        } else if (auto *event = std::get_if<1>(&job)) {
            event->subject = redactor.redacted(event->subject);
            redactor.redactJson(event->detailJson);
        }
    }
}

void LogWriter::run(const std::function<void(Gateway::Expected<bool, QString>)> &reportOpened)
{
    // Nice +5, or under a real-time policy one priority above the workers, in short
    // bursts (see adoptBackgroundScheduling and HIGH_WATER).
    adoptBackgroundScheduling(WRITER_NICE, 1);
    std::unique_ptr<BatchWriter> writer;
    {
        auto db = Database::open(m_options.databasePath);
        if (!db) {
            reportOpened(Gateway::Unexpected {db.error()});
            return;
        }
        writer = std::make_unique<BatchWriter>(std::move(db).value());
        auto prepared = writer->prepare();
        if (!prepared) {
            writer.reset();
            reportOpened(prepared);
            return;
        }
    }
    reportOpened(true);

    using Clock = std::chrono::steady_clock;
    Clock::time_point nextRetention = Clock::now() + m_options.retentionInterval;
    qint64 retentionCutoff = 0; // periodic retention still to delete, up to this id
    Clock::time_point nextDropReport = Clock::now();
    quint64 reportedDrops = 0;

    // One transaction for the rows and events in [first, last).
    const auto writeRows = [this](BatchWriter &target, std::deque<Job>::const_iterator first,
                                            std::deque<Job>::const_iterator last) {
        const auto jobs = quint64(std::distance(first, last));

        if (jobs == 0) {
            return;
        }
        if (!target.begin()) {
            m_failed.fetch_add(jobs, std::memory_order_relaxed);
            return;
        }
        quint64 rows = 0;
        // Request rows go in groups of ROWS_PER_INSERT, the rest in smaller statements,
        // events one by one, all in queue order.
        const Gateway::RequestLogEntry *group[ROWS_PER_INSERT];
        int grouped = 0;
        const auto flushGroup = [&] {
            rows += quint64(target.insert(group, grouped));
            grouped = 0;
        };
        for (auto job = first; job != last; ++job) {
            if (const auto *entry = std::get_if<0>(&*job)) {
                group[grouped++] = entry;
                if (grouped == ROWS_PER_INSERT) {
                    flushGroup();
                }
            } else if (const auto *event = std::get_if<1>(&*job)) {
                flushGroup();
                rows += target.insert(event->atMs, event->kind, event->subject, event->detailJson) ? 1 : 0;
            }
        }
        flushGroup();
        if (!target.commit()) {
            m_failed.fetch_add(jobs, std::memory_order_relaxed);
            return;
        }
        m_written.fetch_add(rows, std::memory_order_relaxed);
        m_failed.fetch_add(jobs - rows, std::memory_order_relaxed);
        if (rows > 0) {
            m_batches.fetch_add(1, std::memory_order_relaxed);
        }
    };

    std::deque<Job> batch;
    for (;;) {
        {
            std::unique_lock lock {m_mutex};
            // With retention chunks pending, only look for new rows; do not sleep.
            m_workAvailable.wait_until(lock, retentionCutoff > 0 ? Clock::now() : nextRetention,
                                       [&] { return m_stopping || (!m_paused && !m_queue.empty()); });
            if (!m_paused && !m_queue.empty()) {
                m_workAvailable.wait_for(lock, BATCH_WINDOW, [&] {
                    return m_stopping || m_paused || m_flushWaiters > 0 || m_queue.size() >= HIGH_WATER;
                });
            }
            if (!m_paused) {
                batch.swap(m_queue);
                m_queuedData = 0;
            }
            if (m_stopping && batch.empty()) {
                break;
            }
        }

        if (!batch.empty()) {
            if (const auto redactor = m_redaction.current(); redactor && !redactor->isEmpty()) {
                redact(*redactor, batch);
            }
            // Jobs are applied in queue order: the rows between two retention requests
            // share one transaction, and a retention request only affects rows queued
            // before it.
            auto segmentBegin = batch.cbegin();
            while (segmentBegin != batch.cend()) {
                const auto segmentEnd = std::find_if(segmentBegin, batch.cend(),
                                                     [](const Job &job) { return job.index() == 2; });
                writeRows(*writer, segmentBegin, segmentEnd);
                if (segmentEnd == batch.cend()) {
                    break;
                }
                writer->applyRetention(nowMs(), m_options.retentionDays, m_options.maxRows);
                segmentBegin = std::next(segmentEnd);
            }
            const quint64 done = quint64(batch.size());
            batch.clear();
            {
                const std::lock_guard lock {m_mutex};
                m_completed += done;
            }
            m_progress.notify_all();
        }

        // Periodic retention goes one chunk per turn of this loop, between batches of
        // rows, so the queue keeps draining while old rows go.
        const Clock::time_point now = Clock::now();
        if (now >= nextRetention) {
            retentionCutoff = writer->retentionCutoff(nowMs(), m_options.retentionDays, m_options.maxRows);
            nextRetention = now + m_options.retentionInterval;
        }
        if (retentionCutoff > 0 && writer->deleteOldest(retentionCutoff)) {
            retentionCutoff = 0;
        }
        const quint64 drops = m_dropped.load(std::memory_order_relaxed);
        if (drops != reportedDrops && now >= nextDropReport) {
            qCWarning(lcLogWriter).nospace() << "request log queue full: dropped " << (drops - reportedDrops)
                                             << " entries (" << drops << " in total); the disk cannot keep up";
            reportedDrops = drops;
            nextDropReport = now + DROP_REPORT_INTERVAL;
        }
    }

    writer.reset();
    {
        const std::lock_guard lock {m_mutex};
        m_writerGone = true;
    }
    m_progress.notify_all();
}

} // namespace Storage
