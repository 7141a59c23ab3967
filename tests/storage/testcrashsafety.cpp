// A process killed with SIGKILL in the middle of writing leaves a consistent database:
// the active policy is intact and every batch reported as committed is there.

#include "database.h"
#include "policyversionstore.h"

#include <QProcess>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using Storage::Database;

namespace {

const QString CRASH_WRITER = QStringLiteral(STORAGE_CRASH_WRITER);
constexpr int ROUNDS = 3;
constexpr int COMMITS_BEFORE_KILL = 3;
constexpr int LINE_TIMEOUT_MS = 20'000;

// Reads one line from the child, waiting for output (not sleeping) if none is buffered.
QByteArray readLine(QProcess &process)
{
    while (!process.canReadLine()) {
        if (!process.waitForReadyRead(LINE_TIMEOUT_MS)) {
            return {};
        }
    }
    return process.readLine().trimmed();
}

} // namespace

class TestCrashSafety final : public QObject {
    Q_OBJECT

private slots:
    void killedWriterLeavesAConsistentDatabase();
};

void TestCrashSafety::killedWriterLeavesAConsistentDatabase()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    qint64 committedBefore = 0;

    for (int round = 0; round < ROUNDS; ++round) {
        const QByteArray document = "policy document of round " + QByteArray::number(round);
        QProcess child;
        child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        child.start(CRASH_WRITER, {dir.path(), QString::fromUtf8(document)});
        QVERIFY2(child.waitForStarted(), qPrintable(child.errorString()));

        QCOMPARE(readLine(child), QByteArray("ready"));
        qint64 committed = 0;
        for (int i = 0; i < COMMITS_BEFORE_KILL; ++i) {
            const QByteArray line = readLine(child);
            QVERIFY2(line.startsWith("committed "), line.constData());
            committed = line.mid(int(qstrlen("committed "))).toLongLong();
        }
        QVERIFY(committed > 0);

        // The child is already recording and committing its next burst.
        QCOMPARE(::kill(pid_t(child.processId()), SIGKILL), 0);
        QVERIFY(child.waitForFinished(LINE_TIMEOUT_MS));
        QCOMPARE(child.exitStatus(), QProcess::CrashExit);

        auto db = Database::open(Database::defaultPath(dir.path()));
        QVERIFY2(db, db ? "" : qPrintable(db.error()));
        {
            QSqlQuery query {(*db)->connection()};
            QVERIFY(query.exec(QStringLiteral("PRAGMA integrity_check")));
            QVERIFY(query.next());
            QCOMPARE(query.value(0).toString(), QStringLiteral("ok"));
        }
        {
            const Storage::PolicyVersionStore store {**db};
            const auto active = store.activeVersion();
            QVERIFY(active);
            QCOMPARE(active->document, document);
            QCOMPARE(store.versions(100).size(), round + 1);
        }
        QSqlQuery count {(*db)->connection()};
        QVERIFY(count.exec(QStringLiteral("SELECT count(*) FROM request_log")));
        QVERIFY(count.next());
        const qint64 rows = count.value(0).toLongLong();
        // Everything the child saw committed survived the kill (WAL, process crash).
        QVERIFY2(rows >= committedBefore + committed,
                 qPrintable(QStringLiteral("%1 rows, %2 reported committed").arg(rows).arg(committedBefore + committed)));
        committedBefore = rows;
    }
}

QTEST_GUILESS_MAIN(TestCrashSafety)
#include "testcrashsafety.moc"
