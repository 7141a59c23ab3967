#include "logwriter.h"

#include "database.h"
#include "sqlvalues.h"

#include <QDateTime>
#include <QSqlDriver>
#include <QLoggingCategory>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>

#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <future>

namespace Storage {

namespace {

Q_LOGGING_CATEGORY(lcLogWriter, "switchyard.storage.logwriter")

constexpr qint64 MS_PER_DAY = 24LL * 60 * 60 * 1000;
// Drops are reported at most this often so a saturated queue does not flood the log.
constexpr std::chrono::seconds DROP_REPORT_INTERVAL {10};
// After the first job of a batch arrives, the writer lets more gather for this long (or
// until HIGH_WATER jobs wait): a busy gateway then pays for one wake-up and one
// transaction per few thousand rows instead of per row, and the writer thread, which
// shares the CPU with the data plane, runs rarely.
constexpr std::chrono::milliseconds BATCH_WINDOW {100};
constexpr std::size_t HIGH_WATER = 4096;
constexpr int WRITER_NICE = 5;

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
        sqlite3_finalize(m_insertRow); // before the connection closes
    }
    Q_DISABLE_COPY_MOVE(BatchWriter)

    Gateway::Expected<bool, QString> prepare()
    {
        // Rows go through SQLite's own API on the connection Qt opened: binding fifteen
        // values through QVariant per row cost the data plane's core more than the
        // insert itself. Qt's SQLite driver hands out its sqlite3* for exactly this.
        const QVariant handle = m_db->connection().driver()->handle();
        if (!handle.isValid() || qstrcmp(handle.typeName(), "sqlite3*") != 0) {
            return Gateway::Unexpected {QStringLiteral("the Qt SQLite driver did not expose its handle")};
        }
        m_handle = *static_cast<sqlite3 *const *>(handle.constData());
        const char *sql = "INSERT INTO request_log (finished_at_ms, request_id, virtual_key, route, backend, endpoint,"
                          " status, error_class, latency_ms, ttft_ms, tokens_in, tokens_out, cost_usd, attempts, stream,"
                          " route_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        if (sqlite3_prepare_v3(m_handle, sql, -1, SQLITE_PREPARE_PERSISTENT, &m_insertRow, nullptr) != SQLITE_OK) {
            return Gateway::Unexpected {QStringLiteral("cannot prepare the request log insert: %1")
                                            .arg(QString::fromUtf8(sqlite3_errmsg(m_handle)))};
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

    bool insert(const Gateway::RequestLogEntry &entry)
    {
        sqlite3_stmt *row = m_insertRow;
        sqlite3_reset(row);
        // Empty text is bound as '' (never NULL): the columns are NOT NULL.
        const auto text = [row](int index, QByteArrayView value) {
            sqlite3_bind_text(row, index, value.isEmpty() ? "" : value.data(), static_cast<int>(value.size()),
                              SQLITE_STATIC);
        };
        const QByteArray virtualKey = entry.virtualKey.toUtf8();
        int i = 1;
        sqlite3_bind_int64(row, i++, entry.finishedAtMs);
        text(i++, entry.requestId);
        text(i++, virtualKey);
        text(i++, entry.route);
        text(i++, entry.backend);
        text(i++, entry.endpoint);
        sqlite3_bind_int(row, i++, entry.status);
        text(i++, entry.errorClass);
        sqlite3_bind_double(row, i++, entry.latencyMs);
        sqlite3_bind_double(row, i++, entry.ttftMs);
        sqlite3_bind_int64(row, i++, entry.tokensIn);
        sqlite3_bind_int64(row, i++, entry.tokensOut);
        sqlite3_bind_double(row, i++, entry.costUsd);
        sqlite3_bind_int(row, i++, entry.attempts);
        sqlite3_bind_int(row, i++, entry.stream ? 1 : 0);
        text(i++, entry.routeReason);
        if (sqlite3_step(row) != SQLITE_DONE) {
            qCWarning(lcLogWriter) << "cannot insert a request log row:" << sqlite3_errmsg(m_handle);
            return false;
        }
        return true;
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

    // Age limit first (uses the finished_at_ms index), then the row limit: everything at
    // or below the id of the (maxRows + 1)-th newest row goes. Ids grow with insertion,
    // so "newest" means most recently written.
    void applyRetention(qint64 nowMs, int retentionDays, qint64 maxRows)
    {
        if (!begin()) {
            return;
        }
        bool ok = true;
        if (retentionDays > 0) {
            QSqlQuery query {m_db->connection()};
            query.prepare(QStringLiteral("DELETE FROM request_log WHERE finished_at_ms < ?"));
            query.addBindValue(nowMs - retentionDays * MS_PER_DAY);
            ok = query.exec();
            if (!ok) {
                qCWarning(lcLogWriter) << "request log retention by age failed:" << query.lastError().text();
            }
        }
        if (ok && maxRows > 0) {
            QSqlQuery query {m_db->connection()};
            query.prepare(QStringLiteral("DELETE FROM request_log WHERE id <="
                                         " (SELECT id FROM request_log ORDER BY id DESC LIMIT 1 OFFSET ?)"));
            query.addBindValue(maxRows);
            ok = query.exec();
            if (!ok) {
                qCWarning(lcLogWriter) << "request log retention by row count failed:" << query.lastError().text();
            }
        }
        if (ok) {
            commit();
        } else {
            m_db->rollback();
        }
    }

private:
    std::unique_ptr<Database> m_db;
    sqlite3 *m_handle = nullptr;
    sqlite3_stmt *m_insertRow = nullptr;
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
    // The data plane comes first: under real-time scheduling this ranks the writer below
    // the workers, and run() lowers its nice value for the normal scheduler. A writer
    // that falls behind drops rows and counts them; it never slows a request.
    writer->m_thread->start(QThread::LowPriority);

    // The thread reports exactly once, after opening and before taking any job.
    auto result = openedResult.get();
    if (!result) {
        return Gateway::Unexpected {result.error()};
    }
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

void LogWriter::run(const std::function<void(Gateway::Expected<bool, QString>)> &reportOpened)
{
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), WRITER_NICE);
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
        for (auto job = first; job != last; ++job) {
            if (const auto *entry = std::get_if<0>(&*job)) {
                rows += target.insert(*entry) ? 1 : 0;
            } else if (const auto *event = std::get_if<1>(&*job)) {
                rows += target.insert(event->atMs, event->kind, event->subject, event->detailJson) ? 1 : 0;
            }
        }
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
            m_workAvailable.wait_until(lock, nextRetention,
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

        const Clock::time_point now = Clock::now();
        if (now >= nextRetention) {
            writer->applyRetention(nowMs(), m_options.retentionDays, m_options.maxRows);
            nextRetention = now + m_options.retentionInterval;
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
