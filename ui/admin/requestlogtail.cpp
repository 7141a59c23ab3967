#include "requestlogtail.h"

#include "adminclient.h"

#include <QJsonArray>
#include <QTimer>

#include <algorithm>

namespace Ui {

RequestLogTail::RequestLogTail(AdminClient &admin, qint64 sinceMs, QObject *parent)
    : QObject {parent}
    , m_admin {admin}
    , m_timer {new QTimer(this)}
    , m_sinceMs {sinceMs}
{
    m_timer->setInterval(PollIntervalMs);
    connect(m_timer, &QTimer::timeout, this, &RequestLogTail::pollNow);
}

void RequestLogTail::start()
{
    m_timer->start();
    pollNow();
}

void RequestLogTail::pollNow()
{
    if (m_polling) {
        return; // the store is slower than the timer: never stack polls
    }
    m_polling = true;
    const qint64 since = m_newestFinishedMs > 0 ? std::max(m_sinceMs, m_newestFinishedMs - OverlapMs) : m_sinceMs;
    fetchPage(since, 0, 0, {});
}

void RequestLogTail::fetchPage(qint64 sinceMs, qint64 cursor, int page, QList<QJsonObject> collected)
{
    Gateway::Admin::RequestFilter filter;
    filter.sinceMs = sinceMs;
    filter.limit = PageSize;
    filter.cursor = cursor;
    m_admin.listRequests(filter, this, [this, sinceMs, page, collected = std::move(collected)](const AdminReply &reply) mutable {
        if (!reply.ok()) {
            m_polling = false;
            return;
        }
        const QJsonObject body = reply.json();
        for (const QJsonValue &value : body.value(u"data").toArray()) {
            const QJsonObject row = value.toObject();
            const qint64 id = row.value(u"id").toInteger();
            if (m_recentIds.contains(id)) {
                continue; // inside the overlap and already reported
            }
            collected.append(row);
        }
        const QJsonValue next = body.value(u"next_cursor");
        if (!next.isNull() && next.toInteger() > 0) {
            if (page + 1 < MaxPagesPerPoll) {
                fetchPage(sinceMs, next.toInteger(), page + 1, std::move(collected));
                return;
            }
            m_truncated = true;
        }
        finishPoll(std::move(collected));
    });
}

void RequestLogTail::finishPoll(QList<QJsonObject> collected)
{
    m_polling = false;
    std::sort(collected.begin(), collected.end(), [](const QJsonObject &a, const QJsonObject &b) {
        return a.value(u"id").toInteger() < b.value(u"id").toInteger();
    });
    for (const QJsonObject &row : std::as_const(collected)) {
        const qint64 finished = row.value(u"finished_at_ms").toInteger();
        const qint64 id = row.value(u"id").toInteger();
        m_newestFinishedMs = std::max(m_newestFinishedMs, finished);
        m_recentIds.insert(id);
        m_recent.emplace_back(finished, id);
    }
    std::sort(m_recent.begin(), m_recent.end());
    // Forget ids that can no longer come back in an overlap read.
    while (!m_recent.empty() && m_recent.front().first < m_newestFinishedMs - 2 * OverlapMs) {
        m_recentIds.remove(m_recent.front().second);
        m_recent.pop_front();
    }
    if (!collected.isEmpty()) {
        emit rowsArrived(collected);
    }
}

} // namespace Ui
