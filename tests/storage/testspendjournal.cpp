// The spend journal in SQLite: reservations and settlements are committed in batches;
// shutdown commits what is queued; after a simulated crash (queued jobs thrown away) the
// next start settles open reservations at their estimate and rebuilds this day's and
// month's spend per key and team, so budgets survive the restart; the admin query sums
// the ledger by key, team, route and day.

#include "database.h"
#include "spendjournalwriter.h"
#include "spendreader.h"

#include "governance/locallimitstore.h"
#include "governance/utcwindow.h"

#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace Gateway::Governance;
using Storage::SpendJournalWriter;

namespace {

// 2026-11-22 12:00:00 UTC.
constexpr qint64 NOON = 1'795'348'800'000;

ReservationRecord reservation(quint64 id, qint64 at, qint64 tokens, qint64 nanos, const QString &key = QStringLiteral("k"))
{
    ReservationRecord record;
    record.id = id;
    record.atMs = at;
    record.key = key;
    record.team = QStringLiteral("t");
    record.route = "chat";
    record.tokens = tokens;
    record.costNanos = nanos;
    return record;
}

SettlementRecord settlement(quint64 id, qint64 at, qint64 in, qint64 out, qint64 nanos, const QString &key = QStringLiteral("k"),
                            const QByteArray &route = "chat")
{
    SettlementRecord record;
    record.id = id;
    record.atMs = at;
    record.key = key;
    record.team = QStringLiteral("t");
    record.route = route;
    record.backend = "sim/m";
    record.inputTokens = in;
    record.outputTokens = out;
    record.costNanos = nanos;
    return record;
}

const SpendTotal *totalOf(const RecoveredSpend &recovered, const QString &name, bool team)
{
    for (const SpendTotal &total : recovered.totals) {
        if (total.name == name && total.team == team) {
            return &total;
        }
    }
    return nullptr;
}

} // namespace

