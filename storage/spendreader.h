#pragma once

#include "admin/adminservice.h"
#include "util/expected.h"

#include <QByteArray>
#include <QSqlDatabase>
#include <QString>

#include <vector>

namespace Storage {

// One group of GET /admin/v1/spend.
struct SpendRow {
    QString group; // key or team name, route, or UTC day as YYYY-MM-DD
    qint64 requests = 0;
    qint64 costNanos = 0;
    qint64 tokensIn = 0;
    qint64 cachedTokensIn = 0;
    qint64 tokensOut = 0;
    qint64 estimated = 0; // settled from an estimate (cancelled, or recovered after a crash)
};

// Sums the spend ledger by the filter's grouping, largest cost first (days in order).
// Runs on the calling thread's connection (the store thread's).
Gateway::Expected<std::vector<SpendRow>, QString> querySpend(QSqlDatabase &db, const Gateway::Admin::SpendFilter &filter,
                                                             qint64 nowMs);

} // namespace Storage
