#pragma once

#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QSet>

#include <deque>

class QTimer;

namespace Ui {

class AdminClient;

// Follows the request log through the store's paginated query and reports each row
// once, oldest first: the budgets view sums spend from it and the charts take cost from
// it. The log is written in batches (rows may land a moment late and slightly out of
// order), so every poll looks back OverlapMs and drops ids already reported.
class RequestLogTail final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RequestLogTail)

public:
    static constexpr int PollIntervalMs = 2000;
    static constexpr qint64 OverlapMs = 10000;
    static constexpr int PageSize = 1000;
    // A poll reads at most this many pages, so a huge backlog never floods the GUI thread;
    // truncated() then says the totals started mid-way.
    static constexpr int MaxPagesPerPoll = 10;

    // Reports rows finished at or after `sinceMs`.
    RequestLogTail(AdminClient &admin, qint64 sinceMs, QObject *parent = nullptr);

    void start();
    void pollNow();
    bool truncated() const { return m_truncated; }

signals:
    void rowsArrived(const QList<QJsonObject> &rows);

private:
    void fetchPage(qint64 sinceMs, qint64 cursor, int page, QList<QJsonObject> collected);
    void finishPoll(QList<QJsonObject> collected);

    AdminClient &m_admin;
    QTimer *m_timer;
    qint64 m_sinceMs;
    qint64 m_newestFinishedMs = 0;
    QSet<qint64> m_recentIds;                     // reported ids inside the overlap window
    std::deque<std::pair<qint64, qint64>> m_recent; // (finished_at, id), oldest first
    bool m_polling = false;
    bool m_truncated = false;
};

} // namespace Ui
