#pragma once

#include <QStyledItemDelegate>

namespace Ui {

// Paints a horizontal bar for items that carry a share in [0, 1] under shareRole,
// with the percentage beside it; other items are painted normally. With an actualRole,
// a tick marks a second value on the same scale (the dashboard's observed share against
// the expected one; a budget's elapsed period against its spend).
class WeightBarDelegate final : public QStyledItemDelegate {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(WeightBarDelegate)

public:
    WeightBarDelegate(int shareRole, QObject *parent = nullptr, int actualRole = -1);

    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override;

private:
    int m_shareRole;
    int m_actualRole;
};

} // namespace Ui
