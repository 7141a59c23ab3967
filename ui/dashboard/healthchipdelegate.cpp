#include "healthchipdelegate.h"

#include "semanticcolors.h"

#include <QApplication>
#include <QPainter>
#include <QPainterPath>

#include <algorithm>

namespace Ui {

namespace {

constexpr int Margin = 4;
constexpr int ChipPadding = 6;

} // namespace

HealthChipDelegate::HealthChipDelegate(int stateRole, int ageRole, QObject *parent)
    : QStyledItemDelegate {parent}
    , m_stateRole {stateRole}
    , m_ageRole {ageRole}
{
}

void HealthChipDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    const QString state = index.data(m_stateRole).toString();
    if (state.isEmpty()) {
        QStyledItemDelegate::paint(painter, option, index);
        return;
    }
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    const QString label = opt.text; // "circuit open", "recovering 40.0%", ...
    opt.text.clear();
    const QStyle *style = opt.widget != nullptr ? opt.widget->style() : QApplication::style();
    style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, opt.widget);

    const QFontMetrics metrics {opt.font};
    const QColor chip = healthColor(state, opt.palette);
    const int chipWidth = metrics.horizontalAdvance(label) + 2 * ChipPadding;
    const QRect chipRect {opt.rect.left() + Margin, opt.rect.top() + 2, chipWidth, opt.rect.height() - 4};

    painter->save();
    painter->setRenderHint(QPainter::Antialiasing, true);
    QPainterPath path;
    path.addRoundedRect(chipRect, chipRect.height() / 2.0, chipRect.height() / 2.0);
    painter->fillPath(path, chip);
    // White or black text, whichever reads better on the chip colour.
    painter->setPen(chip.lightnessF() > 0.55 ? Qt::black : Qt::white);
    painter->drawText(chipRect, Qt::AlignCenter, label);

    const bool selected = opt.state.testFlag(QStyle::State_Selected);
    painter->setPen(opt.palette.color(selected ? QPalette::HighlightedText : QPalette::Text));
    const QRect ageRect = opt.rect.adjusted(chipRect.width() + 2 * Margin, 0, -Margin, 0);
    // "healthy · 3m": the chip, then how long it has been so.
    painter->drawText(ageRect, Qt::AlignLeft | Qt::AlignVCenter, QStringLiteral("\u00b7 ") + index.data(m_ageRole).toString());
    painter->restore();
}

QSize HealthChipDelegate::sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    QSize size = QStyledItemDelegate::sizeHint(option, index);
    if (!index.data(m_stateRole).toString().isEmpty()) {
        const QFontMetrics &metrics = option.fontMetrics;
        const int width = metrics.horizontalAdvance(index.data().toString()) + 2 * ChipPadding + 3 * Margin
            + metrics.horizontalAdvance(QStringLiteral("\u00b7 00m 00s+"));
        size.setWidth(std::max(size.width(), width));
    }
    return size;
}

} // namespace Ui
