#pragma once

#include "runtime/budgetrows.h"

#include <QByteArray>
#include <QList>

#include <vector>

namespace App {

// The terminal console's budgets section: per team and key, spend against budget as a
// text progress bar, burn rate, projected exhaustion and the alert, alert rows marked
// with '!' so they stand out even without colour.
void appendBudgetLines(std::vector<QByteArray> &lines, const QList<Gateway::BudgetRow> &rows, qint64 nowMs,
                       int width);

} // namespace App
