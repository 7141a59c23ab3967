#include "terminalbudgets.h"

#include "terminalline.h"

#include <algorithm>

namespace App {

namespace {

using Gateway::BudgetRow;

constexpr int MarkWidth = 2;
constexpr int WindowWidth = 10;
constexpr int AmountWidth = 11;
constexpr int BurnWidth = 12;
constexpr int ExhaustsWidth = 13;
constexpr int AlertWidth = 16;
constexpr int MinimumBarWidth = 6;
constexpr int MaximumBarWidth = 30;

QString amount(const BudgetRow &row, double value)
{
    if (row.unit == BudgetRow::Unit::Tokens) {
        return count(static_cast<qint64>(value + 0.5));
    }
    return QLatin1Char('$') + QString::number(value, 'f', value < 10 ? 4 : 2);
}

QString subject(const BudgetRow &row)
{
    if (row.scope == BudgetRow::Scope::Team) {
        return QStringLiteral("team ") + row.name;
    }
    return row.team.isEmpty() ? QStringLiteral("key ") + row.name
                              : QStringLiteral("key %1 (%2)").arg(row.name, row.team);
}

QString windowName(const BudgetRow &row)
{
    const bool day = row.window == BudgetRow::Window::Day;
    if (row.unit == BudgetRow::Unit::Usd) {
        return day ? latin1("USD/day") : latin1("USD/month");
    }
    return day ? latin1("tok/day") : latin1("tok/month");
}

// "[#####-----]  50%": the budget spent, in `width` columns including brackets and figure.
QString progressBar(const BudgetRow &row, int width)
{
    const int inner = width - 8;
    const double fraction = row.limit > 0 ? row.spent / row.limit : 0;
    const int filled = std::clamp(static_cast<int>(fraction * inner + 0.5), 0, inner);
    return QLatin1Char('[') + QString {filled, QLatin1Char('#')} + QString {inner - filled, QLatin1Char('-')}
        + QLatin1Char(']') + QString::number(std::min(fraction * 100, 999.0), 'f', 0).rightJustified(5)
        + QLatin1Char('%');
}

QString exhaustion(const BudgetRow &row, qint64 nowMs)
{
    if (row.limit <= 0 || !row.burnPerHour) {
        return latin1("-");
    }
    const auto at = Gateway::projectedExhaustionMs(row, nowMs);
    if (!at) {
        return latin1("after reset"); // the UTC window ends first
    }
    return *at <= nowMs ? latin1("reached") : QStringLiteral("in ") + shortDuration(*at - nowMs);
}

QByteArrayView alertStyle(BudgetRow::Alert alert)
{
    switch (alert) {
    case BudgetRow::Alert::Hard:
        return BoldRed;
    case BudgetRow::Alert::Soft:
    case BudgetRow::Alert::Projected:
        return Yellow;
    case BudgetRow::Alert::None:
        break;
    }
    return {};
}

QString alertText(const BudgetRow &row, BudgetRow::Alert alert)
{
    switch (alert) {
    case BudgetRow::Alert::Hard:
        return latin1("HARD: refusing");
    case BudgetRow::Alert::Soft:
        return QStringLiteral("soft limit %1%").arg(QString::number(row.softFraction * 100, 'f', 0));
    case BudgetRow::Alert::Projected:
        return latin1("runs out early");
    case BudgetRow::Alert::None:
        break;
    }
    return {};
}

} // namespace

void appendBudgetLines(std::vector<QByteArray> &lines, const QList<BudgetRow> &rows, qint64 nowMs, int width)
{
    int longest = 0;
    for (const BudgetRow &row : rows) {
        longest = std::max(longest, static_cast<int>(subject(row).size()) + 1);
    }
    // Names give way on narrow terminals, then the bar; the figures after it come last.
    const int nameWidth = std::max(10, std::min(std::clamp(longest, 16, 40), width / 3));
    const int fixed = MarkWidth + nameWidth + WindowWidth + 2 * AmountWidth + BurnWidth + ExhaustsWidth + AlertWidth;
    const int barWidth = std::clamp(width - fixed - 1, MinimumBarWidth + 10, MaximumBarWidth);

    {
        LineBuilder line {width};
        line.left(latin1("  BUDGET"), MarkWidth + nameWidth, Bold);
        line.left(latin1("WINDOW"), WindowWidth, Bold);
        line.right(latin1("SPENT"), AmountWidth, Bold);
        line.right(latin1("LIMIT"), AmountWidth, Bold);
        line.left(latin1("  USED"), barWidth + 1, Bold);
        line.right(latin1("BURN/H"), BurnWidth, Bold);
        line.right(latin1("EXHAUSTS"), ExhaustsWidth, Bold);
        line.left(latin1("  ALERT"), AlertWidth, Bold);
        lines.push_back(line.bytes());
    }
    if (rows.isEmpty()) {
        LineBuilder line {width};
        line.text(latin1("  no teams or keys in the policy"), Dim);
        lines.push_back(line.bytes());
        return;
    }
    for (const BudgetRow &row : rows) {
        const BudgetRow::Alert alert = Gateway::budgetAlert(row, nowMs);
        const QByteArrayView style = alertStyle(alert);
        LineBuilder line {width};
        line.left(alert == BudgetRow::Alert::None ? QString {} : latin1("!"), MarkWidth, style);
        line.left(subject(row), nameWidth, row.scope == BudgetRow::Scope::Team ? Bold : style);
        line.left(windowName(row), WindowWidth, Dim);
        line.right(amount(row, row.spent), AmountWidth);
        line.right(row.limit > 0 ? amount(row, row.limit) : latin1("none"), AmountWidth);
        line.text(latin1("  "));
        if (row.limit > 0) {
            line.left(progressBar(row, barWidth - 2), barWidth - 1, style); // left() keeps a space
        } else {
            line.left(latin1("(spend today, no budget)"), barWidth - 1, Dim);
        }
        line.right(row.burnPerHour ? amount(row, *row.burnPerHour) + latin1("/h") : latin1("measuring"), BurnWidth,
                   row.burnPerHour ? QByteArrayView {} : Dim);
        line.right(exhaustion(row, nowMs), ExhaustsWidth, alert == BudgetRow::Alert::Projected ? style : QByteArrayView {});
        line.text(latin1("  "));
        line.text(alertText(row, alert), style);
        lines.push_back(line.bytes());
    }
}

} // namespace App
