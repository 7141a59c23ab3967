#include "logreader.h"

#include "database.h"
#include "requestlogids.h"

#include <QDateTime>
#include <QSqlError>
#include <QSqlQuery>
#include <QStringList>
#include <QVariantList>

#include <algorithm>

namespace Storage {

LogReader::LogReader(Database &db)
    : m_db {db}
{
}

Gateway::Expected<RequestPage, QString> LogReader::requests(const RequestQuery &request) const
{
    // Only fixed fragments are concatenated; every value is bound.
    QStringList conditions;
    QVariantList values;
    // The id range finds the time range through the primary key (ids order by time, see
    // RequestLogIds); the exact bounds then filter on finished_at_ms itself.
    const qint64 untilMs = request.untilMs > 0 ? request.untilMs : QDateTime::currentMSecsSinceEpoch();
    conditions << QStringLiteral("id >= ?");
    values << RequestLogIds::firstIdAt(request.sinceMs);
    conditions << QStringLiteral("id < ?");
    values << RequestLogIds::firstIdAt(untilMs + RequestLogIds::MAX_REORDER_MS);
    conditions << QStringLiteral("finished_at_ms >= ?");
    values << request.sinceMs;
    conditions << QStringLiteral("finished_at_ms <= ?");
    values << untilMs;
    if (!request.route.isEmpty()) {
        conditions << QStringLiteral("route = ?");
        values << QString::fromUtf8(request.route);
    }
    if (!request.virtualKey.isEmpty()) {
        conditions << QStringLiteral("virtual_key = ?");
        values << request.virtualKey;
    }
    if (request.status != 0) {
        conditions << QStringLiteral("status = ?");
        values << request.status;
    }
    if (request.cursor > 0) {
        conditions << QStringLiteral("id < ?");
        values << request.cursor;
    }
    const int limit = std::clamp(request.limit, 1, MAX_LIMIT);
    // One row more than asked tells whether another page exists.
    values << limit + 1;

    QSqlQuery query {m_db.connection()};
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT id, finished_at_ms, request_id, virtual_key, route, backend, endpoint, status,"
                                 " error_class, latency_ms, ttft_ms, tokens_in, tokens_out, cost_usd, attempts, stream,"
                                 " route_reason, cache FROM request_log WHERE ")
                  + conditions.join(QLatin1String(" AND ")) + QStringLiteral(" ORDER BY id DESC LIMIT ?"));
    for (const QVariant &value : std::as_const(values)) {
        query.addBindValue(value);
    }
    if (!query.exec()) {
        return Gateway::Unexpected {QStringLiteral("cannot read the request log: %1").arg(query.lastError().text())};
    }

    RequestPage page;
    while (query.next()) {
        if (page.rows.size() == limit) {
            page.nextCursor = page.ids.constLast();
            break;
        }
        Gateway::RequestLogEntry entry;
        int i = 1;
        entry.finishedAtMs = query.value(i++).toLongLong();
        entry.requestId = query.value(i++).toString().toUtf8();
        entry.virtualKey = query.value(i++).toString();
        entry.route = query.value(i++).toString().toUtf8();
        entry.backend = query.value(i++).toString().toUtf8();
        entry.endpoint = query.value(i++).toString().toUtf8();
        entry.status = query.value(i++).toInt();
        entry.errorClass = query.value(i++).toString().toUtf8();
        entry.latencyMs = query.value(i++).toDouble();
        entry.ttftMs = query.value(i++).toDouble();
        entry.tokensIn = query.value(i++).toLongLong();
        entry.tokensOut = query.value(i++).toLongLong();
        entry.costUsd = query.value(i++).toDouble();
        entry.attempts = query.value(i++).toInt();
        entry.stream = query.value(i++).toInt() != 0;
        entry.routeReason = query.value(i++).toByteArray();
        entry.cache = query.value(i++).toByteArray();
        page.ids.append(query.value(0).toLongLong());
        page.rows.append(std::move(entry));
    }
    return page;
}

Gateway::Expected<QList<StoredEvent>, QString> LogReader::events(qint64 sinceMs, const QString &kind, int limit) const
{
    QSqlQuery query {m_db.connection()};
    query.setForwardOnly(true);
    if (kind.isEmpty()) {
        query.prepare(QStringLiteral("SELECT id, at_ms, kind, subject, detail FROM events"
                                     " WHERE at_ms >= ? ORDER BY id DESC LIMIT ?"));
        query.addBindValue(sinceMs);
    } else {
        query.prepare(QStringLiteral("SELECT id, at_ms, kind, subject, detail FROM events"
                                     " WHERE kind = ? AND at_ms >= ? ORDER BY id DESC LIMIT ?"));
        query.addBindValue(kind);
        query.addBindValue(sinceMs);
    }
    query.addBindValue(std::clamp(limit, 1, MAX_LIMIT));
    if (!query.exec()) {
        return Gateway::Unexpected {QStringLiteral("cannot read events: %1").arg(query.lastError().text())};
    }
    QList<StoredEvent> events;
    while (query.next()) {
        StoredEvent event;
        event.id = query.value(0).toLongLong();
        event.atMs = query.value(1).toLongLong();
        event.kind = query.value(2).toString();
        event.subject = query.value(3).toString();
        event.detailJson = query.value(4).toString().toUtf8();
        events.append(std::move(event));
    }
    return events;
}

} // namespace Storage
