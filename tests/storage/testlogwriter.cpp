// The request log's writer thread: batching, the bounded queue, draining on destruction,
// retention and events.

#include "database.h"
#include "logreader.h"
#include "logwriter.h"

#include <QRegularExpression>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using Gateway::RequestLogEntry;
using Storage::Database;
using Storage::LogWriter;

namespace {

constexpr qint64 DAY_MS = 24LL * 60 * 60 * 1000;
constexpr qint64 NOW_MS = 1'700'000'000'000;

RequestLogEntry entry(int n, qint64 finishedAtMs = NOW_MS)
{
    RequestLogEntry e;
    e.finishedAtMs = finishedAtMs;
    e.requestId = "req-" + QByteArray::number(n);
    e.virtualKey = QStringLiteral("team-a");
    e.route = "chat";
    e.backend = "openai/gpt-4o";
    e.endpoint = "/v1/chat/completions";
    e.status = 200;
    e.latencyMs = 12.5;
    e.ttftMs = 3.25;
    e.tokensIn = 10;
    e.tokensOut = 20;
    e.costUsd = 0.001;
    e.attempts = 1;
    e.stream = (n % 2) == 0;
    return e;
}

} // namespace

class TestLogWriter final : public QObject {
    Q_OBJECT

private slots:
    void init();

    void rowsAreWrittenInBatches();
    void pausedQueueIsWrittenAsOneBatch();
    void fullQueueDropsAndCounts();
    void destructorWritesEverythingQueued();
    void retentionDeletesRowsOlderThanRetentionDays();
    void retentionRunsAtStart();
    void retentionKeepsTheNewestMaxRows();
    void periodicRetentionDeletesInChunks();
    void eventsAreRecorded();
    void entryFieldsRoundTrip();
    void unopenableDatabaseFailsToStart();

private:
    QString dbPath() const { return Database::defaultPath(m_dir->path()); }
    LogWriter::Options options() const;
    std::unique_ptr<LogWriter> startWriter(const LogWriter::Options &options);
    qint64 count(const QString &sql);

    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestLogWriter::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

LogWriter::Options TestLogWriter::options() const
{
    LogWriter::Options options;
    options.databasePath = dbPath();
    options.nowMs = [] { return NOW_MS; };
    return options;
}

std::unique_ptr<LogWriter> TestLogWriter::startWriter(const LogWriter::Options &options)
{
    auto writer = LogWriter::start(options);
    if (!writer) {
        qWarning() << writer.error();
        return nullptr;
    }
    return std::move(writer).value();
}

qint64 TestLogWriter::count(const QString &sql)
{
    auto db = Database::open(dbPath());
    if (!db) {
        return -1;
    }
    QSqlQuery query {(*db)->connection()};
    if (!query.exec(sql) || !query.next()) {
        return -1;
    }
    return query.value(0).toLongLong();
}

void TestLogWriter::rowsAreWrittenInBatches()
{
    constexpr int ROWS = 10'000;
    auto writer = startWriter(options());
    QVERIFY(writer);
    for (int i = 0; i < ROWS; ++i) {
        writer->record(entry(i));
    }
    writer->flush();
    QCOMPARE(writer->writtenRows(), quint64(ROWS));
    QCOMPARE(writer->droppedRows(), quint64(0));
    QCOMPARE(writer->failedRows(), quint64(0));
    QCOMPARE(writer->queueDepth(), qsizetype(0));
    // Recording is far faster than a commit, so each commit takes many rows. A writer
    // committing row by row would need 10,000 transactions.
    QVERIFY2(writer->batchesWritten() >= 1 && writer->batchesWritten() <= quint64(ROWS / 10),
             qPrintable(QStringLiteral("%1 batches").arg(writer->batchesWritten())));
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM request_log")), qint64(ROWS));
}

void TestLogWriter::pausedQueueIsWrittenAsOneBatch()
{
    auto writer = startWriter(options());
    QVERIFY(writer);
    writer->flush(); // the start-up retention
    writer->pauseForTest(true);
    for (int i = 0; i < 1000; ++i) {
        writer->record(entry(i));
    }
    QCOMPARE(writer->queueDepth(), qsizetype(1000));
    writer->pauseForTest(false);
    writer->flush();
    QCOMPARE(writer->batchesWritten(), quint64(1));
    QCOMPARE(writer->writtenRows(), quint64(1000));
}

void TestLogWriter::fullQueueDropsAndCounts()
{
    // The writer reports drops once (then at most every 10 s); how many it has seen by
    // then depends on timing.
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("^request log queue full: dropped \\d+ entries")));
    LogWriter::Options opts = options();
    opts.capacity = 10;
    auto writer = startWriter(opts);
    QVERIFY(writer);
    writer->pauseForTest(true);
    for (int i = 0; i < 15; ++i) {
        writer->record(entry(i));
    }
    writer->recordEvent(QStringLiteral("k"), QStringLiteral("s"), "{}");
    QCOMPARE(writer->queueDepth(), qsizetype(10));
    QCOMPARE(writer->droppedRows(), quint64(6));

    writer->pauseForTest(false);
    writer->flush();
    QCOMPARE(writer->writtenRows(), quint64(10));
    QCOMPARE(writer->queueDepth(), qsizetype(0));
    // The queue has room again.
    writer->record(entry(99));
    writer->flush();
    QCOMPARE(writer->writtenRows(), quint64(11));
    QCOMPARE(writer->droppedRows(), quint64(6));
    writer.reset();
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM request_log")), qint64(11));
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM request_log WHERE request_id = 'req-14'")), qint64(0));
}

