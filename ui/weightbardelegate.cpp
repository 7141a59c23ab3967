#include "weightbardelegate.h"

#include <QApplication>
#include <QPainter>

#include <algorithm>

namespace Ui {

namespace {

constexpr int Margin = 4;
constexpr int MinimumBarWidth = 60;

} // namespace

WeightBarDelegate::WeightBarDelegate(int shareRole, QObject *parent, int actualRole)
    : QStyledItemDelegate {parent}
    , m_shareRole {shareRole}
    , m_actualRole {actualRole}
{
}

void WeightBarDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    const QVariant shareData = index.data(m_shareRole);
    if (!shareData.isValid()) {
        QStyledItemDelegate::paint(painter, option, index);
        return;
    }
    const double share = std::clamp(shareData.toDouble(), 0.0, 1.0);

    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    const QString text = opt.text;
    opt.text.clear();
    // Background, selection and focus come from the style, as for any other cell.
    const QStyle *style = opt.widget != nullptr ? opt.widget->style() : QApplication::style();
    style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, opt.widget);

    const bool selected = opt.state.testFlag(QStyle::State_Selected);
    const QPalette::ColorGroup group = opt.state.testFlag(QStyle::State_Enabled) ? QPalette::Normal : QPalette::Disabled;
    const QColor textColor = opt.palette.color(group, selected ? QPalette::HighlightedText : QPalette::Text);
    // On a selected row the highlight colour is the background, so the bar switches
    // to the highlighted-text colour to stay visible.
    const QColor barColor = opt.palette.color(group, selected ? QPalette::HighlightedText : QPalette::Highlight);
    QColor trackColor = textColor;
    trackColor.setAlphaF(0.12f);

    const QFontMetrics metrics {opt.font};
    const QRect area = opt.rect.adjusted(Margin, 0, -Margin, 0);
    // Room for a percentage at least, and for longer figures (a budget's "$3.10 / $10.00
    // (31%)") as far as the bar keeps half the cell.
    const int textWidth = std::max(metrics.horizontalAdvance(QStringLiteral("100.0%")),
                                   std::min(metrics.horizontalAdvance(text), area.width() / 2));
    QRect track = area.adjusted(0, 0, -(textWidth + Margin), 0);
    const int barHeight = std::max(2, std::min(area.height() - 2 * Margin, metrics.height() / 2));
    track.setTop(area.center().y() - barHeight / 2 + 1);
    track.setHeight(barHeight);

    painter->save();
    painter->setRenderHint(QPainter::Antialiasing, false);
    if (track.width() > 0) {
        painter->fillRect(track, trackColor);
        QRect bar = track;
        bar.setWidth(static_cast<int>(track.width() * share + 0.5));
        painter->fillRect(bar, barColor);
        const QVariant actual = m_actualRole >= 0 ? index.data(m_actualRole) : QVariant {};
        if (actual.isValid()) {
            // A tick taller than the bar, in the text colour, so it reads on the bar and
            // on the track alike.
            const int x = track.left() + static_cast<int>(track.width() * std::clamp(actual.toDouble(), 0.0, 1.0) + 0.5);
            painter->fillRect(QRect {std::min(x, track.right() - 1), track.top() - 2, 2, track.height() + 4}, textColor);
        }
    }
    painter->setPen(textColor);
    // The text uses the full cell height; only the bar is inset vertically.
    const QRect textRect {area.right() - textWidth, opt.rect.top(), textWidth, opt.rect.height()};
    painter->drawText(textRect, Qt::AlignRight | Qt::AlignVCenter, text);
    painter->restore();
}

QSize WeightBarDelegate::sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    QSize size = QStyledItemDelegate::sizeHint(option, index);
    if (index.data(m_shareRole).isValid()) {
        const int textWidth = std::max(option.fontMetrics.horizontalAdvance(QStringLiteral("100.0%")),
                                       option.fontMetrics.horizontalAdvance(index.data().toString()));
        size.setWidth(std::max(size.width(), textWidth + MinimumBarWidth + 3 * Margin));
    }
    return size;
}

} // namespace Ui
