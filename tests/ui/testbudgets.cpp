#include "budgets/budgetentry.h"
#include "budgets/budgettablemodel.h"
#include "budgets/requestlogbudgetsource.h"

#include <QAbstractItemModelTester>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>

namespace {

constexpr qint64 Hour = 3600 * 1000;

QJsonObject row(qint64 id, qint64 at, const QString &key, double cost)
{
    return {{QStringLiteral("id"), id}, {QStringLiteral("finished_at_ms"), at}, {QStringLiteral("virtual_key"), key},
            {QStringLiteral("cost_usd"), cost}, {QStringLiteral("tokens_in"), 10}, {QStringLiteral("tokens_out"), 5}};
}

} // namespace

class TestBudgets final : public QObject {
    Q_OBJECT

private slots:
    void projectsExhaustionAtTheBurnRate() const
    {
        Ui::BudgetEntry entry;
        entry.budgetUsd = 10;
        entry.spentUsd = 4;
        entry.burnUsdPerHour = 2;
        entry.periodEndMs = 24 * Hour;
        QCOMPARE(Ui::projectedExhaustionMs(entry, 0), std::optional<qint64> {3 * Hour});
        QVERIFY(Ui::budgetAlert(entry, 0));
        entry.burnUsdPerHour = 0.1; // 60 h left, the period resets first
        QVERIFY(!Ui::projectedExhaustionMs(entry, 0));
        QVERIFY(!Ui::budgetAlert(entry, 0));
        entry.spentUsd = 8.5; // 85% spent
        QVERIFY(Ui::budgetAlert(entry, 0));
        entry.spentUsd = 11;
        QCOMPARE(Ui::projectedExhaustionMs(entry, 7), std::optional<qint64> {7});
        entry.budgetUsd = 0;
        QVERIFY(!Ui::projectedExhaustionMs(entry, 0));
        QVERIFY(!Ui::budgetAlert(entry, 0));
    }

    void sumsSpendPerKeyFromTheLog() const
    {
        Ui::RequestLogBudgetSource source {0, 24 * Hour};
        QSignalSpy changed {&source, &Ui::BudgetSource::changed};
        source.addRows({row(1, Hour, QStringLiteral("team-a"), 0.25), row(2, 2 * Hour, QStringLiteral("team-a"), 0.75),
                        row(3, 2 * Hour, QString {}, 1.0), row(4, 25 * Hour, QStringLiteral("team-a"), 9.0)});
        QCOMPARE(changed.count(), 1);
        const QList<Ui::BudgetEntry> entries = source.entries();
        QCOMPARE(entries.size(), 2);
        QCOMPARE(entries[0].name, QStringLiteral("team-a"));
        QCOMPARE(entries[0].spentUsd, 1.0);
        QCOMPARE(entries[0].requests, 2);
        QCOMPARE(entries[0].tokens, 30);
        QCOMPARE(entries[0].burnUsdPerHour, 1.0); // both rows lie within the last hour of the log
    }

    void modelUpdatesRowsInPlace() const
    {
        Ui::BudgetTableModel model {nullptr, [] { return qint64 {0}; }};
        QAbstractItemModelTester tester {&model};
        Ui::BudgetEntry a;
        a.name = QStringLiteral("a");
        a.budgetUsd = 10;
        a.spentUsd = 2;
        a.periodEndMs = 24 * Hour;
        model.setEntries({a});
        QCOMPARE(model.rowCount(), 1);
        QSignalSpy reset {&model, &QAbstractItemModel::modelReset};
        QSignalSpy changed {&model, &QAbstractItemModel::dataChanged};
        a.spentUsd = 9;
        model.setEntries({a});
        QCOMPARE(reset.count(), 0);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(model.index(0, Ui::BudgetTableModel::SpendColumn).data(Ui::BudgetTableModel::SpentFractionRole).toDouble(), 0.9);
        QVERIFY(model.index(0, 0).data(Ui::BudgetTableModel::AlertRole).toBool());
    }
};

QTEST_APPLESS_MAIN(TestBudgets)
#include "testbudgets.moc"
