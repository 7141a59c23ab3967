#include "runtime/budgetrows.h"
#include "budgets/budgettablemodel.h"
#include "budgets/governancebudgetsource.h"

#include "governance/burnrate.h"
#include "governance/utcwindow.h"
#include "runtime/statussnapshot.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

namespace {

constexpr qint64 Hour = 3600 * 1000;

Gateway::BudgetRow usdPerDay(double limit, double spent, std::optional<double> burn)
{
    Gateway::BudgetRow entry;
    entry.name = QStringLiteral("a");
    entry.limit = limit;
    entry.spent = spent;
    entry.burnPerHour = burn;
    entry.periodEndMs = 24 * Hour;
    return entry;
}

} // namespace

class TestBudgets final : public QObject {
    Q_OBJECT

private slots:
    void projectsExhaustionAtTheBurnRate() const
    {
        Gateway::BudgetRow entry = usdPerDay(10, 4, 2);
        QCOMPARE(Gateway::projectedExhaustionMs(entry, 0), std::optional<qint64> {3 * Hour});
        QCOMPARE(Gateway::budgetAlert(entry, 0), Gateway::BudgetRow::Alert::Projected);
        entry.burnPerHour = 0.1; // 60 h left, the window resets first
        QVERIFY(!Gateway::projectedExhaustionMs(entry, 0));
        QCOMPARE(Gateway::budgetAlert(entry, 0), Gateway::BudgetRow::Alert::None);
        entry.burnPerHour.reset(); // no rate yet: no projection
        QVERIFY(!Gateway::projectedExhaustionMs(entry, 0));
        entry.spent = 8.5; // past the 80% soft limit
        QCOMPARE(Gateway::budgetAlert(entry, 0), Gateway::BudgetRow::Alert::Soft);
        entry.spent = 10;
        QCOMPARE(Gateway::budgetAlert(entry, 0), Gateway::BudgetRow::Alert::Hard);
        QCOMPARE(Gateway::projectedExhaustionMs(entry, 7), std::optional<qint64> {7});
        entry.limit = 0;
        QVERIFY(!Gateway::projectedExhaustionMs(entry, 0));
        QCOMPARE(Gateway::budgetAlert(entry, 0), Gateway::BudgetRow::Alert::None);
    }

    void burnRateIsTheSlopeOverTheWindow() const
    {
        using Gateway::Governance::BurnRate;
        BurnRate rate;
        rate.add(0, 1.0);
        QVERIFY(!rate.perHour());
        rate.add(BurnRate::MinSpanMs - 1, 1.5);
        QVERIFY(!rate.perHour()); // readings too close together
        rate.add(60'000, 2.0);
        QCOMPARE(*rate.perHour(), 60.0); // $1 in a minute
        // Long after, the early readings leave the window: only the recent slope counts.
        rate.add(BurnRate::WindowMs + 120'000, 2.0);
        rate.add(BurnRate::WindowMs + 180'000, 2.0);
        QCOMPARE(*rate.perHour(), 0.0);
        // Spend going down means a new UTC window began: start over.
        rate.add(BurnRate::WindowMs + 240'000, 0.1);
        QVERIFY(!rate.perHour());
    }

    void oneRowPerConfiguredBudget() const
    {
        const qint64 now = 20'000 * Gateway::Governance::MS_PER_DAY + 5 * Hour;
        Gateway::BudgetStatus team;
        team.isTeam = true;
        team.name = QStringLiteral("research");
        team.budgets.usdPerDay = 10;
        team.budgets.tokensPerMonth = 1000;
        team.usage.dayNanos = 2 * Gateway::Governance::NANOS_PER_USD;
        team.usage.reservedNanos = Gateway::Governance::NANOS_PER_USD / 2;
        team.usage.monthTokens = 300;
        team.usage.reservedTokens = 20;
        team.atMs = now;
        Gateway::BudgetStatus key;
        key.name = QStringLiteral("k");
        key.team = QStringLiteral("research");
        key.usage.dayNanos = Gateway::Governance::NANOS_PER_USD;
        key.atMs = now;
        const QList<Gateway::BudgetRow> entries = Gateway::budgetRowsFrom({team, key});
        QCOMPARE(entries.size(), 3);
        QCOMPARE(entries[0].unit, Gateway::BudgetRow::Unit::Usd);
        QCOMPARE(entries[0].spent, 2.5); // in-flight estimates count, as the gateway counts them
        QCOMPARE(entries[0].periodStartMs, 20'000 * Gateway::Governance::MS_PER_DAY);
        QCOMPARE(entries[0].periodEndMs, 20'001 * Gateway::Governance::MS_PER_DAY);
        QCOMPARE(entries[1].unit, Gateway::BudgetRow::Unit::Tokens);
        QCOMPARE(entries[1].window, Gateway::BudgetRow::Window::Month);
        QCOMPARE(entries[1].spent, 320.0);
        QCOMPARE(entries[1].limit, 1000.0);
        // A key without budgets: one row of its spend today.
        QCOMPARE(entries[2].name, QStringLiteral("k"));
        QCOMPARE(entries[2].limit, 0.0);
        QCOMPARE(entries[2].spent, 1.0);
    }

    void modelUpdatesRowsInPlace() const
    {
        Ui::BudgetTableModel model {nullptr, [] { return qint64 {0}; }};
        QAbstractItemModelTester tester {&model};
        Gateway::BudgetRow a = usdPerDay(10, 2, std::nullopt);
        Gateway::BudgetRow tokens = a;
        tokens.unit = Gateway::BudgetRow::Unit::Tokens;
        tokens.limit = 100;
        model.setEntries({a, tokens});
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.index(0, Ui::BudgetTableModel::BurnColumn).data().toString(), QStringLiteral("measuring"));
        QSignalSpy reset {&model, &QAbstractItemModel::modelReset};
        QSignalSpy changed {&model, &QAbstractItemModel::dataChanged};
        a.spent = 9;
        model.setEntries({a, tokens});
        QCOMPARE(reset.count(), 0);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(model.index(0, Ui::BudgetTableModel::SpendColumn).data(Ui::BudgetTableModel::SpentFractionRole).toDouble(), 0.9);
        QCOMPARE(model.index(0, Ui::BudgetTableModel::SpendColumn).data().toString(), QStringLiteral("$9.0000 / $10.00 (90%)"));
        QCOMPARE(model.index(0, 0).data(Ui::BudgetTableModel::AlertRole).toInt(), static_cast<int>(Gateway::BudgetRow::Alert::Soft));
        QCOMPARE(model.index(1, Ui::BudgetTableModel::SpendColumn).data().toString(), QStringLiteral("2 / 100 (2%)"));
    }
};

QTEST_APPLESS_MAIN(TestBudgets)
#include "testbudgets.moc"
