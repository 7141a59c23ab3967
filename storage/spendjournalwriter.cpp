#include "spendjournalwriter.h"

#include "backgroundscheduling.h"
#include "database.h"

#include "governance/utcwindow.h"

#include <QDateTime>
#include <QHash>
#include <QLoggingCategory>
#include <QSet>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlDriver>
#include <QThread>

#include <sqlite3.h>

#include <future>

namespace Storage {

namespace {

constexpr int JOURNAL_NICE = 5;

Q_LOGGING_CATEGORY(lcSpendJournal, "switchyard.storage.spendjournal")

using Gateway::Governance::RecoveredSpend;
using Gateway::Governance::ReservationRecord;
using Gateway::Governance::SettlementRecord;
using Gateway::Governance::SpendTotal;

// The writer thread's database side: its connection and prepared statements. Rows go
// through SQLite's own API on the connection Qt opened, as in the request-log writer:
// binding through QSqlQuery (a QVariant and a UTF-16 copy per text column) cost more
// than the inserts themselves, about 45,000 instructions per request.
class JournalDatabase final {
public:
    explicit JournalDatabase(std::unique_ptr<Database> db)
        : m_db {std::move(db)}
    {
    }
    ~JournalDatabase()
    {
        // Statements before the connection closes.
        sqlite3_finalize(m_insertReservation);
        sqlite3_finalize(m_insertLedger);
        sqlite3_finalize(m_deleteReservation);
    }
    JournalDatabase(const JournalDatabase &) = delete;
    JournalDatabase &operator=(const JournalDatabase &) = delete;

