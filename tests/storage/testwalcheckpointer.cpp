// The WAL checkpointer copies committed pages from the write-ahead log into the database
// file on its own thread, so the request-log writer never checkpoints inside its COMMIT.

#include "database.h"
#include "walcheckpointer.h"

#include <QFileInfo>
#include <QSqlDriver>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QVariant>

#include <sqlite3.h>

using Storage::Database;
using Storage::WalCheckpointer;

class TestWalCheckpointer final : public QObject {
    Q_OBJECT

private slots:
    void committedPagesReachTheDatabaseFile();
};

void TestWalCheckpointer::committedPagesReachTheDatabaseFile()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = Database::defaultPath(dir.path());
    auto opened = Database::open(path);
    QVERIFY(opened);
    const std::unique_ptr<Database> db = std::move(opened).value();
    QSqlQuery query {db->connection()};
    // As the log writer does: no automatic checkpoints on this connection.
    QVERIFY(query.exec(QStringLiteral("PRAGMA wal_autocheckpoint = 0")));
    QVERIFY(query.exec(QStringLiteral("CREATE TABLE filler (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")));
    QVERIFY(db->beginWrite());
    for (int i = 0; i < 2000; ++i) {
        QVERIFY(query.exec(QStringLiteral("INSERT INTO filler (text) VALUES ('%1')").arg(QString(200, QLatin1Char('x')))));
    }
    QVERIFY(db->commit());
    const qint64 before = QFileInfo(path).size();
    QVERIFY(QFileInfo(path + QStringLiteral("-wal")).size() > 400'000); // the rows sit in the WAL

    WalCheckpointer checkpointer {path, 20};
    QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(path).size() > before + 400'000, 5000);
    // The file grows while the checkpoint runs; the count goes up once it has returned.
    QTRY_VERIFY_WITH_TIMEOUT(checkpointer.checkpoints() >= 1, 5000);
    QCOMPARE(db->connection().exec(QStringLiteral("SELECT count(*) FROM filler")).next(), true);
}

QTEST_GUILESS_MAIN(TestWalCheckpointer)
#include "testwalcheckpointer.moc"
