// Admin queries over the request log: filters and keyset pagination, newest first.

#include "database.h"
#include "logreader.h"
#include "requestlogids.h"

#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using Storage::Database;
using Storage::LogReader;
using Storage::RequestQuery;

namespace {

constexpr qint64 T0 = 1'700'000'000'000;

} // namespace

class TestLogReader final : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void pagesCoverEveryRowOnceNewestFirst();
    void filters_data();
    void filters();
    void limitIsClamped();
    void rowsAddedWhilePagingDoNotShiftPages();

private:
    void insertRow(qint64 atMs, const QString &route, const QString &key, int status);
    QList<qint64> allIds(RequestQuery query);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Database> m_db;
};

void TestLogReader::initTestCase()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    auto db = Database::open(Database::defaultPath(m_dir->path()));
    QVERIFY(db);
    m_db = std::move(db).value();
    // 30 rows, one per second: routes alternate chat/embed, keys cycle a/b/c, every
    // fifth row failed with 502.
    QVERIFY(m_db->beginWrite());
    for (int i = 0; i < 30; ++i) {
        insertRow(T0 + i * 1000, i % 2 == 0 ? QStringLiteral("chat") : QStringLiteral("embed"),
                  QStringList {QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}.at(i % 3),
                  i % 5 == 0 ? 502 : 200);
    }
    QVERIFY(m_db->commit());
}

void TestLogReader::cleanupTestCase()
{
    m_db.reset();
}

void TestLogReader::insertRow(qint64 atMs, const QString &route, const QString &key, int status)
{
    // Ids as the log writer assigns them (time-ordered, RequestLogIds).
    QSqlQuery newest {m_db->connection()};
    QVERIFY(newest.exec(QStringLiteral("SELECT coalesce(max(id), 0) FROM request_log")) && newest.next());
    const qint64 id = Storage::RequestLogIds::next(newest.value(0).toLongLong(), atMs);
    QSqlQuery query {m_db->connection()};
    query.prepare(QStringLiteral("INSERT INTO request_log (id, finished_at_ms, request_id, virtual_key, route, backend, endpoint,"
                                 " status, error_class, latency_ms, ttft_ms, tokens_in, tokens_out, cost_usd, attempts, stream)"
                                 " VALUES (?, ?, 'r', ?, ?, 'p/m', '/v1/chat/completions', ?, '', 1, 1, 1, 1, 0, 1, 0)"));
    query.addBindValue(id);
    query.addBindValue(atMs);
    query.addBindValue(key);
    query.addBindValue(route);
    query.addBindValue(status);
    QVERIFY(query.exec());
}

QList<qint64> TestLogReader::allIds(RequestQuery query)
{
    const LogReader reader {*m_db};
    QList<qint64> ids;
    for (int pages = 0; pages < 100; ++pages) {
        auto page = reader.requests(query);
        if (!page) {
            qWarning() << page.error();
            return {};
        }
        ids += page->ids;
        if (page->nextCursor == 0) {
            break;
        }
        query.cursor = page->nextCursor;
    }
    return ids;
}

void TestLogReader::pagesCoverEveryRowOnceNewestFirst()
{
    const LogReader reader {*m_db};
    RequestQuery query;
    query.limit = 7;
    auto first = reader.requests(query);
    QVERIFY(first);
    QCOMPARE(first->rows.size(), 7);
    QCOMPARE(first->ids.size(), 7);
    QCOMPARE(first->rows.at(0).finishedAtMs, T0 + 29 * 1000);
    QCOMPARE(first->nextCursor, first->ids.constLast());

    const QList<qint64> ids = allIds(query);
    QCOMPARE(ids.size(), 30);
    for (int i = 1; i < ids.size(); ++i) {
        QVERIFY(ids.at(i) < ids.at(i - 1));
    }
    // An exactly full last page reports no further page.
    query.limit = 10;
    QCOMPARE(allIds(query).size(), 30);
    query.limit = 30;
    auto whole = reader.requests(query);
    QVERIFY(whole);
    QCOMPARE(whole->nextCursor, qint64(0));
}

void TestLogReader::filters_data()
{
    QTest::addColumn<QByteArray>("route");
    QTest::addColumn<QString>("key");
    QTest::addColumn<int>("status");
    QTest::addColumn<qint64>("since");
    QTest::addColumn<qint64>("until");
    QTest::addColumn<int>("expected");
    QTest::newRow("route") << QByteArray("chat") << QString() << 0 << qint64(0) << qint64(0) << 15;
    QTest::newRow("key") << QByteArray() << QStringLiteral("b") << 0 << qint64(0) << qint64(0) << 10;
    QTest::newRow("status") << QByteArray() << QString() << 502 << qint64(0) << qint64(0) << 6;
    QTest::newRow("route and status") << QByteArray("chat") << QString() << 502 << qint64(0) << qint64(0) << 3;
    QTest::newRow("since") << QByteArray() << QString() << 0 << T0 + 20'000 << qint64(0) << 10;
    QTest::newRow("window") << QByteArray() << QString() << 0 << T0 + 10'000 << T0 + 19'000 << 10;
    QTest::newRow("route in window") << QByteArray("embed") << QString() << 0 << T0 + 10'000 << T0 + 19'000 << 5;
    QTest::newRow("unknown route") << QByteArray("nope") << QString() << 0 << qint64(0) << qint64(0) << 0;
}

void TestLogReader::filters()
{
    QFETCH(QByteArray, route);
    QFETCH(QString, key);
    QFETCH(int, status);
    QFETCH(qint64, since);
    QFETCH(qint64, until);
    QFETCH(int, expected);
    RequestQuery query;
    query.route = route;
    query.virtualKey = key;
    query.status = status;
    query.sinceMs = since;
    query.untilMs = until;
    query.limit = 4; // filters must hold across pages too
    QCOMPARE(allIds(query).size(), expected);

    query.limit = 1000;
    auto page = LogReader {*m_db}.requests(query);
    QVERIFY(page);
    for (const auto &row : page->rows) {
        QVERIFY(route.isEmpty() || row.route == route);
        QVERIFY(key.isEmpty() || row.virtualKey == key);
        QVERIFY(status == 0 || row.status == status);
        QVERIFY(row.finishedAtMs >= since);
        QVERIFY(until == 0 || row.finishedAtMs <= until);
    }
}

void TestLogReader::limitIsClamped()
{
    const LogReader reader {*m_db};
    RequestQuery query;
    query.limit = 0;
    QCOMPARE(reader.requests(query)->rows.size(), 1);
    query.limit = 1'000'000;
    QCOMPARE(reader.requests(query)->rows.size(), 30);
    QCOMPARE(LogReader::MAX_LIMIT, 1000);
}

void TestLogReader::rowsAddedWhilePagingDoNotShiftPages()
{
    const LogReader reader {*m_db};
    RequestQuery query;
    query.limit = 10;
    auto first = reader.requests(query);
    QVERIFY(first);
    RequestQuery twoPages;
    twoPages.limit = 20;
    const auto before = reader.requests(twoPages);
    QVERIFY(before && before->ids.size() == 20);
    insertRow(T0 + 31'000, QStringLiteral("chat"), QStringLiteral("a"), 200);
    query.cursor = first->nextCursor;
    auto second = reader.requests(query);
    QVERIFY(second);
    QVERIFY(second->ids.constFirst() < first->ids.constLast());
    // The second page goes on exactly where the first ended, whatever was added since.
    QCOMPARE(second->ids.constFirst(), before->ids.at(10));
}

QTEST_GUILESS_MAIN(TestLogReader)
#include "testlogreader.moc"