class TestSpendJournal final : public QObject {
    Q_OBJECT

private slots:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
    }

    void shutdownCommitsWhatIsQueued()
    {
        {
            auto started = start(std::chrono::milliseconds {60'000});
            QVERIFY(started);
            QCOMPARE(started->recovered.reconciledReservations, 0);
            QVERIFY(started->recovered.totals.empty());
            started->writer->reserved(reservation(1, NOON, 100, 1000));
            started->writer->settled(settlement(1, NOON, 10, 20, 300));
        } // the destructor commits, even with a minute's flush interval
        auto again = start(std::chrono::milliseconds {1000});
        QVERIFY(again);
        QCOMPARE(again->recovered.reconciledReservations, 0);
        QCOMPARE(again->recovered.nextReservationId, quint64 {2});
        const SpendTotal *key = totalOf(again->recovered, QStringLiteral("k"), false);
        QVERIFY(key);
        QCOMPARE(key->dayNanos, 300);
        QCOMPARE(key->dayTokens, 30);
        QVERIFY(totalOf(again->recovered, QStringLiteral("t"), true));
    }

    void crashLeavesOpenReservationsThatTheNextStartSettles()
    {
        {
            auto started = start(std::chrono::milliseconds {60'000});
            QVERIFY(started);
            started->writer->reserved(reservation(1, NOON, 100, 1000));
            started->writer->settled(settlement(1, NOON, 10, 20, 300));
            started->writer->reserved(reservation(2, NOON, 50, 700));
            started->writer->flush(); // both reservations and the first settlement are on disk
            started->writer->settled(settlement(2, NOON, 5, 5, 90));
            started->writer->discardQueuedForTest(); // the crash: the second settlement is lost
        }
        QCOMPARE(scalar("SELECT count(*) FROM spend_reservations"), 1);

        auto recoveredStart = start(std::chrono::milliseconds {1000});
        QVERIFY(recoveredStart);
        const RecoveredSpend &recovered = recoveredStart->recovered;
        QCOMPARE(recovered.reconciledReservations, 1);
        QCOMPARE(recovered.nextReservationId, quint64 {3});
        const SpendTotal *key = totalOf(recovered, QStringLiteral("k"), false);
        QVERIFY(key);
        // The real cost of the first request and the estimate of the interrupted one.
        QCOMPARE(key->dayNanos, 300 + 700);
        QCOMPARE(key->dayTokens, 30 + 50);
        QCOMPARE(key->monthNanos, 300 + 700);
        QCOMPARE(scalar("SELECT count(*) FROM spend_reservations"), 0);
        QCOMPARE(scalar("SELECT count(*) FROM spend_ledger WHERE estimated = 1"), 1);

        // Seeded into the limit store, the recovered spend counts against the budget.
        LocalLimitStore store;
        store.seed(recovered, NOON);
        Subject subject;
        subject.key = QStringLiteral("k");
        subject.keyLimits.budgets.usdPerDay = nanosToUsd(1100);
        store.bind(subject);
        Reservation next;
        Refusal refusal;
        QVERIFY(!store.reserve(&subject, 1, 200, NOON, next, refusal));
        QCOMPARE(refusal.kind, LimitKind::UsdPerDay);
        QVERIFY(store.reserve(&subject, 1, 100, NOON, next, refusal));
        QVERIFY(next.id >= 3);
        // A second start finds nothing left to reconcile and the same totals.
        recoveredStart.reset();
        auto third = start(std::chrono::milliseconds {1000});
        QVERIFY(third);
        QCOMPARE(third->recovered.reconciledReservations, 0);
        QCOMPARE(totalOf(third->recovered, QStringLiteral("k"), false)->dayNanos, 1000);
    }

    void totalsCoverTheCurrentUtcDayAndMonthOnly()
    {
        {
            auto started = start(std::chrono::milliseconds {1000});
            QVERIFY(started);
            started->writer->settled(settlement(1, NOON, 1, 0, 1));                          // today
            started->writer->settled(settlement(2, NOON - MS_PER_DAY, 10, 0, 10));           // this month
            started->writer->settled(settlement(3, utcMonthStartMs(NOON) - 1, 100, 0, 100)); // last month
        }
        auto again = start(std::chrono::milliseconds {1000});
        QVERIFY(again);
        const SpendTotal *key = totalOf(again->recovered, QStringLiteral("k"), false);
        QVERIFY(key);
        QCOMPARE(key->dayNanos, 1);
        QCOMPARE(key->monthNanos, 11);
        QCOMPARE(key->monthTokens, 11);
    }

    void spendQueryGroupsTheLedger()
    {
        {
            auto started = start(std::chrono::milliseconds {1000});
            QVERIFY(started);
            started->writer->settled(settlement(1, NOON, 10, 1, 1000, QStringLiteral("a"), "chat"));
            started->writer->settled(settlement(2, NOON, 20, 2, 2000, QStringLiteral("b"), "chat"));
            started->writer->settled(settlement(3, NOON - MS_PER_DAY, 30, 3, 3000, QStringLiteral("a"), "code"));
        }
        auto db = Storage::Database::open(path());
        QVERIFY(db);
        Gateway::Admin::SpendFilter filter;
        filter.groupBy = "key";
        auto byKey = Storage::querySpend((*db)->connection(), filter, NOON);
        QVERIFY(byKey);
        QCOMPARE(byKey->size(), std::size_t {2});
        QCOMPARE(byKey->at(0).group, QStringLiteral("a")); // largest cost first
        QCOMPARE(byKey->at(0).costNanos, 4000);
        QCOMPARE(byKey->at(0).requests, 2);
        QCOMPARE(byKey->at(0).tokensIn, 40);
        filter.groupBy = "day";
        auto byDay = Storage::querySpend((*db)->connection(), filter, NOON);
        QVERIFY(byDay);
        QCOMPARE(byDay->size(), std::size_t {2});
        QCOMPARE(byDay->at(0).group, QStringLiteral("2026-11-21"));
        QCOMPARE(byDay->at(1).group, QStringLiteral("2026-11-22"));
        QCOMPARE(byDay->at(1).costNanos, 3000);
        filter.groupBy = "route";
        filter.sinceMs = utcDayStartMs(NOON);
        auto today = Storage::querySpend((*db)->connection(), filter, NOON);
        QVERIFY(today);
        QCOMPARE(today->size(), std::size_t {1});
        QCOMPARE(today->at(0).group, QStringLiteral("chat"));
        filter.groupBy = "team";
        filter.sinceMs = 0;
        filter.virtualKey = QStringLiteral("b");
        auto team = Storage::querySpend((*db)->connection(), filter, NOON);
        QVERIFY(team);
        QCOMPARE(team->size(), std::size_t {1});
        QCOMPARE(team->at(0).costNanos, 2000);
    }

private:
    QString path() const { return m_dir->filePath(QStringLiteral("switchyard.db")); }

    std::optional<SpendJournalWriter::Started> start(std::chrono::milliseconds flushInterval)
    {
        SpendJournalWriter::Options options;
        options.databasePath = path();
        options.flushInterval = flushInterval;
        options.nowMs = [] { return NOON; };
        auto started = SpendJournalWriter::start(options);
        if (!started) {
            qWarning().noquote() << started.error();
            return std::nullopt;
        }
        return std::move(started).value();
    }

    int scalar(const char *sql) const
    {
        auto db = Storage::Database::open(path());
        if (!db) {
            return -1;
        }
        QSqlQuery query {(*db)->connection()};
        if (!query.exec(QString::fromLatin1(sql)) || !query.next()) {
            return -1;
        }
        return query.value(0).toInt();
    }

    std::unique_ptr<QTemporaryDir> m_dir;
};

QTEST_GUILESS_MAIN(TestSpendJournal)
#include "testspendjournal.moc"
