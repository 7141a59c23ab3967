// The budgets view over a real gateway with teams and virtual keys: real requests spend
// real (priced) tokens, the limit store enforces the budgets, and the view shows each
// key's and team's spend against its budget with the soft and hard alerts highlighted.

#include "budgets/budgetsview.h"
#include "budgets/budgettablemodel.h"
#include "budgets/governancebudgetsource.h"
#include "semanticcolors.h"
#include "storegateway.h"

#include "policyservice.h"
#include "runtime/gatewayruntime.h"

#include <QColor>
#include <QGuiApplication>
#include <QTest>

#include <atomic>
#include <memory>

namespace {

constexpr QByteArrayView AgentKey = "sk-agent-0123456789abcdef";

// Prices high enough that one short request costs about a cent.
QByteArray governance(const QByteArray &agentUsdPerDay)
{
    return "prices:\n"
                              "  - {model: ma, input_per_mtok: 1000, output_per_mtok: 1000}\n"
                              "  - {model: mb, input_per_mtok: 1000, output_per_mtok: 1000}\n"
                              "teams:\n"
                              "  - {name: research, budgets: {usd_per_day: 0.2, soft_limit_fraction: 0.01}}\n"
                              "virtual_keys:\n"
                              "  - {name: agent, key: \"sk-agent-0123456789abcdef\", team: research,\n"
                              "     budgets: {usd_per_day: " + agentUsdPerDay + ", tokens_per_month: 1000000}}\n"
                              "  - {name: idle, key: \"sk-idle-0123456789abcdef\"}\n";
}

int rowOf(const Ui::BudgetTableModel &model, const QString &scope, const QString &name, const QString &budget)
{
    for (int row = 0; row < model.rowCount(); ++row) {
        if (model.index(row, Ui::BudgetTableModel::ScopeColumn).data().toString() == scope
            && model.index(row, Ui::BudgetTableModel::NameColumn).data().toString().startsWith(name)
            && model.index(row, Ui::BudgetTableModel::BudgetColumn).data().toString().contains(budget)) {
            return row;
        }
    }
    return -1;
}

} // namespace

class TestBudgetsView final : public QObject {
    Q_OBJECT

private slots:
    void showsSpendAgainstBudgetsWithAlerts()
    {
        UiTest::StoreGateway env;
        QVERIFY(env.start(governance("10")));
        Ui::GovernanceBudgetSource source {env.gateway()};
        Ui::BudgetsView view {source};
        view.resize(1100, 300);
        view.show();
        source.start();
        const Ui::BudgetTableModel &model = *view.model();
        // Team research (USD/day), key agent (USD/day and tokens/month), key idle (spend only).
        QCOMPARE(model.rowCount(), 4);
        const int team = rowOf(model, QStringLiteral("team"), QStringLiteral("research"), QStringLiteral("USD / day"));
        const int agent = rowOf(model, QStringLiteral("key"), QStringLiteral("agent"), QStringLiteral("USD / day"));
        const int agentTokens = rowOf(model, QStringLiteral("key"), QStringLiteral("agent"), QStringLiteral("tokens / month"));
        const int idle = rowOf(model, QStringLiteral("key"), QStringLiteral("idle"), QStringLiteral("none"));
        QVERIFY(team >= 0 && agent >= 0 && agentTokens >= 0 && idle >= 0);
        QCOMPARE(model.index(agent, Ui::BudgetTableModel::NameColumn).data().toString(), QStringLiteral("agent (team research)"));
        const auto alert = [&model](int row) {
            return static_cast<Gateway::BudgetRow::Alert>(model.index(row, 0).data(Ui::BudgetTableModel::AlertRole).toInt());
        };
        QCOMPARE(alert(agent), Gateway::BudgetRow::Alert::None);

        // Real requests spend real (priced) tokens.
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(env.chat("chat", AgentKey.toByteArray()).status, 200);
        }
        source.pollNow();
        const double spent =
            model.index(agent, Ui::BudgetTableModel::SpendColumn).data(Ui::BudgetTableModel::SpentFractionRole).toDouble() * 10;
        QVERIFY2(spent > 0.006, QByteArray::number(spent).constData());

