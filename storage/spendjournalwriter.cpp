#include "spendjournalwriter.h"

#include "database.h"

#include "governance/utcwindow.h"

#include <QDateTime>
#include <QHash>
#include <QLoggingCategory>
#include <QSet>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>

#include <future>

namespace Storage {

namespace {

Q_LOGGING_CATEGORY(lcSpendJournal, "switchyard.storage.spendjournal")

using Gateway::Governance::RecoveredSpend;
using Gateway::Governance::ReservationRecord;
using Gateway::Governance::SettlementRecord;
using Gateway::Governance::SpendTotal;

// Text columns are NOT NULL; a null QString would bind as NULL.
QString text(const QString &value)
{
    return value.isNull() ? QStringLiteral("") : value;
}

QString text(const QByteArray &value)
{
    return value.isEmpty() ? QStringLiteral("") : QString::fromUtf8(value);
}

// The writer thread's database side: its connection and prepared statements.
class JournalDatabase final {
public:
    explicit JournalDatabase(std::unique_ptr<Database> db)
        : m_db {std::move(db)}
        , m_insertReservation {m_db->connection()}
        , m_insertLedger {m_db->connection()}
        , m_deleteReservation {m_db->connection()}
    {
    }

    Gateway::Expected<bool, QString> prepare()
    {
        if (!m_insertReservation.prepare(QStringLiteral(
                "INSERT OR REPLACE INTO spend_reservations (id, at_ms, virtual_key, team, route, tokens, cost_nanos)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)")) ||
            !m_insertLedger.prepare(QStringLiteral(
                "INSERT INTO spend_ledger (reservation_id, at_ms, virtual_key, team, route, backend, tokens_in,"
                " cached_tokens_in, tokens_out, cost_nanos, estimated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) ||
            !m_deleteReservation.prepare(QStringLiteral("DELETE FROM spend_reservations WHERE id = ?"))) {
            return Gateway::Unexpected {QStringLiteral("cannot prepare the spend journal statements: %1")
                                            .arg(m_db->connection().lastError().text())};
        }
        return true;
    }

    Database &db() { return *m_db; }

    bool insert(const ReservationRecord &record)
    {
        QSqlQuery &q = m_insertReservation;
        q.bindValue(0, static_cast<qint64>(record.id));
        q.bindValue(1, record.atMs);
        q.bindValue(2, text(record.key));
        q.bindValue(3, text(record.team));
        q.bindValue(4, text(record.route));
        q.bindValue(5, record.tokens);
        q.bindValue(6, record.costNanos);
        return exec(q);
    }

    bool insert(const SettlementRecord &record)
    {
        QSqlQuery &q = m_insertLedger;
        q.bindValue(0, static_cast<qint64>(record.id));
        q.bindValue(1, record.atMs);
        q.bindValue(2, text(record.key));
        q.bindValue(3, text(record.team));
        q.bindValue(4, text(record.route));
        q.bindValue(5, text(record.backend));
        q.bindValue(6, record.inputTokens);
        q.bindValue(7, record.cachedInputTokens);
        q.bindValue(8, record.outputTokens);
        q.bindValue(9, record.costNanos);
        q.bindValue(10, record.estimated ? 1 : 0);
        if (!exec(q)) {
            return false;
        }
        m_deleteReservation.bindValue(0, static_cast<qint64>(record.id));
        return exec(m_deleteReservation);
    }

private:
    static bool exec(QSqlQuery &query)
    {
        if (!query.exec()) {
            qCWarning(lcSpendJournal) << "spend journal write failed:" << query.lastError().text();
            return false;
        }
        return true;
    }

    std::unique_ptr<Database> m_db;
    QSqlQuery m_insertReservation;
    QSqlQuery m_insertLedger;
    QSqlQuery m_deleteReservation;
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
        // A reservation settled within the same batch never needs its own row.
        QSet<quint64> settledHere;
        for (const Job &job : batch) {
            if (const auto *settlement = std::get_if<1>(&job)) {
                settledHere.insert(settlement->id);
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
                rowOk = journal->insert(std::get<1>(job));
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