void TestLogWriter::destructorWritesEverythingQueued()
{
    {
        auto writer = startWriter(options());
        QVERIFY(writer);
        writer->pauseForTest(true); // everything is still queued when the destructor runs
        for (int i = 0; i < 500; ++i) {
            writer->record(entry(i));
        }
        writer->recordEvent(QStringLiteral("gateway.stopping"), QStringLiteral("main"), "{}");
    }
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM request_log")), qint64(500));
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM events")), qint64(1));
}

void TestLogWriter::retentionDeletesRowsOlderThanRetentionDays()
{
    auto writer = startWriter(options()); // 30 days
    QVERIFY(writer);
    for (int i = 0; i < 5; ++i) {
        writer->record(entry(i, NOW_MS - 31 * DAY_MS));
    }
    for (int i = 5; i < 12; ++i) {
        writer->record(entry(i, NOW_MS - 29 * DAY_MS));
    }
    writer->flush();
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM request_log")), qint64(12));
    writer->enforceRetention();
    writer->flush();
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM request_log")), qint64(7));
    QCOMPARE(count(QStringLiteral("SELECT min(finished_at_ms) FROM request_log")), NOW_MS - 29 * DAY_MS);
}

void TestLogWriter::retentionRunsAtStart()
{
    {
        LogWriter::Options keepAll = options();
        keepAll.retentionDays = 0;
        keepAll.maxRows = 0;
        auto writer = startWriter(keepAll);
        QVERIFY(writer);
        writer->record(entry(1, NOW_MS - 90 * DAY_MS));
        writer->record(entry(2, NOW_MS));
        writer->flush();
        writer->enforceRetention(); // disabled limits delete nothing
        writer->flush();
    }
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM request_log")), qint64(2));

    auto writer = startWriter(options());
    QVERIFY(writer);
    writer->flush();
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM request_log")), qint64(1));
}

void TestLogWriter::retentionKeepsTheNewestMaxRows()
{
    LogWriter::Options opts = options();
    opts.maxRows = 100;
    auto writer = startWriter(opts);
    QVERIFY(writer);
    for (int i = 0; i < 250; ++i) {
        writer->record(entry(i));
    }
    writer->enforceRetention();
    writer->flush();
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM request_log")), qint64(100));
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM request_log WHERE request_id = 'req-150'")), qint64(1));
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM request_log WHERE request_id = 'req-149'")), qint64(0));
}

void TestLogWriter::periodicRetentionDeletesInChunks()
{
    // More excess than one retention transaction deletes (2,000 rows): the periodic
    // retention goes on chunk by chunk until only the newest maxRows are left.
    LogWriter::Options opts = options();
    opts.maxRows = 100;
    opts.retentionInterval = std::chrono::milliseconds(20);
    auto writer = startWriter(opts);
    QVERIFY(writer);
    for (int i = 0; i < 5100; ++i) {
        writer->record(entry(i));
    }
    writer->flush();
    QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("SELECT count(*) FROM request_log")), qint64(100), 10000);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM request_log WHERE request_id = 'req-5000'")), qint64(1));
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM request_log WHERE request_id = 'req-4999'")), qint64(0));
}