        // The operator lowers the key's budget below what it already spent (a new version
        // through the store, applied to the running gateway): the budget is reached, the
        // gateway refuses with 429 budget_exceeded and the view says so in the error colour.
        auto applied = std::make_shared<std::atomic<bool>>(false); // set on the store's thread
        env.store().putPolicy(env.policyYaml("1", governance("0.005")), false, QStringLiteral("test"),
                              QStringLiteral("lower the agent's budget"),
                              [applied](Gateway::Admin::AdminReply reply) { applied->store(reply.status == 200); });
        QTRY_VERIFY_WITH_TIMEOUT(applied->load(), 10000);
        const auto refused = env.chat("chat", AgentKey.toByteArray());
        QCOMPARE(refused.status, 429);
        QVERIFY2(refused.body.contains("budget_exceeded"), refused.body.constData());

        source.pollNow();
        QCOMPARE(alert(agent), Gateway::BudgetRow::Alert::Hard);
        QCOMPARE(model.index(agent, Ui::BudgetTableModel::StatusColumn).data().toString(),
                 QStringLiteral("hard limit reached: refusing"));
        QCOMPARE(model.index(agent, Ui::BudgetTableModel::ExhaustionColumn).data().toString(), QStringLiteral("reached"));
        QCOMPARE(model.index(agent, Ui::BudgetTableModel::SpendColumn).data(Ui::BudgetTableModel::SpentFractionRole).toDouble(),
                 1.0);
        QCOMPARE(model.index(agent, Ui::BudgetTableModel::StatusColumn).data(Qt::ForegroundRole).value<QColor>(),
                 Ui::errorColor(QGuiApplication::palette()));
        // The team spent the same: past its 1% soft limit, below the hard one.
        QCOMPARE(alert(team), Gateway::BudgetRow::Alert::Soft);
        QCOMPARE(model.index(team, Ui::BudgetTableModel::StatusColumn).data(Qt::ForegroundRole).value<QColor>(),
                 Ui::warningColor(QGuiApplication::palette()));
        const double teamFraction =
            model.index(team, Ui::BudgetTableModel::SpendColumn).data(Ui::BudgetTableModel::SpentFractionRole).toDouble();
        QVERIFY2(teamFraction > 0.01 && teamFraction < 1.0, QByteArray::number(teamFraction).constData());
        // Tokens are counted too, far below a million.
        const double tokenFraction =
            model.index(agentTokens, Ui::BudgetTableModel::SpendColumn).data(Ui::BudgetTableModel::SpentFractionRole).toDouble();
        QVERIFY(tokenFraction > 0 && tokenFraction < 0.01);
        QCOMPARE(alert(agentTokens), Gateway::BudgetRow::Alert::None);
        // The unused key shows its (zero) spend and no alert.
        QCOMPARE(model.index(idle, Ui::BudgetTableModel::SpendColumn).data().toString(), QStringLiteral("$0.0000"));
        QCOMPARE(alert(idle), Gateway::BudgetRow::Alert::None);

        // The other key is unaffected by agent's budget; the team's is shared.
        QCOMPARE(env.chat("chat", "sk-idle-0123456789abcdef").status, 200);

        // The backends never changed state: the dashboard's age is the time since the
        // gateway first saw them, flagged as such.
        const auto snapshot = env.gateway().statusSnapshot();
        QVERIFY(!snapshot.backends.empty());
        QVERIFY(!snapshot.backends.front().healthTransitioned);
        QVERIFY(snapshot.backends.front().healthForMs >= 0);
    }
};

QTEST_MAIN(TestBudgetsView)
#include "testbudgetsview.moc"
