#pragma once

#include <QWidget>

class QLabel;
class QTableView;

namespace Ui {

class BudgetSource;
class BudgetTableModel;

// Spend against budget per team and key: progress bars, projected exhaustion, alerts in
// the error colour. Shows whatever a BudgetSource provides.
class BudgetsView final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BudgetsView)

public:
    explicit BudgetsView(BudgetSource &source, QWidget *parent = nullptr);

    BudgetTableModel *model() const { return m_model; }

private:
    void reload();

    BudgetSource &m_source;
    BudgetTableModel *m_model;
    QTableView *m_table;
    QLabel *m_note;
};

} // namespace Ui
