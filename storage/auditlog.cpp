#include "auditlog.h"

#include "database.h"
#include "sqlvalues.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QSqlError>
#include <QSqlQuery>
#include <QtEndian>

#include <algorithm>

namespace Storage {

namespace {

// Names the encoding, so a future version 2 can never produce the same bytes.
constexpr QByteArrayView ENCODING_TAG = "switchyard.audit_log.v1";

const QString SELECT_COLUMNS =
    QStringLiteral("SELECT id, at_ms, actor, action, subject, detail, prev_hash, row_hash FROM audit_log ");

void appendInteger(QByteArray &out, qint64 value)
{
    char bytes[8];
    qToBigEndian(value, bytes);
    out.append(bytes, 8);
}

// A fixed-size length before every variable field makes the encoding unambiguous:
// ("ab", "c") and ("a", "bc") cannot encode to the same bytes.
void appendField(QByteArray &out, QByteArrayView field)
{
    appendInteger(out, field.size());
    out.append(field);
}

AuditRow readRow(const QSqlQuery &query)
{
    AuditRow row;
    row.id = query.value(0).toLongLong();
    row.atMs = query.value(1).toLongLong();
    row.actor = query.value(2).toString();
    row.action = query.value(3).toString();
    row.subject = query.value(4).toString();
    row.detail = query.value(5).toString().toUtf8();
    row.prevHash = query.value(6).toString().toLatin1();
    row.rowHash = query.value(7).toString().toLatin1();
    return row;
}

} // namespace

AuditLog::AuditLog(Database &db)
    : m_db {db}
{
}

QByteArray AuditLog::rowHash(const AuditRow &row)
{
    QByteArray encoded;
    appendField(encoded, ENCODING_TAG);
    appendInteger(encoded, row.id);
    appendInteger(encoded, row.atMs);
    appendField(encoded, row.actor.toUtf8());
    appendField(encoded, row.action.toUtf8());
    appendField(encoded, row.subject.toUtf8());
    appendField(encoded, row.detail);
    appendField(encoded, row.prevHash);
    return QCryptographicHash::hash(encoded, QCryptographicHash::Sha256).toHex();
}

Gateway::Expected<qint64, QString> AuditLog::append(const AuditEntry &entry)
{
    QSqlQuery last {m_db.connection()};
    if (!last.exec(QStringLiteral("SELECT id, row_hash FROM audit_log ORDER BY id DESC LIMIT 1"))) {
        return Gateway::Unexpected {QStringLiteral("cannot read the audit log: %1").arg(last.lastError().text())};
    }
    AuditRow row;
    row.id = 1;
    row.prevHash = GENESIS_HASH.toByteArray();
    if (last.next()) {
        row.id = last.value(0).toLongLong() + 1;
        row.prevHash = last.value(1).toString().toLatin1();
    }
    last.finish();
    row.atMs = QDateTime::currentMSecsSinceEpoch();
    row.actor = entry.actor;
    row.action = entry.action;
    row.subject = entry.subject;
    // Hash exactly what reads back: the detail goes through QString on its way to TEXT.
    row.detail = QString::fromUtf8(entry.detail).toUtf8();
    row.rowHash = rowHash(row);

    QSqlQuery insert {m_db.connection()};
    insert.prepare(QStringLiteral("INSERT INTO audit_log (id, at_ms, actor, action, subject, detail, prev_hash, row_hash)"
                                  " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    insert.addBindValue(row.id);
    insert.addBindValue(row.atMs);
    insert.addBindValue(SqlValues::text(row.actor));
    insert.addBindValue(SqlValues::text(row.action));
    insert.addBindValue(SqlValues::text(row.subject));
    insert.addBindValue(SqlValues::text(row.detail));
    insert.addBindValue(SqlValues::text(row.prevHash));
    insert.addBindValue(SqlValues::text(row.rowHash));
    if (!insert.exec()) {
        return Gateway::Unexpected {QStringLiteral("cannot append to the audit log: %1").arg(insert.lastError().text())};
    }
    return row.id;
}

Gateway::Expected<AuditPage, QString> AuditLog::page(qint64 sinceMs, int limit, qint64 cursor) const
{
    const int clamped = std::clamp(limit, 1, MAX_PAGE);
    // No index on at_ms: the table grows by one row per admin change, and the scan runs
    // newest first by primary key and stops after one page.
    QSqlQuery query {m_db.connection()};
    query.setForwardOnly(true);
    query.prepare(SELECT_COLUMNS + QStringLiteral("WHERE at_ms >= ? AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?"));
    query.addBindValue(sinceMs);
    query.addBindValue(cursor);
    query.addBindValue(cursor);
    // One row more than asked tells whether another page exists.
    query.addBindValue(clamped + 1);
    if (!query.exec()) {
        return Gateway::Unexpected {QStringLiteral("cannot read the audit log: %1").arg(query.lastError().text())};
    }
    AuditPage page;
    while (query.next()) {
        if (page.rows.size() == clamped) {
            page.nextCursor = page.rows.constLast().id;
            break;
        }
        page.rows.append(readRow(query));
    }
    return page;
}

Gateway::Expected<AuditVerification, QString> AuditLog::verify(const QByteArray &anchor) const
{
    // One statement reads one consistent snapshot (WAL), even while rows are appended.
    QSqlQuery query {m_db.connection()};
    query.setForwardOnly(true);
    if (!query.exec(SELECT_COLUMNS + QStringLiteral("ORDER BY id"))) {
        return Gateway::Unexpected {QStringLiteral("cannot read the audit log: %1").arg(query.lastError().text())};
    }
    AuditVerification result;
    QByteArray expectedPrev = GENESIS_HASH.toByteArray();
    qint64 expectedId = 1;
    const QByteArray wanted = anchor.trimmed().toLower();
    bool anchorSeen = wanted.isEmpty();
    const auto broken = [&result](qint64 id, QString reason) {
        result.ok = false;
        result.firstBadId = id;
        result.reason = std::move(reason);
        return result;
    };
    while (query.next()) {
        const AuditRow row = readRow(query);
        // Content first: an edited row is reported as itself, not as its successor.
        if (rowHash(row) != row.rowHash) {
            return broken(row.id, QStringLiteral("row %1 was modified: its row_hash does not match its contents").arg(row.id));
        }
        if (row.id != expectedId) {
            return broken(row.id, expectedId == 1
                                      ? QStringLiteral("the log starts at row %1: rows before it are missing").arg(row.id)
                                      : QStringLiteral("rows %1 to %2 are missing (ids jump from %3 to %4)")
                                            .arg(expectedId)
                                            .arg(row.id - 1)
                                            .arg(expectedId - 1)
                                            .arg(row.id));
        }
        if (row.prevHash != expectedPrev) {
            return broken(row.id, row.id == 1 ? QStringLiteral("row 1 does not start the chain (prev_hash is not the genesis hash)")
                                              : QStringLiteral("row %1 does not follow row %2: its prev_hash differs from row %2's"
                                                               " row_hash (row %2 was rewritten, or rows were replaced)")
                                                    .arg(row.id)
                                                    .arg(row.id - 1));
        }
        ++result.rowsChecked;
        result.headId = row.id;
        result.headHash = row.rowHash;
        expectedPrev = row.rowHash;
        expectedId = row.id + 1;
        if (!anchorSeen && row.rowHash == wanted) {
            anchorSeen = true;
        }
    }
    if (query.lastError().isValid()) {
        return Gateway::Unexpected {QStringLiteral("cannot read the audit log: %1").arg(query.lastError().text())};
    }
    if (!anchorSeen) {
        return broken(0, QStringLiteral("the anchor %1 is not in the chain: the log was truncated or rewritten since it was"
                                        " recorded")
                             .arg(QString::fromLatin1(wanted)));
    }
    return result;
}

} // namespace Storage
