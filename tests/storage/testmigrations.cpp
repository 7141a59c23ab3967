// The schema path: a fresh file reaches the current version, a version-1 file written by
// the first release is upgraded with its data intact, a newer file is refused.

#include "database.h"
#include "migrations.h"

#include <QFile>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using Storage::Database;

namespace {

QVariant scalar(QSqlDatabase db, const QString &sql)
{
    QSqlQuery query {db};
    if (!query.exec(sql) || !query.next()) {
        qWarning() << sql << query.lastError().text();
        return {};
    }
    return query.value(0);
}

// A connection that bypasses Database, to build files the way an older release did.
class RawConnection final {
public:
    explicit RawConnection(const QString &path)
        : m_name {QStringLiteral("raw-%1").arg(++s_counter)}
    {
        m_db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_name);
        m_db.setDatabaseName(path);
        QVERIFY2(m_db.open(), qPrintable(m_db.lastError().text()));
    }
    ~RawConnection()
    {
        m_db.close();
        m_db = QSqlDatabase {};
        QSqlDatabase::removeDatabase(m_name);
    }
    Q_DISABLE_COPY_MOVE(RawConnection)

    bool exec(const QString &sql)
    {
        QSqlQuery query {m_db};
        if (!query.exec(sql)) {
            qWarning() << sql << query.lastError().text();
            return false;
        }
        return true;
    }

private:
    static inline int s_counter = 0;
    QString m_name;
    QSqlDatabase m_db;
};

} // namespace

class TestMigrations final : public QObject {
    Q_OBJECT

private slots:
    void init();

