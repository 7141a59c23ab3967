#pragma once

#include <QStyledItemDelegate>

namespace Ui {

// Paints a horizontal bar for items that carry a share in [0, 1] under shareRole,
// with the percentage beside it; other items are painted normally.
class WeightBarDelegate final : public QStyledItemDelegate {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(WeightBarDelegate)

public:
    WeightBarDelegate(int shareRole, QObject *parent = nullptr);

    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override;

private:
    int m_shareRole;
};

} // namespace Ui
