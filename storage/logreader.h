#pragma once

#include "runtime/requestlog.h"
#include "util/expected.h"

#include <QByteArray>
#include <QList>
#include <QString>

namespace Storage {

class Database;

// Filter for LogReader::requests(). Empty / zero fields do not filter.
struct RequestQuery {
    qint64 sinceMs = 0;      // finished_at_ms >= sinceMs
    qint64 untilMs = 0;      // finished_at_ms <= untilMs; 0 = now
    QByteArray route;        // exact route (model name clients asked for)
    QString virtualKey;      // exact virtual key name
    int status = 0;          // exact HTTP status
    int limit = 100;         // clamped to 1..MAX_LIMIT
    qint64 cursor = 0;       // continue with ids below this (a previous page's nextCursor)
};

struct RequestPage {
    QList<Gateway::RequestLogEntry> rows; // newest first
    QList<qint64> ids;                    // ids[i] is the row id of rows[i]
    qint64 nextCursor = 0;                // pass as RequestQuery::cursor; 0 = no more rows
};

struct StoredEvent {
    qint64 id = 0;
    qint64 atMs = 0;
    QString kind;
    QString subject;
    QByteArray detailJson;
};

// Read-only queries over request_log and events for the admin API and the console.
//
// Runs on the caller's own Database (see Database for threading). WAL lets these reads
// run while the log writer commits on its own connection; a read sees the last batch
// committed when it started.
//
// Pagination is by keyset on the row id (newest first), so a page costs the same at any
// depth and rows committed while a client pages do not shift later pages.
class LogReader final {
public:
    static constexpr int MAX_LIMIT = 1000;

    explicit LogReader(Database &db);

    Gateway::Expected<RequestPage, QString> requests(const RequestQuery &query) const;

    // Events with at_ms >= sinceMs, of the given kind (empty = every kind), newest first,
    // at most limit (clamped to 1..MAX_LIMIT).
    Gateway::Expected<QList<StoredEvent>, QString> events(qint64 sinceMs, const QString &kind, int limit) const;

private:
    Database &m_db;
};

} // namespace Storage
