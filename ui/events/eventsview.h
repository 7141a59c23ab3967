#pragma once

#include <QWidget>

class QComboBox;
class QTableView;
class QTimer;

namespace Ui {

class AdminClient;
class EventsModel;

// Timeline of what the gateway decided and what operators changed, filterable by kind;
// polls the store every RefreshIntervalMs while visible.
class EventsView final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EventsView)

public:
    static constexpr int RefreshIntervalMs = 2000;

    explicit EventsView(AdminClient &admin, QWidget *parent = nullptr);

    EventsModel *model() const { return m_model; }

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    EventsModel *m_model;
    QComboBox *m_kind;
    QTableView *m_table;
    QTimer *m_refresh;
};

} // namespace Ui
