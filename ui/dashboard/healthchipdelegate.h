#pragma once

#include <QStyledItemDelegate>

namespace Ui {

// Paints a target's health as a coloured chip (the state's colour, readable on light and
// dark palettes) followed by the time since its last transition. Items without a state
// under stateRole are painted normally.
class HealthChipDelegate final : public QStyledItemDelegate {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HealthChipDelegate)

public:
    HealthChipDelegate(int stateRole, int ageRole, QObject *parent = nullptr);

    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override;

private:
    int m_stateRole;
    int m_ageRole;
};

} // namespace Ui
