#pragma once

#include "admin/adminservice.h"

#include <QAbstractTableModel>
#include <QJsonObject>
#include <QList>

namespace Ui {

class AdminClient;

// The request log as a table that never holds the whole log: it loads one page of the
// store's cursor-paginated query at a time (canFetchMore/fetchMore, as views call them
// when scrolled to the end) and prepends rows newer than the first one on refresh().
// Rows are newest first; a filter change starts over.
class RequestLogModel final : public QAbstractTableModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RequestLogModel)

public:
    enum Column { TimeColumn, RouteColumn, BackendColumn, StatusColumn, LatencyColumn, TtftColumn, TokensInColumn,
                  TokensOutColumn, CostColumn, KeyColumn, ColumnCount };
    static constexpr int SortRole = Qt::UserRole + 1; // numbers for numeric columns
    static constexpr int DefaultPageSize = 200;

    explicit RequestLogModel(AdminClient &admin, QObject *parent = nullptr);

    // Starts over with this filter (cursor and limit are managed here).
    void setFilter(const Gateway::Admin::RequestFilter &filter);
    void setPageSize(int rows) { m_pageSize = rows; }
    // Loads rows newer than the newest one shown and inserts them on top.
    void refresh();
    bool isLoading() const { return m_loading; }

    QJsonObject row(int row) const { return m_rows.value(row); }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;

signals:
    void pageLoaded();
    void loadFailed(const QString &message);

private:
    QVariant display(const QJsonObject &row, int column) const;

    AdminClient &m_admin;
    Gateway::Admin::RequestFilter m_filter;
    QList<QJsonObject> m_rows;
    qint64 m_nextCursor = 0;  // 0 with m_exhausted: no more pages
    bool m_exhausted = false;
    bool m_loading = false;
    bool m_refreshing = false;
    quint64 m_generation = 0; // answers for an older filter are dropped
    int m_pageSize = DefaultPageSize;
};

} // namespace Ui