void TestLogWriter::eventsAreRecorded()
{
    auto writer = startWriter(options());
    QVERIFY(writer);
    writer->recordEvent(QStringLiteral("policy.activated"), QStringLiteral("version 3"), R"({"author":"alice"})");
    writer->recordEvent(QStringLiteral("backend.down"), QStringLiteral("openai/gpt-4o"), R"({"reason":"timeout"})");
    writer->recordEvent(QStringLiteral("policy.activated"), QStringLiteral("version 4"), QByteArray());
    writer->flush();
    QCOMPARE(writer->writtenRows(), quint64(3));

    auto db = Database::open(dbPath());
    QVERIFY(db);
    const Storage::LogReader reader {**db};
    auto all = reader.events(0, QString(), 10);
    QVERIFY(all);
    QCOMPARE(all->size(), 3);
    QCOMPARE(all->at(0).subject, QStringLiteral("version 4")); // newest first
    QCOMPARE(all->at(0).detailJson, QByteArray());
    QCOMPARE(all->at(0).atMs, NOW_MS);

    auto policy = reader.events(0, QStringLiteral("policy.activated"), 10);
    QVERIFY(policy);
    QCOMPARE(policy->size(), 2);
    QCOMPARE(policy->at(1).detailJson, QByteArray(R"({"author":"alice"})"));
    QCOMPARE(policy->at(1).kind, QStringLiteral("policy.activated"));

    auto backend = reader.events(0, QStringLiteral("backend.down"), 10);
    QVERIFY(backend);
    QCOMPARE(backend->size(), 1);
    QCOMPARE(backend->at(0).detailJson, QByteArray(R"({"reason":"timeout"})"));
    QVERIFY(reader.events(NOW_MS + 1, QString(), 10)->isEmpty());
}

void TestLogWriter::entryFieldsRoundTrip()
{
    RequestLogEntry e;
    e.finishedAtMs = NOW_MS - 5;
    e.requestId = "req-x";
    e.virtualKey = QStringLiteral("team-ü");
    e.route = "claude";
    e.backend = "anthropic/claude-3";
    e.endpoint = "/v1/messages";
    e.status = 502;
    e.errorClass = "upstream_5xx";
    e.latencyMs = 1234.5;
    e.ttftMs = -1;
    e.tokensIn = -1;
    e.tokensOut = 9'000'000'000;
    e.costUsd = 1.25;
    e.attempts = 3;
    e.stream = true;
    e.routeReason = "route=chat strategy=p2c order=a/m>b/m; attempts=a/m:500>b/m:200";
    RequestLogEntry minimal; // every text field null
    minimal.finishedAtMs = NOW_MS - 4;

    auto writer = startWriter(options());
    QVERIFY(writer);
    writer->record(RequestLogEntry {e});
    writer->record(RequestLogEntry {minimal});
    writer->flush();
    QCOMPARE(writer->writtenRows(), quint64(2));

    auto db = Database::open(dbPath());
    QVERIFY(db);
    const Storage::LogReader reader {**db};
    Storage::RequestQuery query;
    query.untilMs = NOW_MS;
    auto page = reader.requests(query);
    QVERIFY2(page, page ? "" : qPrintable(page.error()));
    QCOMPARE(page->rows.size(), 2);
    const RequestLogEntry &read = page->rows.at(1);
    QCOMPARE(read.finishedAtMs, e.finishedAtMs);
    QCOMPARE(read.requestId, e.requestId);
    QCOMPARE(read.virtualKey, e.virtualKey);
    QCOMPARE(read.route, e.route);
    QCOMPARE(read.backend, e.backend);
    QCOMPARE(read.endpoint, e.endpoint);
    QCOMPARE(read.status, e.status);
    QCOMPARE(read.errorClass, e.errorClass);
    QCOMPARE(read.latencyMs, e.latencyMs);
    QCOMPARE(read.ttftMs, e.ttftMs);
    QCOMPARE(read.tokensIn, e.tokensIn);
    QCOMPARE(read.tokensOut, e.tokensOut);
    QCOMPARE(read.costUsd, e.costUsd);
    QCOMPARE(read.attempts, e.attempts);
    QCOMPARE(read.routeReason, e.routeReason);
    QCOMPARE(read.stream, e.stream);
    QVERIFY(page->rows.at(0).requestId.isEmpty());
    QCOMPARE(page->rows.at(0).ttftMs, -1.0);
}

void TestLogWriter::unopenableDatabaseFailsToStart()
{
    LogWriter::Options opts = options();
    opts.databasePath = m_dir->filePath(QStringLiteral("missing/dir/switchyard.db"));
    auto writer = LogWriter::start(opts);
    QVERIFY(!writer);
    QVERIFY2(writer.error().contains(opts.databasePath), qPrintable(writer.error()));
}

QTEST_GUILESS_MAIN(TestLogWriter)
#include "testlogwriter.moc"
