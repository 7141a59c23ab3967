#include "database.h"

#include "migrations.h"

#include <QDir>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>

#include <atomic>

namespace Storage {

namespace {

QString nextConnectionName()
{
    static std::atomic<quint64> counter {0};
    return QStringLiteral("switchyard-storage-%1").arg(counter.fetch_add(1, std::memory_order_relaxed));
}

} // namespace

QString Database::defaultPath(const QString &dataDirectory)
{
    return QDir(dataDirectory).filePath(QLatin1String(FILE_NAME));
}

Database::Database(QString path, QString connectionName)
    : m_path {std::move(path)}
    , m_connectionName {std::move(connectionName)}
    , m_connection {QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connectionName)}
{
}

Database::~Database()
{
    m_connection.close();
    // removeDatabase() warns and leaks if a handle to the connection is still alive, so
    // drop ours first.
    m_connection = QSqlDatabase {};
    QSqlDatabase::removeDatabase(m_connectionName);
}

Gateway::Expected<std::unique_ptr<Database>, QString> Database::open(const QString &path)
{
    std::unique_ptr<Database> db {new Database(path, nextConnectionName())};
    if (!db->m_connection.isValid()) {
        return Gateway::Unexpected {QStringLiteral("the Qt SQLite driver (QSQLITE) is not available: %1")
                                        .arg(db->m_connection.lastError().text())};
    }
    db->m_connection.setDatabaseName(path);
    if (!db->m_connection.open()) {
        return Gateway::Unexpected {QStringLiteral("cannot open database %1: %2").arg(path, db->m_connection.lastError().text())};
    }

    // busy_timeout first: switching to WAL needs a lock another process may hold.
    for (const auto &pragma : {QStringLiteral("PRAGMA busy_timeout = 5000"), QStringLiteral("PRAGMA foreign_keys = ON")}) {
        auto done = db->execute(pragma);
        if (!done) {
            return Gateway::Unexpected {QStringLiteral("database %1: %2").arg(path, done.error())};
        }
    }
    {
        // Also the first real read of the file: a file that is not a database fails here.
        QSqlQuery query {db->m_connection};
        if (!query.exec(QStringLiteral("PRAGMA journal_mode = WAL")) || !query.next()) {
            return Gateway::Unexpected {QStringLiteral("database %1: cannot enable WAL: %2").arg(path, query.lastError().text())};
        }
        const QString mode = query.value(0).toString();
        if (mode.compare(QLatin1String("wal"), Qt::CaseInsensitive) != 0 && path != QLatin1String(":memory:")) {
            return Gateway::Unexpected {QStringLiteral("database %1: journal mode is %2, WAL is required").arg(path, mode)};
        }
    }
    // Set after WAL: in WAL mode NORMAL is durable against process crashes.
    auto sync = db->execute(QStringLiteral("PRAGMA synchronous = NORMAL"));
    if (!sync) {
        return Gateway::Unexpected {QStringLiteral("database %1: %2").arg(path, sync.error())};
    }

    auto migrated = migrate(db->m_connection);
    if (!migrated) {
        return Gateway::Unexpected {QStringLiteral("database %1: %2").arg(path, migrated.error())};
    }
    return db;
}

Gateway::Expected<sqlite3 *, QString> Database::sqliteHandle()
{
    // Qt's SQLite driver hands out its sqlite3* as a QVariant typed "sqlite3*".
    const QVariant handle = m_connection.driver()->handle();
    if (!handle.isValid() || qstrcmp(handle.typeName(), "sqlite3*") != 0) {
        return Gateway::Unexpected {QStringLiteral("the Qt SQLite driver did not expose its handle")};
    }
    return *static_cast<sqlite3 *const *>(handle.constData());
}

Gateway::Expected<bool, QString> Database::execute(const QString &sql)
{
    QSqlQuery query {m_connection};
    if (!query.exec(sql)) {
        return Gateway::Unexpected {QStringLiteral("%1: %2").arg(sql, query.lastError().text())};
    }
    return true;
}

Gateway::Expected<bool, QString> Database::beginWrite()
{
    return execute(QStringLiteral("BEGIN IMMEDIATE"));
}

Gateway::Expected<bool, QString> Database::commit()
{
    return execute(QStringLiteral("COMMIT"));
}

void Database::rollback()
{
    QSqlQuery query {m_connection};
    query.exec(QStringLiteral("ROLLBACK"));
}

} // namespace Storage
