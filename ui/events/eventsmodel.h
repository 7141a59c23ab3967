#pragma once

#include <QAbstractTableModel>
#include <QJsonObject>
#include <QList>

namespace Ui {

class AdminClient;

// The events table as a timeline, newest first: health transitions, failovers, policy
// applies and rollbacks (and budget alerts once governance records them). refresh()
// asks the store for events since the newest shown and inserts them on top, so the
// selection and scroll survive.
class EventsModel final : public QAbstractTableModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EventsModel)

public:
    enum Column { TimeColumn, KindColumn, SubjectColumn, DetailColumn, ColumnCount };
    static constexpr int Limit = 500;  // rows kept; older ones fall off the end

    explicit EventsModel(AdminClient &admin, QObject *parent = nullptr);

    // Empty = every kind. Starts over.
    void setKind(const QString &kind);
    void refresh();

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

signals:
    void refreshed();

private:
    static QString describe(const QJsonObject &event);

    AdminClient &m_admin;
    QString m_kind;
    QList<QJsonObject> m_rows;
    bool m_loading = false;
    quint64 m_generation = 0;
};

} // namespace Ui