    Gateway::Expected<bool, QString> prepare()
    {
        auto handle = m_db->sqliteHandle();
        if (!handle) {
            return Gateway::Unexpected {handle.error()};
        }
        m_handle = handle.value();
        const auto prepareOne = [this](const char *sql, sqlite3_stmt **statement) {
            return sqlite3_prepare_v3(m_handle, sql, -1, SQLITE_PREPARE_PERSISTENT, statement, nullptr) == SQLITE_OK;
        };
        if (!prepareOne("INSERT OR REPLACE INTO spend_reservations (id, at_ms, virtual_key, team, route, tokens,"
                        " cost_nanos) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        &m_insertReservation) ||
            !prepareOne("INSERT INTO spend_ledger (reservation_id, at_ms, virtual_key, team, route, backend, tokens_in,"
                        " cached_tokens_in, tokens_out, cost_nanos, estimated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        &m_insertLedger) ||
            !prepareOne("DELETE FROM spend_reservations WHERE id = ?", &m_deleteReservation)) {
            return Gateway::Unexpected {QStringLiteral("cannot prepare the spend journal statements: %1")
                                            .arg(QString::fromUtf8(sqlite3_errmsg(m_handle)))};
        }
        return true;
    }

    Database &db() { return *m_db; }

    bool insert(const ReservationRecord &record)
    {
        sqlite3_stmt *const q = m_insertReservation;
        sqlite3_reset(q);
        sqlite3_bind_int64(q, 1, static_cast<sqlite3_int64>(record.id));
        sqlite3_bind_int64(q, 2, record.atMs);
        bindText(q, 3, m_key.utf8(record.key));
        bindText(q, 4, m_team.utf8(record.team));
        bindText(q, 5, record.route);
        sqlite3_bind_int64(q, 6, record.tokens);
        sqlite3_bind_int64(q, 7, record.costNanos);
        return step(q);
    }

    // `reservationRowExists`: false when the reservation was settled in the batch that
    // reserved it, which then wrote no row to delete.
    bool insert(const SettlementRecord &record, bool reservationRowExists)
    {
        sqlite3_stmt *const q = m_insertLedger;
        sqlite3_reset(q);
        sqlite3_bind_int64(q, 1, static_cast<sqlite3_int64>(record.id));
        sqlite3_bind_int64(q, 2, record.atMs);
        bindText(q, 3, m_key.utf8(record.key));
        bindText(q, 4, m_team.utf8(record.team));
        bindText(q, 5, record.route);
        bindText(q, 6, record.backend);
        sqlite3_bind_int64(q, 7, record.inputTokens);
        sqlite3_bind_int64(q, 8, record.cachedInputTokens);
        sqlite3_bind_int64(q, 9, record.outputTokens);
        sqlite3_bind_int64(q, 10, record.costNanos);
        sqlite3_bind_int(q, 11, record.estimated ? 1 : 0);
        if (!step(q)) {
            return false;
        }
        if (!reservationRowExists) {
            return true;
        }
        sqlite3_reset(m_deleteReservation);
        sqlite3_bind_int64(m_deleteReservation, 1, static_cast<sqlite3_int64>(record.id));
        return step(m_deleteReservation);
    }

private:
    // Requests of one key (and one team) arrive in runs: convert the name to UTF-8 once.
    class Utf8Cache {
    public:
        QByteArrayView utf8(const QString &name)
        {
            if (name.constData() != m_name.constData() || name.size() != m_name.size()) {
                m_name = name;
                m_utf8 = name.toUtf8();
            }
            return m_utf8;
        }

    private:
        QString m_name;
        QByteArray m_utf8;
    };

    // Text columns are NOT NULL: empty text binds as '', never NULL. SQLITE_TRANSIENT:
    // the bytes are copied, so the cache may move on before the step.
    static void bindText(sqlite3_stmt *statement, int index, QByteArrayView value)
    {
        sqlite3_bind_text(statement, index, value.isEmpty() ? "" : value.data(), static_cast<int>(value.size()),
                          SQLITE_TRANSIENT);
    }

    bool step(sqlite3_stmt *statement)
    {
        if (sqlite3_step(statement) != SQLITE_DONE) {
            qCWarning(lcSpendJournal) << "spend journal write failed:" << sqlite3_errmsg(m_handle);
            return false;
        }
        return true;
    }

    std::unique_ptr<Database> m_db;
    sqlite3 *m_handle = nullptr;
    sqlite3_stmt *m_insertReservation = nullptr;
    sqlite3_stmt *m_insertLedger = nullptr;
    sqlite3_stmt *m_deleteReservation = nullptr;
    Utf8Cache m_key;
    Utf8Cache m_team;
};

// Settles every open reservation at its estimate, then sums this day's and month's
// spend per key and team. One transaction: a crash during recovery leaves the journal
// as it was, and the next start recovers again.
Gateway::Expected<RecoveredSpend, QString> recover(Database &db, qint64 nowMs)
{
    RecoveredSpend recovered;
    auto begun = db.beginWrite();
    if (!begun) {
        return Gateway::Unexpected {begun.error()};
    }
    QSqlQuery query {db.connection()};
    const auto fail = [&](const QSqlQuery &failed) {
        const QString error = QStringLiteral("spend journal recovery failed: %1").arg(failed.lastError().text());
        db.rollback();
        return Gateway::Unexpected {error};
    };
    if (!query.exec(QStringLiteral("SELECT max(id) FROM (SELECT max(id) AS id FROM spend_reservations"
                                   " UNION ALL SELECT max(reservation_id) FROM spend_ledger)"))) {
        return fail(query);
    }
    if (query.next()) {
        recovered.nextReservationId = static_cast<quint64>(query.value(0).toLongLong()) + 1;
    }
    if (!query.exec(QStringLiteral("SELECT count(*) FROM spend_reservations")) || !query.next()) {
        return fail(query);
    }
    recovered.reconciledReservations = query.value(0).toInt();
    if (recovered.reconciledReservations > 0) {
        // The estimate is what the request was allowed to spend: it is the best
        // knowledge left of what the provider billed (see docs/GOVERNANCE.md).
        if (!query.exec(QStringLiteral(
                "INSERT INTO spend_ledger (reservation_id, at_ms, virtual_key, team, route, backend, tokens_in,"
                " cached_tokens_in, tokens_out, cost_nanos, estimated)"
                " SELECT id, at_ms, virtual_key, team, route, '', tokens, 0, 0, cost_nanos, 1 FROM spend_reservations")) ||
            !query.exec(QStringLiteral("DELETE FROM spend_reservations"))) {
            return fail(query);
        }
        qCWarning(lcSpendJournal).nospace() << "settled " << recovered.reconciledReservations
                                            << " reservation(s) left open by an unclean shutdown at their estimate";
    }
    const qint64 dayStart = Gateway::Governance::utcDayStartMs(nowMs);
    const qint64 monthStart = Gateway::Governance::utcMonthStartMs(nowMs);
    // Keys and teams are summed apart; a team's spend is its keys' spend.
    for (const bool team : {false, true}) {
        const QString column = team ? QStringLiteral("team") : QStringLiteral("virtual_key");
        if (!query.exec(QStringLiteral("SELECT %1,"
                                       " sum(CASE WHEN at_ms >= %2 THEN cost_nanos ELSE 0 END),"
                                       " sum(CASE WHEN at_ms >= %2 THEN tokens_in + tokens_out ELSE 0 END),"
                                       " sum(cost_nanos), sum(tokens_in + tokens_out)"
                                       " FROM spend_ledger WHERE at_ms >= %3 AND %1 <> '' GROUP BY %1")
                            .arg(column)
                            .arg(dayStart)
                            .arg(monthStart))) {
            return fail(query);
        }
        while (query.next()) {
            SpendTotal total;
            total.team = team;
            total.name = query.value(0).toString();
            total.dayNanos = query.value(1).toLongLong();
            total.dayTokens = query.value(2).toLongLong();
            total.monthNanos = query.value(3).toLongLong();
            total.monthTokens = query.value(4).toLongLong();
            recovered.totals.push_back(std::move(total));
        }
    }
    auto committed = db.commit();
    if (!committed) {
        db.rollback();
        return Gateway::Unexpected {committed.error()};
    }
    return recovered;
}

} // namespace

void SpendJournalWriter::ThreadJoiner::operator()(QThread *thread) const
{
    thread->wait();
    delete thread;
}

SpendJournalWriter::SpendJournalWriter(Options options)
    : m_options {std::move(options)}
{
}

Gateway::Expected<SpendJournalWriter::Started, QString> SpendJournalWriter::start(Options options)
{
    std::unique_ptr<SpendJournalWriter> writer {new SpendJournalWriter(std::move(options))};
    using Result = Gateway::Expected<RecoveredSpend, QString>;
    auto opened = std::make_shared<std::promise<Result>>();
    std::future<Result> openedResult = opened->get_future();
    SpendJournalWriter *self = writer.get();
    writer->m_thread.reset(QThread::create([self, opened] {
        self->run([opened](Result result) { opened->set_value(std::move(result)); });
    }));
    writer->m_thread->setObjectName(QStringLiteral("storage-spend-journal"));
    writer->m_thread->start(QThread::LowPriority);
    Result result = openedResult.get();
    if (!result) {
        return Gateway::Unexpected {result.error()};
    }
    return Started {std::move(writer), std::move(result).value()};
}

SpendJournalWriter::~SpendJournalWriter()
{
    {
        const std::lock_guard lock {m_mutex};
        m_stopping = true;
    }
    m_workAvailable.notify_one();
    m_thread.reset();
}

void SpendJournalWriter::enqueue(Job &&job)
{
    bool wake = false;
    {
        const std::lock_guard lock {m_mutex};
        if (static_cast<qsizetype>(m_queue.size()) >= m_options.capacity) {
            if (m_droppedJobs.fetch_add(1, std::memory_order_relaxed) % 100000 == 0) {
                qCWarning(lcSpendJournal) << "spend journal queue full: the disk is not keeping up; dropping entries";
            }
            return;
        }
        wake = m_queue.empty();
        m_queue.push_back(std::move(job));
        ++m_enqueued;
    }
    if (wake) {
        m_workAvailable.notify_one();
    }
}

void SpendJournalWriter::reserved(ReservationRecord &&record)
{
    enqueue(Job {std::in_place_index<0>, std::move(record)});
}

void SpendJournalWriter::settled(SettlementRecord &&record)
{
    enqueue(Job {std::in_place_index<1>, std::move(record)});
}

void SpendJournalWriter::flush()
{
    std::unique_lock lock {m_mutex};
    const quint64 target = m_enqueued;
    ++m_flushWaiters;
    m_workAvailable.notify_one();
    m_progress.wait(lock, [&] { return m_completed >= target || m_writerGone; });
    --m_flushWaiters;
}

void SpendJournalWriter::discardQueuedForTest()
{
    {
        const std::lock_guard lock {m_mutex};
        m_queue.clear();
        m_discard = true;
        m_stopping = true;
    }
    m_workAvailable.notify_one();
    m_thread.reset();
}

void SpendJournalWriter::run(const std::function<void(Gateway::Expected<RecoveredSpend, QString>)> &reportOpened)
{
    // The request-log writer's scheduling, for the same reasons, and one more: this
    // thread holds SQLite's write lock while it commits. Starved by real-time workers
    // while holding it, it made the log writer's BEGIN wait out its busy timeout (5 s)
    // and drop its queue (a priority inversion seen in the benchmark).
    adoptBackgroundScheduling(JOURNAL_NICE, 1);
    std::unique_ptr<JournalDatabase> journal;
    {
        auto db = Database::open(m_options.databasePath);
        if (!db) {
            reportOpened(Gateway::Unexpected {db.error()});
            return;
        }
        journal = std::make_unique<JournalDatabase>(std::move(db).value());
        auto prepared = journal->prepare();
        if (!prepared) {
            reportOpened(Gateway::Unexpected {prepared.error()});
            return;
        }
        auto recovered = recover(journal->db(), m_options.nowMs ? m_options.nowMs() : QDateTime::currentMSecsSinceEpoch());
        if (!recovered) {
            reportOpened(Gateway::Unexpected {recovered.error()});
            return;
        }
        reportOpened(std::move(recovered).value());
    }

    std::deque<Job> batch;
    for (;;) {
        {
            std::unique_lock lock {m_mutex};
            m_workAvailable.wait(lock, [&] { return m_stopping || !m_queue.empty(); });
            // The first job of a batch waits at most one flush interval for company:
            // what a crash can lose is bounded by it, and a busy gateway commits once
            // per interval instead of once per request.
            if (!m_queue.empty()) {
                m_workAvailable.wait_for(lock, m_options.flushInterval,
                                         [&] { return m_stopping || m_flushWaiters > 0; });
            }
            if (m_discard) {
                break;
            }
            batch.swap(m_queue);
            if (m_stopping && batch.empty()) {
                break;
            }
        }
        // A reservation settled within the same batch never needs its own row, and then
        // its settlement has no row to delete.
        QSet<quint64> settledHere;
        QSet<quint64> reservedHere;
        for (const Job &job : batch) {
            if (const auto *settlement = std::get_if<1>(&job)) {
                settledHere.insert(settlement->id);
            } else {
                reservedHere.insert(std::get<0>(job).id);
            }
        }
        // A row that cannot be written (it should not happen: every column is checked
        // data) is counted and skipped; it must not take the batch's other spend with it.
        bool ok = journal->db().beginWrite().hasValue();
        quint64 written = 0;
        for (const Job &job : batch) {
            if (!ok) {
                break;
            }
            bool rowOk = true;
            if (const auto *reservation = std::get_if<0>(&job)) {
                if (!settledHere.contains(reservation->id)) {
                    rowOk = journal->insert(*reservation);
                }
            } else {
                const SettlementRecord &settlement = std::get<1>(job);
                rowOk = journal->insert(settlement, !reservedHere.contains(settlement.id));
            }
            written += rowOk ? 1 : 0;
        }
        if (ok) {
            auto committed = journal->db().commit();
            ok = committed.hasValue();
            if (!ok) {
                qCWarning(lcSpendJournal) << "cannot commit the spend journal:" << committed.error();
            }
        }
        if (!ok) {
            journal->db().rollback();
            m_failedJobs.fetch_add(quint64(batch.size()), std::memory_order_relaxed);
        } else {
            m_committedJobs.fetch_add(written, std::memory_order_relaxed);
            m_failedJobs.fetch_add(quint64(batch.size()) - written, std::memory_order_relaxed);
        }
        const quint64 done = quint64(batch.size());
        batch.clear();
        {
            const std::lock_guard lock {m_mutex};
            m_completed += done;
        }
        m_progress.notify_all();
    }
    journal.reset();
    {
        const std::lock_guard lock {m_mutex};
        m_writerGone = true;
    }
    m_progress.notify_all();
}

} // namespace Storage
