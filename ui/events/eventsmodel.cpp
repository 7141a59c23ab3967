#include "eventsmodel.h"

#include "admin/adminclient.h"
#include "runtime/eventkinds.h"
#include "semanticcolors.h"

#include <QDateTime>
#include <QGuiApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QPalette>

namespace Ui {

EventsModel::EventsModel(AdminClient &admin, QObject *parent)
    : QAbstractTableModel {parent}
    , m_admin {admin}
{
}

void EventsModel::setKind(const QString &kind)
{
    beginResetModel();
    m_kind = kind;
    m_rows.clear();
    m_loading = false;
    ++m_generation;
    endResetModel();
    refresh();
}

void EventsModel::refresh()
{
    if (m_loading) {
        return;
    }
    m_loading = true;
    const qint64 newestId = m_rows.isEmpty() ? 0 : m_rows.constFirst().value(u"id").toInteger();
    const qint64 since = m_rows.isEmpty() ? 0 : m_rows.constFirst().value(u"at_ms").toInteger();
    const quint64 generation = m_generation;
    m_admin.listEvents(since, m_kind, Limit, this, [this, generation, newestId](const AdminReply &reply) {
        if (generation != m_generation) {
            return;
        }
        m_loading = false;
        if (!reply.ok()) {
            return;
        }
        QList<QJsonObject> fresh;
        for (const QJsonValue &value : reply.json().value(u"data").toArray()) {
            const QJsonObject event = value.toObject();
            if (event.value(u"id").toInteger() > newestId) {
                fresh.append(event);
            }
        }
        if (!fresh.isEmpty()) {
            beginInsertRows({}, 0, static_cast<int>(fresh.size()) - 1);
            m_rows = fresh + m_rows;
            endInsertRows();
            if (m_rows.size() > Limit) {
                beginRemoveRows({}, Limit, static_cast<int>(m_rows.size()) - 1);
                m_rows.resize(Limit);
                endRemoveRows();
            }
        }
        emit refreshed();
    });
}

int EventsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int EventsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString EventsModel::describe(const QJsonObject &event)
{
    const QString kind = event.value(u"kind").toString();
    const QJsonObject detail = event.value(u"detail").toObject();
    if (kind == Gateway::EventKinds::HEALTH) {
        return tr("%1 → %2: %3").arg(detail.value(u"from").toString(), detail.value(u"to").toString(),
                                     detail.value(u"reason").toString());
    }
    if (kind == Gateway::EventKinds::FAILOVER) {
        QStringList failed;
        for (const QJsonValue &backend : detail.value(u"failed").toArray()) {
            failed.append(backend.toString());
        }
        return tr("%1 failed, answered by %2").arg(failed.join(QStringLiteral(", ")), detail.value(u"answered_by").toString());
    }
    if (kind == Gateway::EventKinds::POLICY_APPLIED || kind == Gateway::EventKinds::ROLLBACK) {
        return tr("version %1 by %2: %3")
            .arg(detail.value(u"version").toInteger())
            .arg(detail.value(u"author").toString(), detail.value(u"comment").toString());
    }
    if (kind == Gateway::EventKinds::ENGINE_RESTART) {
        return tr("restart %1 seen in its metrics; the prefix index forgot %2 blocks")
            .arg(detail.value(u"restarts").toInteger())
            .arg(detail.value(u"prefix_index_blocks_cleared").toInteger());
    }
    return QString::fromUtf8(QJsonDocument(detail).toJson(QJsonDocument::Compact));
}

QVariant EventsModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size()) {
        return {};
    }
    const QJsonObject &event = m_rows.at(index.row());
    const QString kind = event.value(u"kind").toString();
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case TimeColumn:
            return QDateTime::fromMSecsSinceEpoch(event.value(u"at_ms").toInteger()).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
        case KindColumn:
            return kind;
        case SubjectColumn:
            return event.value(u"subject").toString();
        case DetailColumn:
            return describe(event);
        default:
            return {};
        }
    }
    if (role == Qt::ForegroundRole && index.column() == KindColumn) {
        const QPalette palette = QGuiApplication::palette();
        if (kind == Gateway::EventKinds::HEALTH) {
            return healthColor(event.value(u"detail").toObject().value(u"to").toString(), palette);
        }
        if (kind == Gateway::EventKinds::FAILOVER || kind == Gateway::EventKinds::BUDGET_SOFT_LIMIT ||
            kind == Gateway::EventKinds::ENGINE_RESTART) {
            return warningColor(palette);
        }
    }
    if (role == Qt::ToolTipRole && index.column() == DetailColumn) {
        return describe(event);
    }
    return {};
}

QVariant EventsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) {
        return {};
    }
    switch (section) {
    case TimeColumn:
        return tr("Time");
    case KindColumn:
        return tr("Kind");
    case SubjectColumn:
        return tr("Subject");
    case DetailColumn:
        return tr("What happened");
    default:
        return {};
    }
}

} // namespace Ui
