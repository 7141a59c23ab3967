#include "logconsole.h"
#include "terminalframe.h"

#include "governance/account.h"
#include "governance/utcwindow.h"
#include "runtime/budgetrows.h"
#include "runtime/statussnapshot.h"

#include <QDateTime>
#include <QRegularExpression>
#include <QTest>

namespace {

using Gateway::Governance::NANOS_PER_USD;

// Noon of some UTC day, so no budget window ends within the test's projections.
constexpr qint64 Now = 20'000 * Gateway::Governance::MS_PER_DAY + 12 * 3600 * 1000;

Gateway::StatusSnapshot snapshot()
{
    Gateway::StatusSnapshot s;
    s.baseUrl = QStringLiteral("http://127.0.0.1:8420/v1");
    Gateway::BackendStatus a;
    a.id = QStringLiteral("sim/fast");
    a.providerType = QStringLiteral("vllm");
    a.health = QStringLiteral("healthy");
    a.healthForMs = 65'000;
    a.requests = 100;
    Gateway::BackendStatus b = a;
    b.id = QStringLiteral("sim/slow");
    b.health = QStringLiteral("failed");
    b.healthForMs = 3 * 3600 * 1000 + 5 * 60 * 1000;
    s.backends = {a, b};
    Gateway::RouteStatus route;
    route.model = "chat";
    route.strategy = QStringLiteral("adaptive");
    Gateway::RouteTargetStatus fast;
    fast.backendIndex = 0;
    fast.share = 0.5;
    fast.effectiveWeight = 3;
    Gateway::RouteTargetStatus slow = fast;
    slow.backendIndex = 1;
    slow.effectiveWeight = 1;
    route.targets = {fast, slow};
    s.routes = {route};
    return s;
}

Gateway::BudgetStatus subject(const char *name, bool team, double usdPerDay, double spentUsd, qint64 atMs)
{
    Gateway::BudgetStatus status;
    status.isTeam = team;
    status.name = QString::fromUtf8(name);
    status.budgets.usdPerDay = usdPerDay;
    status.usage.dayNanos = static_cast<qint64>(spentUsd * static_cast<double>(NANOS_PER_USD));
    status.atMs = atMs;
    return status;
}

// Two readings a minute apart, as the console's timer takes them: team "research" past
// its soft limit, key "agent" burning $60/h towards its $5, key "capped" at its limit.
QList<Gateway::BudgetRow> budgets()
{
    Gateway::BudgetRowTracker tracker;
    tracker.update({subject("research", true, 10, 8.4, Now - 60'000), subject("agent", false, 5, 1, Now - 60'000),
                    subject("capped", false, 1, 1, Now - 60'000)});
    return tracker.update({subject("research", true, 10, 8.5, Now), subject("agent", false, 5, 2, Now),
                           subject("capped", false, 1, 1, Now)});
}

// The frame as the operator reads it: styles dropped, one string per screen line.
QStringList visibleLines(const QByteArray &frame)
{
    static const QRegularExpression sgr {QStringLiteral("\x1b\\[[0-9;?]*[A-Za-z]")};
    QString text = QString::fromUtf8(frame);
    text.remove(sgr);
    return text.split(QStringLiteral("\r\n"));
}

QString lineWith(const QStringList &lines, const QString &needle)
{
    for (const QString &line : lines) {
        if (line.contains(needle)) {
            return line;
        }
    }
    return {};
}

} // namespace

class TestTerminalFrame final : public QObject {
    Q_OBJECT

private slots:
    void budgetsViewShowsSpendBurnAndAlerts() const
    {
        const Gateway::StatusSnapshot status = snapshot();
        const QList<Gateway::BudgetRow> rows = budgets();
        QCOMPARE(rows.size(), 3);
        QCOMPARE(rows[1].burnPerHour, std::optional<double> {60.0}); // $1 in a minute
        const QByteArray frame = renderTerminalFrame({status, rows, Now}, 140, 30, App::TerminalView::Budgets);
        const QStringList lines = visibleLines(frame);
        QCOMPARE(lines.size(), 30);

        const QString agent = lineWith(lines, QStringLiteral("key agent"));
        QVERIFY2(agent.startsWith(QLatin1Char('!')), qPrintable(agent)); // projected exhaustion is an alert
        QVERIFY2(agent.contains(QStringLiteral("$2.0000")) && agent.contains(QStringLiteral("$5.0000")), qPrintable(agent));
        QVERIFY2(agent.contains(QStringLiteral("40%")), qPrintable(agent));
        QVERIFY2(agent.contains(QStringLiteral("$60.00/h")), qPrintable(agent));
        QVERIFY2(agent.contains(QStringLiteral("in 3m")), qPrintable(agent)); // $3 left at $60/h
        QVERIFY2(agent.contains(QStringLiteral("runs out early")), qPrintable(agent));
        // The bar: filled in proportion to the spend.
        const QRegularExpressionMatch bar = QRegularExpression {QStringLiteral("\\[(#*)(-*)\\]")}.match(agent);
        QVERIFY2(bar.hasMatch(), qPrintable(agent));
        const double filled = static_cast<double>(bar.captured(1).size());
        const double inner = filled + static_cast<double>(bar.captured(2).size());
        QVERIFY2(inner >= 6 && qAbs(filled / inner - 0.4) <= 0.5 / inner, qPrintable(agent));

        const QString team = lineWith(lines, QStringLiteral("team research"));
        QVERIFY2(team.startsWith(QLatin1Char('!')) && team.contains(QStringLiteral("soft limit 80%")), qPrintable(team));
        QVERIFY2(team.contains(QStringLiteral("85%")), qPrintable(team));
        const QString capped = lineWith(lines, QStringLiteral("key capped"));
        QVERIFY2(capped.contains(QStringLiteral("HARD: refusing")) && capped.contains(QStringLiteral("[###")),
                 qPrintable(capped));
        QVERIFY2(capped.contains(QStringLiteral("$0.0000/h")), qPrintable(capped));
        // The reached budget is in bold red; the others' alerts in yellow.
        QVERIFY(frame.contains("\x1b[1;31mHARD: refusing"));
        QVERIFY(frame.contains("\x1b[33mruns out early"));

        // Key hints on the last line, the current view highlighted; no route table here.
        QVERIFY2(lines.last().contains(QStringLiteral("4 budgets")), qPrintable(lines.last()));
        QVERIFY(frame.contains("\x1b[7m4 budgets"));
        QVERIFY(lineWith(lines, QStringLiteral("ROUTE / TARGET")).isEmpty());
    }

    void budgetsViewWithoutBurnRateOrBudget() const
    {
        const Gateway::StatusSnapshot status = snapshot();
        Gateway::BudgetRowTracker tracker;
        Gateway::BudgetStatus free = subject("free", false, 0, 0.25, Now);
        const QList<Gateway::BudgetRow> rows = tracker.update({subject("fresh", false, 5, 1, Now), free});
        const QStringList lines = visibleLines(renderTerminalFrame({status, rows, Now}, 140, 12, App::TerminalView::Budgets));
        const QString fresh = lineWith(lines, QStringLiteral("key fresh"));
        QVERIFY2(fresh.contains(QStringLiteral("measuring")) && !fresh.startsWith(QLatin1Char('!')), qPrintable(fresh));
        const QString none = lineWith(lines, QStringLiteral("key free"));
        QVERIFY2(none.contains(QStringLiteral("no budget")) && none.contains(QStringLiteral("$0.2500")), qPrintable(none));

        const QStringList empty = visibleLines(renderTerminalFrame({status, {}, Now}, 100, 10, App::TerminalView::Budgets));
        QVERIFY(!lineWith(empty, QStringLiteral("no teams or keys in the policy")).isEmpty());
    }

    // A request's estimate shrinks to its real cost when it ends, so spend with estimates
    // can go down; the burn rate follows committed spend and does not start over.
    void burnRateIgnoresInFlightEstimates() const
    {
        Gateway::BudgetRowTracker tracker;
        Gateway::BudgetStatus first = subject("agent", false, 5, 1, Now - 60'000);
        first.usage.reservedNanos = NANOS_PER_USD; // $1 estimated in flight
        tracker.update({first});
        const QList<Gateway::BudgetRow> rows = tracker.update({subject("agent", false, 5, 1.5, Now)});
        QCOMPARE(rows.size(), 1);
        QCOMPARE(rows[0].spent, 1.5);
        QCOMPARE(rows[0].burnPerHour, std::optional<double> {30.0});
    }

    void routesShowLiveWeightAndHealth() const
    {
        const Gateway::StatusSnapshot status = snapshot();
        const QList<Gateway::BudgetRow> rows = budgets();
        const QStringList lines = visibleLines(renderTerminalFrame({status, rows, Now}, 160, 40, App::TerminalView::All));
        const QString fast = lineWith(lines, QStringLiteral("  sim/fast"));
        QVERIFY2(fast.contains(QStringLiteral("healthy 1m")) && fast.contains(QStringLiteral(" 75%")), qPrintable(fast));
        const QString slow = lineWith(lines, QStringLiteral("  sim/slow"));
        QVERIFY2(slow.contains(QStringLiteral("failed 3h05m")) && slow.contains(QStringLiteral(" 25%")), qPrintable(slow));
        // "All" has every section, budgets included.
        QVERIFY(!lineWith(lines, QStringLiteral("BACKEND")).isEmpty());
        QVERIFY(!lineWith(lines, QStringLiteral("key agent")).isEmpty());
    }

    void prefillDecodePoolsAreLabelled() const
    {
        Gateway::StatusSnapshot status = snapshot();
        status.routes[0].hasPrefillPool = true;
        status.routes[0].targets[0].pool = QStringLiteral("prefill");
        status.routes[0].targets[1].pool = QStringLiteral("decode");
        status.routes[0].disaggregated = 1;
        status.routes[0].aggregated = 3;
        const QStringList lines = visibleLines(renderTerminalFrame({status, budgets(), Now}, 160, 40, App::TerminalView::All));
        QVERIFY2(!lineWith(lines, QStringLiteral("  sim/fast [prefill]")).isEmpty(), qPrintable(lines.join(u'\n')));
        QVERIFY2(!lineWith(lines, QStringLiteral("  sim/slow [decode]")).isEmpty(), qPrintable(lines.join(u'\n')));
        QVERIFY2(!lineWith(lines, QStringLiteral("chat adaptive P/D 25%")).isEmpty(), qPrintable(lines.join(u'\n')));
    }

    // A resize is a render at the new size: every frame fills exactly the screen and no
    // line is wider than it, so nothing wraps or scrolls and no old text stays behind.
    void everySizeFitsTheScreen() const
    {
        Gateway::StatusSnapshot status = snapshot();
        QList<Gateway::BudgetRow> rows = budgets();
        Gateway::BudgetRowTracker tracker;
        // A name from configuration must not smuggle control sequences in.
        rows.append(tracker.update({subject("evil\x1b[2J\x07name", false, 2, 1, Now)}));
        for (const App::TerminalView view : {App::TerminalView::All, App::TerminalView::Routes,
                                             App::TerminalView::Backends, App::TerminalView::Budgets}) {
            for (const auto &[width, height] : {std::pair {20, 5}, std::pair {60, 12}, std::pair {80, 24},
                                                std::pair {132, 43}, std::pair {250, 70}}) {
                const QByteArray frame = renderTerminalFrame({status, rows, Now}, width, height, view);
                QVERIFY(!frame.contains("\x1b[2J"));
                QVERIFY(!frame.contains('\x07'));
                const QStringList lines = visibleLines(frame);
                QCOMPARE(lines.size(), height);
                for (const QString &line : lines) {
                    QVERIFY2(line.size() <= width, qPrintable(QStringLiteral("%1x%2: %3").arg(width).arg(height).arg(line)));
                    QVERIFY(!line.contains(QLatin1Char('\n')));
                }
            }
        }
        // Too short for everything: the body says what it cut, the key hints stay.
        const QStringList cut = visibleLines(renderTerminalFrame({status, rows, Now}, 100, 8, App::TerminalView::All));
        QVERIFY(!lineWith(cut, QStringLiteral("more lines")).isEmpty());
        QVERIFY(cut.last().contains(QStringLiteral("q quit")));
    }

    void keysPickViews() const
    {
        QCOMPARE(App::terminalViewForKey('1'), std::optional {App::TerminalView::All});
        QCOMPARE(App::terminalViewForKey('4'), std::optional {App::TerminalView::Budgets});
        QVERIFY(!App::terminalViewForKey('5'));
        QVERIFY(!App::terminalViewForKey('x'));
        App::TerminalView view = App::TerminalView::All;
        QStringList seen;
        for (int i = 0; i < 4; ++i) {
            view = App::nextTerminalView(view);
            seen.append(App::terminalViewName(view));
        }
        QCOMPARE(seen, (QStringList {QStringLiteral("routes"), QStringLiteral("backends"), QStringLiteral("budgets"),
                                     QStringLiteral("all")}));
    }

    // Not a terminal: the same budgets as logfmt lines, alerts at level=warn.
    void logLinesCarryBudgets() const
    {
        const QDateTime at = QDateTime::fromMSecsSinceEpoch(Now, Qt::UTC);
        const QByteArray out = App::LogConsole::formatStats(snapshot(), budgets(), at);
        const QList<QByteArray> lines = out.split('\n');
        auto line = [&lines](QByteArrayView needle) {
            for (const QByteArray &l : lines) {
                if (l.contains(needle)) {
                    return l;
                }
            }
            return QByteArray {};
        };
        QVERIFY(line("backend=sim/slow").contains("health=failed"));
        const QByteArray agent = line("name=agent");
        QVERIFY2(agent.contains("msg=\"budget stats\"") && agent.contains("level=warn"), agent.constData());
        QVERIFY2(agent.contains("scope=key") && agent.contains("window=day") && agent.contains("unit=usd"), agent.constData());
        QVERIFY2(agent.contains("spent=2.0000") && agent.contains("limit=5.00"), agent.constData());
        QVERIFY2(agent.contains("burn_per_hour=60.0000") && agent.contains("alert=projected"), agent.constData());
        const QString exhausts = QDateTime::fromMSecsSinceEpoch(Now + 3 * 60'000, Qt::UTC).toString(Qt::ISODateWithMs);
        QVERIFY2(agent.contains(QByteArray {"exhausts_at=" + exhausts.toUtf8()}), agent.constData());
        QVERIFY(line("name=research").contains("alert=soft"));
        QVERIFY(line("name=capped").contains("alert=hard"));
        for (const QByteArray &l : lines) {
            QVERIFY(!l.contains('\x1b'));
        }
    }
};

QTEST_APPLESS_MAIN(TestTerminalFrame)
#include "testterminalframe.moc"
