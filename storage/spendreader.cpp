#include "spendreader.h"

#include "governance/utcwindow.h"

#include <QDateTime>
#include <QSqlError>
#include <QSqlQuery>
#include <QTimeZone>

namespace Storage {

Gateway::Expected<std::vector<SpendRow>, QString> querySpend(QSqlDatabase &db, const Gateway::Admin::SpendFilter &filter,
                                                             qint64 nowMs)
{
    // The grouping column comes from a fixed list, never from the request's text.
    QString group;
    if (filter.groupBy == "team") {
        group = QStringLiteral("team");
    } else if (filter.groupBy == "route") {
        group = QStringLiteral("route");
    } else if (filter.groupBy == "day") {
        group = QStringLiteral("at_ms / %1").arg(Gateway::Governance::MS_PER_DAY);
    } else {
        group = QStringLiteral("virtual_key");
    }
    QString where = QStringLiteral("at_ms >= :since AND at_ms < :until");
    if (!filter.virtualKey.isEmpty()) {
        where += QStringLiteral(" AND virtual_key = :key");
    }
    if (!filter.team.isEmpty()) {
        where += QStringLiteral(" AND team = :team");
    }
    if (!filter.route.isEmpty()) {
        where += QStringLiteral(" AND route = :route");
    }
    const QString order = filter.groupBy == "day" ? QStringLiteral("g") : QStringLiteral("cost DESC, g");
    QSqlQuery query {db};
    query.prepare(QStringLiteral("SELECT %1 AS g, count(*), sum(cost_nanos) AS cost, sum(tokens_in), sum(cached_tokens_in),"
                                 " sum(tokens_out), sum(estimated) FROM spend_ledger WHERE %2 GROUP BY g ORDER BY %3")
                      .arg(group, where, order));
    query.bindValue(QStringLiteral(":since"), filter.sinceMs);
    query.bindValue(QStringLiteral(":until"), filter.untilMs > 0 ? filter.untilMs : nowMs + 1);
    if (!filter.virtualKey.isEmpty()) {
        query.bindValue(QStringLiteral(":key"), filter.virtualKey);
    }
    if (!filter.team.isEmpty()) {
        query.bindValue(QStringLiteral(":team"), filter.team);
    }
    if (!filter.route.isEmpty()) {
        query.bindValue(QStringLiteral(":route"), QString::fromUtf8(filter.route));
    }
    if (!query.exec()) {
        return Gateway::Unexpected {QStringLiteral("cannot read the spend ledger: %1").arg(query.lastError().text())};
    }
    std::vector<SpendRow> rows;
    while (query.next()) {
        SpendRow row;
        if (filter.groupBy == "day") {
            const qint64 day = query.value(0).toLongLong();
            row.group = QDateTime::fromMSecsSinceEpoch(day * Gateway::Governance::MS_PER_DAY, QTimeZone::utc())
                            .date()
                            .toString(Qt::ISODate);
        } else {
            row.group = query.value(0).toString();
        }
        row.requests = query.value(1).toLongLong();
        row.costNanos = query.value(2).toLongLong();
        row.tokensIn = query.value(3).toLongLong();
        row.cachedTokensIn = query.value(4).toLongLong();
        row.tokensOut = query.value(5).toLongLong();
        row.estimated = query.value(6).toLongLong();
        rows.push_back(std::move(row));
    }
    return rows;
}

} // namespace Storage
