#pragma once

#include <QWidget>

class QComboBox;
class QLineEdit;
class QPlainTextEdit;
class QSortFilterProxyModel;
class QTableView;
class QTimer;

namespace Ui {

class AdminClient;
class RequestLogModel;

// The request log: filters (time range, route, key, status) run in the store's query;
// the table loads pages as it is scrolled and sorts the rows loaded so far; the details
// pane shows every field of the selected request, including the routing reason.
class RequestLogView final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RequestLogView)

public:
    static constexpr int RefreshIntervalMs = 2000;

    explicit RequestLogView(AdminClient &admin, QWidget *parent = nullptr);

    RequestLogModel *model() const { return m_model; }
    QTableView *table() const { return m_table; }
    QPlainTextEdit *details() const { return m_details; }
    void applyFilter();

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    void showDetails();

    RequestLogModel *m_model;
    QSortFilterProxyModel *m_sorted;
    QTableView *m_table;
    QPlainTextEdit *m_details;
    QComboBox *m_range;
    QLineEdit *m_route;
    QLineEdit *m_key;
    QLineEdit *m_status;
    QTimer *m_refresh;
};

} // namespace Ui