    void freshDatabaseReachesCurrentVersion();
    void connectionSettings();
    void versionOneDatabaseIsMigrated();
    void versionThreeRequestLogIsRekeyedByTime();
    void versionFourDatabaseIsMigrated();
    void everyOlderSchemaReachesTheCurrentOne_data();
    void everyOlderSchemaReachesTheCurrentOne();
    void newerVersionIsRefused();
    void reopeningIsANoOp();
    void notADatabaseIsRefused();
    void stepsAreOrdered();

private:
    QString dbPath() const { return Database::defaultPath(m_dir->path()); }

    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestMigrations::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

void TestMigrations::freshDatabaseReachesCurrentVersion()
{
    auto db = Database::open(dbPath());
    QVERIFY2(db, db ? "" : qPrintable(db.error()));
    QCOMPARE(Storage::currentSchemaVersion(), 8);
    QCOMPARE(scalar((*db)->connection(), QStringLiteral("PRAGMA user_version")).toInt(), 8);

    const QStringList tables = (*db)->connection().tables();
    for (const char *table : {"policy_versions", "active_policy", "secrets", "request_log", "events", "audit_log",
                              "spend_reservations", "spend_ledger", "semantic_cache"}) {
        QVERIFY2(tables.contains(QLatin1String(table)), table);
    }
    QCOMPARE(scalar((*db)->connection(), QStringLiteral("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'events_kind_at'"))
                 .toInt(),
             1);
    // The request log has no secondary index: every one costs the writer per row.
    QCOMPARE(scalar((*db)->connection(), QStringLiteral("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND"
                                                        " tbl_name = 'request_log' AND sql IS NOT NULL"))
                 .toInt(),
             0);
}

void TestMigrations::connectionSettings()
{
    auto db = Database::open(dbPath());
    QVERIFY(db);
    QSqlDatabase connection = (*db)->connection();
    QCOMPARE(scalar(connection, QStringLiteral("PRAGMA journal_mode")).toString(), QStringLiteral("wal"));
    QCOMPARE(scalar(connection, QStringLiteral("PRAGMA synchronous")).toInt(), 1); // NORMAL
    QCOMPARE(scalar(connection, QStringLiteral("PRAGMA foreign_keys")).toInt(), 1);
    QCOMPARE(scalar(connection, QStringLiteral("PRAGMA busy_timeout")).toInt(), 5000);

    // Foreign keys are enforced: the active pointer cannot name a missing version.
    QSqlQuery query {connection};
    QVERIFY(!query.exec(QStringLiteral("INSERT INTO active_policy (id, version_id) VALUES (1, 42)")));
}

void TestMigrations::versionOneDatabaseIsMigrated()
{
    {
        // Exactly what version 1 created, plus data.
        RawConnection raw {dbPath()};
        QVERIFY(raw.exec(QStringLiteral("CREATE TABLE policy_versions (id INTEGER PRIMARY KEY, created_at_ms INTEGER NOT NULL,"
                                        " author TEXT NOT NULL, comment TEXT NOT NULL, content_hash TEXT NOT NULL,"
                                        " document BLOB NOT NULL)")));
        QVERIFY(raw.exec(QStringLiteral("CREATE TABLE active_policy (id INTEGER PRIMARY KEY CHECK (id = 1),"
                                        " version_id INTEGER NOT NULL REFERENCES policy_versions(id))")));
        QVERIFY(raw.exec(QStringLiteral("CREATE TABLE secrets (name TEXT PRIMARY KEY, sealed BLOB NOT NULL,"
                                        " updated_at_ms INTEGER NOT NULL)")));
        QVERIFY(raw.exec(QStringLiteral("INSERT INTO policy_versions VALUES (7, 1000, 'alice', 'first', 'hash7', x'6465636b')")));
        QVERIFY(raw.exec(QStringLiteral("INSERT INTO active_policy VALUES (1, 7)")));
        QVERIFY(raw.exec(QStringLiteral("INSERT INTO secrets VALUES ('openai', x'00ff', 2000)")));
        QVERIFY(raw.exec(QStringLiteral("PRAGMA user_version = 1")));
    }

    auto db = Database::open(dbPath());
    QVERIFY2(db, db ? "" : qPrintable(db.error()));
    QSqlDatabase connection = (*db)->connection();
    QCOMPARE(scalar(connection, QStringLiteral("PRAGMA user_version")).toInt(), Storage::currentSchemaVersion());

    // Version-1 data is untouched.
    QCOMPARE(scalar(connection, QStringLiteral("SELECT author || '/' || comment || '/' || content_hash FROM policy_versions WHERE id = 7"))
                 .toString(),
             QStringLiteral("alice/first/hash7"));
    QCOMPARE(scalar(connection, QStringLiteral("SELECT document FROM policy_versions WHERE id = 7")).toByteArray(), QByteArray("deck"));
    QCOMPARE(scalar(connection, QStringLiteral("SELECT version_id FROM active_policy")).toInt(), 7);
    QCOMPARE(scalar(connection, QStringLiteral("SELECT sealed FROM secrets WHERE name = 'openai'")).toByteArray(),
             QByteArray::fromHex("00ff"));

    // Version-2 tables exist and work.
    QSqlQuery insert {connection};
    QVERIFY2(insert.exec(QStringLiteral("INSERT INTO events (at_ms, kind, subject, detail) VALUES (1, 'k', 's', '{}')")),
             qPrintable(insert.lastError().text()));
    QCOMPARE(scalar(connection, QStringLiteral("SELECT count(*) FROM request_log")).toInt(), 0);
    QCOMPARE(scalar(connection, QStringLiteral("PRAGMA journal_mode")).toString(), QStringLiteral("wal"));
}

void TestMigrations::versionThreeRequestLogIsRekeyedByTime()
{
    {
        auto db = Database::open(dbPath());
        QVERIFY(db);
        QSqlQuery raw {(*db)->connection()};
        // Back to what version 3 had: the two time indexes and consecutive ids, and none
        // of the later tables (audit_log is dropped below).
        QVERIFY(raw.exec(QStringLiteral("DROP TABLE spend_reservations")));
        QVERIFY(raw.exec(QStringLiteral("DROP TABLE spend_ledger")));
        QVERIFY(raw.exec(QStringLiteral("DROP TABLE semantic_cache")));                      // added by version 8
        QVERIFY(raw.exec(QStringLiteral("ALTER TABLE request_log DROP COLUMN cache")));       // likewise
        QVERIFY(raw.exec(QStringLiteral("CREATE INDEX request_log_finished_at ON request_log (finished_at_ms)")));
        QVERIFY(raw.exec(QStringLiteral("CREATE INDEX request_log_route_finished_at ON request_log (route, finished_at_ms)")));
        for (int i = 1; i <= 5; ++i) {
            // Rows 3 and 4 finished in the same millisecond.
            const qint64 at = 1'700'000'000'000 + (i == 4 ? 2 : i - 1);
            QVERIFY2(raw.exec(QStringLiteral("INSERT INTO request_log (id, finished_at_ms, request_id, virtual_key, route,"
                                             " backend, endpoint, status, error_class, latency_ms, ttft_ms, tokens_in,"
                                             " tokens_out, cost_usd, attempts, stream, route_reason) VALUES"
                                             " (%1, %2, 'r%1', '', 'chat', 'a/m', '/v1/chat/completions', 200, '', 1, 1,"
                                             " 1, 1, 0, 1, 0, '')")
                                  .arg(i)
                                  .arg(at)),
                     qPrintable(raw.lastError().text()));
        }
        QVERIFY(raw.exec(QStringLiteral("DROP TABLE audit_log"))); // added by version 6
        QVERIFY(raw.exec(QStringLiteral("PRAGMA user_version = 3")));
    }
    auto db = Database::open(dbPath());
    QVERIFY2(db, db ? "" : qPrintable(db.error()));
    QSqlDatabase &connection = (*db)->connection();
    QCOMPARE(scalar(connection, QStringLiteral("PRAGMA user_version")).toInt(), Storage::currentSchemaVersion());
    QSqlQuery rows {connection};
    QVERIFY(rows.exec(QStringLiteral("SELECT id, finished_at_ms, request_id FROM request_log ORDER BY id")));
    QStringList order;
    while (rows.next()) {
        const qint64 id = rows.value(0).toLongLong();
        const qint64 at = rows.value(1).toLongLong();
        // Every id lies in its row's millisecond, and ids keep the rows' time order.
        QCOMPARE(id >> 16, at);
        order << rows.value(2).toString();
    }
    QCOMPARE(order, (QStringList {QStringLiteral("r1"), QStringLiteral("r2"), QStringLiteral("r3"), QStringLiteral("r4"),
                                  QStringLiteral("r5")}));
    QCOMPARE(scalar(connection, QStringLiteral("SELECT count(*) FROM sqlite_master WHERE name LIKE 'request_log_%finished%'"))
                 .toInt(),
             0);
    QCOMPARE(scalar(connection, QStringLiteral("PRAGMA integrity_check")).toString(), QStringLiteral("ok"));
}

void TestMigrations::versionFourDatabaseIsMigrated()
{
    {
        // What version 4 had: the per-route request-log index, no audit_log (nor its
        // triggers), plus data that must survive.
        auto db = Database::open(dbPath());
        QVERIFY(db);
        QSqlQuery raw {(*db)->connection()};
        QVERIFY(raw.exec(QStringLiteral("DROP TABLE audit_log")));
        QVERIFY(raw.exec(QStringLiteral("DROP TABLE spend_reservations")));
        QVERIFY(raw.exec(QStringLiteral("DROP TABLE spend_ledger")));
        QVERIFY(raw.exec(QStringLiteral("DROP TABLE semantic_cache")));                      // added by version 8
        QVERIFY(raw.exec(QStringLiteral("ALTER TABLE request_log DROP COLUMN cache")));       // likewise
        QVERIFY(raw.exec(QStringLiteral("CREATE INDEX request_log_route ON request_log (route)")));
        QVERIFY2(raw.exec(QStringLiteral("INSERT INTO request_log (id, finished_at_ms, request_id, virtual_key, route,"
                                         " backend, endpoint, status, error_class, latency_ms, ttft_ms, tokens_in,"
                                         " tokens_out, cost_usd, attempts, stream, route_reason) VALUES"
                                         " (65536, 1, 'kept', '', 'chat', 'a/m', '/v1/chat/completions', 200, '', 1, 1,"
                                         " 1, 1, 0, 1, 0, '')")),
                 qPrintable(raw.lastError().text()));
        QVERIFY(raw.exec(QStringLiteral("INSERT INTO policy_versions VALUES (3, 1000, 'alice', 'v3', 'hash3', x'6465636b')")));
        QVERIFY(raw.exec(QStringLiteral("INSERT INTO active_policy VALUES (1, 3)")));
        QVERIFY(raw.exec(QStringLiteral("PRAGMA user_version = 4")));
    }
    auto db = Database::open(dbPath());
    QVERIFY2(db, db ? "" : qPrintable(db.error()));
    QSqlDatabase &connection = (*db)->connection();
    QCOMPARE(scalar(connection, QStringLiteral("PRAGMA user_version")).toInt(), 8);
    // Version 8: the request log's cache column, empty for the rows already there.
    QCOMPARE(scalar(connection, QStringLiteral("SELECT cache FROM request_log WHERE route = 'chat'")).toString(), QString());
    // Version 5: the per-route index is gone, the rows stay.
    QCOMPARE(scalar(connection, QStringLiteral("SELECT count(*) FROM sqlite_master WHERE name = 'request_log_route'")).toInt(), 0);
    QCOMPARE(scalar(connection, QStringLiteral("SELECT request_id FROM request_log WHERE route = 'chat'")).toString(),
             QStringLiteral("kept"));
    // Version 6: the audit log and its triggers.
    QVERIFY(connection.tables().contains(QStringLiteral("audit_log")));
    QCOMPARE(scalar(connection, QStringLiteral("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
                                               " AND tbl_name = 'audit_log'"))
                 .toInt(),
             3);
    // Earlier data is untouched, and the log starts empty: history before the upgrade
    // was never audited, and the migration does not pretend it was.
    QCOMPARE(scalar(connection, QStringLiteral("SELECT author || '/' || comment FROM policy_versions WHERE id = 3")).toString(),
             QStringLiteral("alice/v3"));
    QCOMPARE(scalar(connection, QStringLiteral("SELECT version_id FROM active_policy")).toInt(), 3);
    QCOMPARE(scalar(connection, QStringLiteral("SELECT count(*) FROM audit_log")).toInt(), 0);
    // Version 7: the spend journal, empty.
    QCOMPARE(scalar(connection, QStringLiteral("SELECT count(*) FROM spend_ledger")).toInt(), 0);
    QCOMPARE(scalar(connection, QStringLiteral("SELECT count(*) FROM spend_reservations")).toInt(), 0);
    QCOMPARE(scalar(connection, QStringLiteral("PRAGMA integrity_check")).toString(), QStringLiteral("ok"));
}

void TestMigrations::everyOlderSchemaReachesTheCurrentOne_data()
{
    QTest::addColumn<int>("version");
    for (int version = 1; version < Storage::currentSchemaVersion(); ++version) {
        QTest::addRow("from version %d", version) << version;
    }
}

// Each older schema exactly as its steps built it (so a step added later is covered
// without a new test), with a policy version and a request-log row in it: opening it
// migrates to the current version, keeps the data and passes the integrity check.
void TestMigrations::everyOlderSchemaReachesTheCurrentOne()
{
    QFETCH(int, version);
    {
        RawConnection raw {dbPath()};
        for (const Storage::MigrationStep &step : Storage::migrationSteps()) {
            if (step.version > version) {
                break;
            }
            for (const QString &statement : step.statements) {
                QVERIFY2(raw.exec(statement), qPrintable(statement));
            }
        }
        QVERIFY(raw.exec(QStringLiteral("INSERT INTO policy_versions VALUES (9, 1000, 'ops', 'kept', 'h9', x'6465636b')")));
        QVERIFY(raw.exec(QStringLiteral("INSERT INTO active_policy VALUES (1, 9)")));
        if (version >= 2) {
            QVERIFY(raw.exec(QStringLiteral("INSERT INTO request_log (id, finished_at_ms, request_id, virtual_key, route,"
                                            " backend, endpoint, status, error_class, latency_ms, ttft_ms, tokens_in,"
                                            " tokens_out, cost_usd, attempts, stream) VALUES (1, 1700000000000, 'r1', '',"
                                            " 'chat', 'a/m', '/v1/chat/completions', 200, '', 1, 1, 1, 1, 0, 1, 0)")));
        }
        QVERIFY(raw.exec(QStringLiteral("PRAGMA user_version = %1").arg(version)));
    }
    auto db = Database::open(dbPath());
    QVERIFY2(db, db ? "" : qPrintable(db.error()));
    QSqlDatabase &connection = (*db)->connection();
    QCOMPARE(scalar(connection, QStringLiteral("PRAGMA user_version")).toInt(), Storage::currentSchemaVersion());
    QCOMPARE(scalar(connection, QStringLiteral("SELECT comment FROM policy_versions WHERE id = 9")).toString(),
             QStringLiteral("kept"));
    QCOMPARE(scalar(connection, QStringLiteral("SELECT version_id FROM active_policy")).toInt(), 9);
    if (version >= 2) {
        QCOMPARE(scalar(connection, QStringLiteral("SELECT request_id FROM request_log")).toString(), QStringLiteral("r1"));
    }
    QCOMPARE(scalar(connection, QStringLiteral("PRAGMA integrity_check")).toString(), QStringLiteral("ok"));
}

void TestMigrations::newerVersionIsRefused()
{
    {
        RawConnection raw {dbPath()};
        QVERIFY(raw.exec(QStringLiteral("PRAGMA user_version = 99")));
    }
    auto db = Database::open(dbPath());
    QVERIFY(!db);
    QVERIFY2(db.error().contains(QLatin1String("99")), qPrintable(db.error()));
    QVERIFY2(db.error().contains(QLatin1String("newer")), qPrintable(db.error()));
    QVERIFY2(db.error().contains(dbPath()), qPrintable(db.error()));

    // Refusal changed nothing: still refused.
    auto again = Database::open(dbPath());
    QVERIFY(!again);
}

void TestMigrations::reopeningIsANoOp()
{
    {
        auto db = Database::open(dbPath());
        QVERIFY(db);
        QVERIFY((*db)->execute(QStringLiteral("INSERT INTO events (at_ms, kind, subject, detail) VALUES (1, 'k', 's', '')")));
    }
    // A second connection while the first is open, as the log writer does.
    auto first = Database::open(dbPath());
    auto second = Database::open(dbPath());
    QVERIFY(first);
    QVERIFY(second);
    QVERIFY((*first)->connectionName() != (*second)->connectionName());
    QCOMPARE(scalar((*second)->connection(), QStringLiteral("SELECT count(*) FROM events")).toInt(), 1);
    QCOMPARE(scalar((*second)->connection(), QStringLiteral("PRAGMA user_version")).toInt(), Storage::currentSchemaVersion());
}

void TestMigrations::notADatabaseIsRefused()
{
    QFile file {dbPath()};
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QByteArray(4096, 'x'));
    file.close();
    auto db = Database::open(dbPath());
    QVERIFY(!db);
    QVERIFY2(db.error().contains(dbPath()), qPrintable(db.error()));
}

void TestMigrations::stepsAreOrdered()
{
    int expected = 1;
    for (const Storage::MigrationStep &step : Storage::migrationSteps()) {
        QCOMPARE(step.version, expected++);
        QVERIFY(!step.statements.isEmpty());
    }
}

QTEST_GUILESS_MAIN(TestMigrations)
#include "testmigrations.moc"
