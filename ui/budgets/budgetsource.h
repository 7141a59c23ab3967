#pragma once

#include "runtime/budgetrows.h"

#include <QList>
#include <QObject>

namespace Ui {

// What the budgets view needs from whoever knows about spend: the entries of the current
// period and a signal when they change. The seam where governance plugs in.
class BudgetSource : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BudgetSource)

public:
    using QObject::QObject;
    ~BudgetSource() override = default;

    virtual QList<Gateway::BudgetRow> entries() const = 0;
    // A note shown under the table, e.g. where the numbers come from.
    virtual QString description() const = 0;

signals:
    void changed();
};

} // namespace Ui
