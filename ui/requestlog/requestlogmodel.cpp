#include "requestlogmodel.h"

#include "admin/adminclient.h"
#include "semanticcolors.h"

#include <QDateTime>
#include <QGuiApplication>
#include <QJsonArray>
#include <QLocale>
#include <QPalette>

namespace Ui {

namespace {

QString ms(const QJsonValue &value)
{
    if (value.isNull() || value.isUndefined()) {
        return QStringLiteral("\u2013");
    }
    const double v = value.toDouble();
    return QString::number(v, 'f', v < 10 ? 1 : 0);
}

QString count(const QJsonValue &value)
{
    return value.isNull() || value.isUndefined() ? QStringLiteral("\u2013") : QLocale {}.toString(value.toInteger());
}

} // namespace

RequestLogModel::RequestLogModel(AdminClient &admin, QObject *parent)
    : QAbstractTableModel {parent}
    , m_admin {admin}
{
}

void RequestLogModel::setFilter(const Gateway::Admin::RequestFilter &filter)
{
    beginResetModel();
    m_filter = filter;
    m_rows.clear();
    m_nextCursor = 0;
    m_exhausted = false;
    m_loading = false;
    m_refreshing = false;
    ++m_generation;
    endResetModel();
}

int RequestLogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int RequestLogModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

bool RequestLogModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && !m_exhausted && !m_loading;
}

void RequestLogModel::fetchMore(const QModelIndex &parent)
{
    if (!canFetchMore(parent)) {
        return;
    }
    m_loading = true;
    Gateway::Admin::RequestFilter page = m_filter;
    page.limit = m_pageSize;
    page.cursor = m_nextCursor;
    const quint64 generation = m_generation;
    m_admin.listRequests(page, this, [this, generation](const AdminReply &reply) {
        if (generation != m_generation) {
            return;
        }
        m_loading = false;
        if (!reply.ok()) {
            m_exhausted = true; // a broken query would fail again; a filter change retries
            emit loadFailed(reply.errorMessage());
            return;
        }
        const QJsonObject body = reply.json();
        const QJsonArray data = body.value(u"data").toArray();
        const qint64 next = body.value(u"next_cursor").toInteger();
        m_nextCursor = next;
        m_exhausted = next <= 0;
        if (!data.isEmpty()) {
            const int first = static_cast<int>(m_rows.size());
            beginInsertRows({}, first, first + static_cast<int>(data.size()) - 1);
            for (const QJsonValue &value : data) {
                m_rows.append(value.toObject());
            }
            endInsertRows();
        }
        emit pageLoaded();
    });
}

void RequestLogModel::refresh()
{
    if (m_rows.isEmpty()) {
        // An empty result is no proof the log stays empty: ask again from the top.
        if (!m_loading) {
            m_exhausted = false;
        }
        fetchMore({});
        return;
    }
    if (m_refreshing) {
        return;
    }
    m_refreshing = true;
    const qint64 newestId = m_rows.constFirst().value(u"id").toInteger();
    Gateway::Admin::RequestFilter newer = m_filter;
    // Rows land in batches, a little out of order: look back a few seconds, keep only
    // ids above the newest shown.
    newer.sinceMs = std::max(m_filter.sinceMs, m_rows.constFirst().value(u"finished_at_ms").toInteger() - 5000);
    newer.limit = 1000;
    newer.cursor = 0;
    const quint64 generation = m_generation;
    m_admin.listRequests(newer, this, [this, generation, newestId](const AdminReply &reply) {
        if (generation != m_generation) {
            return;
        }
        m_refreshing = false;
        if (!reply.ok()) {
            return;
        }
        QList<QJsonObject> fresh;
        for (const QJsonValue &value : reply.json().value(u"data").toArray()) {
            const QJsonObject row = value.toObject();
            if (row.value(u"id").toInteger() > newestId) {
                fresh.append(row);
            }
        }
        if (fresh.isEmpty()) {
            return;
        }
        beginInsertRows({}, 0, static_cast<int>(fresh.size()) - 1);
        m_rows = fresh + m_rows;
        endInsertRows();
    });
}

QVariant RequestLogModel::display(const QJsonObject &row, int column) const
{
    switch (column) {
    case TimeColumn:
        return QDateTime::fromMSecsSinceEpoch(row.value(u"finished_at_ms").toInteger()).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"));
    case RouteColumn:
        return row.value(u"route").toString();
    case BackendColumn:
        return row.value(u"backend").toString();
    case StatusColumn:
        return row.value(u"status").toInt();
    case LatencyColumn:
        return ms(row.value(u"latency_ms"));
    case TtftColumn:
        return ms(row.value(u"ttft_ms"));
    case TokensInColumn:
        return count(row.value(u"tokens_in"));
    case TokensOutColumn:
        return count(row.value(u"tokens_out"));
    case CostColumn:
        return QString {QStringLiteral("$") + QString::number(row.value(u"cost_usd").toDouble(), 'f', 6)};
    case KeyColumn:
        return row.value(u"virtual_key").toString();
    default:
        return {};
    }
}

QVariant RequestLogModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size()) {
        return {};
    }
    const QJsonObject &row = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        return display(row, index.column());
    case SortRole:
        switch (index.column()) {
        case TimeColumn:
            return row.value(u"id").toInteger(); // ids order by time
        case StatusColumn:
            return row.value(u"status").toInt();
        case LatencyColumn:
            return row.value(u"latency_ms").toDouble();
        case TtftColumn:
            return row.value(u"ttft_ms").isNull() ? -1.0 : row.value(u"ttft_ms").toDouble();
        case TokensInColumn:
            return row.value(u"tokens_in").toInteger();
        case TokensOutColumn:
            return row.value(u"tokens_out").toInteger();
        case CostColumn:
            return row.value(u"cost_usd").toDouble();
        default:
            return display(row, index.column());
        }
    case Qt::TextAlignmentRole:
        if (index.column() >= StatusColumn && index.column() <= CostColumn) {
            return QVariant::fromValue(Qt::Alignment {Qt::AlignRight | Qt::AlignVCenter});
        }
        return {};
    case Qt::ForegroundRole:
        if (index.column() == StatusColumn && row.value(u"status").toInt() >= 400) {
            return errorColor(QGuiApplication::palette());
        }
        return {};
    default:
        return {};
    }
}

QVariant RequestLogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) {
        return {};
    }
    switch (section) {
    case TimeColumn:
        return tr("Time");
    case RouteColumn:
        return tr("Route");
    case BackendColumn:
        return tr("Backend");
    case StatusColumn:
        return tr("Status");
    case LatencyColumn:
        return tr("Latency ms");
    case TtftColumn:
        return tr("TTFT ms");
    case TokensInColumn:
        return tr("Tokens in");
    case TokensOutColumn:
        return tr("Tokens out");
    case CostColumn:
        return tr("Cost");
    case KeyColumn:
        return tr("Key");
    default:
        return {};
    }
}

} // namespace Ui
