#pragma once

#include "util/expected.h"

#include <QSqlDatabase>
#include <QString>

#include <memory>

struct sqlite3;

namespace Storage {

// One SQLite connection (Qt Sql, QSQLITE driver) to Switchyard's store, migrated to the
// current schema.
//
// Threading: a QSqlDatabase connection may only be used on the thread that opened it,
// so every thread that needs the store opens its own Database (each gets a unique
// connection name). The log writer does this on its own thread; the admin API and the
// policy service open theirs. Never share one Database between threads.
//
// Settings applied on open, and why:
//   journal_mode=WAL    readers never block the writer and the writer never blocks them;
//                       a crash leaves committed transactions intact.
//   synchronous=NORMAL  in WAL mode a transaction committed before a process crash is
//                       never lost; only an OS crash or power loss may roll back the last
//                       commits (the database stays consistent either way). It saves an
//                       fsync per commit.
//   foreign_keys=ON     active_policy.version_id must name an existing version.
//   busy_timeout=5000   two connections taking the write lock wait for each other
//                       instead of failing with SQLITE_BUSY at once.
//
// Lifetime: classes that take a Database& (stores, readers) must be destroyed before it,
// because the destructor closes and removes the connection.
class Database final {
public:
    static constexpr const char *FILE_NAME = "switchyard.db";

    // <dataDir>/switchyard.db
    static QString defaultPath(const QString &dataDirectory);

    // Opens (creating if needed) the database at path, applies the settings above and
    // migrates the schema. Fails with a readable message when the file cannot be opened,
    // is not a database, cannot use WAL, or has a schema newer than this build knows.
    static Gateway::Expected<std::unique_ptr<Database>, QString> open(const QString &path);

    ~Database();
    Q_DISABLE_COPY_MOVE(Database)

    // The connection, for the store classes. Use it only on the thread that opened it.
    QSqlDatabase &connection() { return m_connection; }
    // The same connection as SQLite's own handle, for the writers whose per-row cost
    // matters (binding through QVariant cost more than the insert). Same thread rule.
    // Fails only if the Qt driver stops exposing it.
    Gateway::Expected<sqlite3 *, QString> sqliteHandle();
    const QString &path() const { return m_path; }
    const QString &connectionName() const { return m_connectionName; }

    // Runs one statement that returns no rows (PRAGMA, DDL, BEGIN/COMMIT, ...).
    Gateway::Expected<bool, QString> execute(const QString &sql);

    // BEGIN IMMEDIATE: takes the write lock at once (waiting up to busy_timeout), so a
    // read-then-write transaction cannot fail half-way with SQLITE_BUSY.
    Gateway::Expected<bool, QString> beginWrite();
    Gateway::Expected<bool, QString> commit();
    // Best effort; used on error paths where the original error is what matters.
    void rollback();

private:
    Database(QString path, QString connectionName);

    QString m_path;
    QString m_connectionName;
    QSqlDatabase m_connection;
};

} // namespace Storage
