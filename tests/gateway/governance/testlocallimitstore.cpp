// Reservations against a key's and its team's limits: every dimension refuses with its
// name, value and reset time; settlement replaces the estimate with real usage; soft
// limits alert once per window; recovered spend counts; threads do not lose updates.

#include "governance/locallimitstore.h"
#include "governance/utcwindow.h"

#include <QTest>

#include <thread>
#include <vector>

using namespace Gateway::Governance;

namespace {

// 2026-11-22 12:00:00 UTC.
constexpr qint64 NOON = 1'795'348'800'000;

Subject keyWith(LocalLimitStore &store, const AccountLimits &limits, const QString &name = QStringLiteral("k"))
{
    Subject subject;
    subject.key = name;
    subject.keyLimits = limits;
    store.bind(subject);
    return subject;
}

} // namespace

class TestLocalLimitStore final : public QObject {
    Q_OBJECT

private slots:
    void rpmRefusesAndNamesItsResetTime() const
    {
        LocalLimitStore store;
        AccountLimits limits;
        limits.rates.rpm = 2;
        const Subject subject = keyWith(store, limits);
        Reservation r1, r2, r3;
        Refusal refusal;
        QVERIFY(store.reserve(&subject, 10, 0, NOON, r1, refusal));
        QVERIFY(store.reserve(&subject, 10, 0, NOON, r2, refusal));
        QVERIFY(!store.reserve(&subject, 10, 0, NOON, r3, refusal));
        QCOMPARE(refusal.kind, LimitKind::Rpm);
        QCOMPARE(refusal.limitValue, 2.0);
        QCOMPARE(refusal.subject, QStringLiteral("k"));
        QVERIFY(!refusal.team);
        QCOMPARE(refusal.resetAtMs, NOON + 30'000); // one request every 30 s
        QVERIFY(!r3.active);
        QVERIFY(r1.id != r2.id);
    }

    void tpmCountsTheEstimateAndSettlementCorrectsIt() const
    {
        LocalLimitStore store;
        AccountLimits limits;
        limits.rates.tpm = 1000;
        const Subject subject = keyWith(store, limits);
        Reservation first, second;
        Refusal refusal;
        QVERIFY(store.reserve(&subject, 900, 0, NOON, first, refusal));
        QVERIFY(!store.reserve(&subject, 200, 0, NOON, second, refusal));
        QCOMPARE(refusal.kind, LimitKind::Tpm);
        QCOMPARE(refusal.limitValue, 1000.0);
        SettleAlerts alerts;
        store.settle(first, 100, 0, NOON, alerts); // used far less than estimated
        QVERIFY(store.reserve(&subject, 200, 0, NOON, second, refusal));
    }

    void concurrencyFreesWhenARequestSettles() const
    {
        LocalLimitStore store;
        AccountLimits limits;
        limits.rates.maxConcurrent = 1;
        const Subject subject = keyWith(store, limits);
        Reservation first, second;
        Refusal refusal;
        QVERIFY(store.reserve(&subject, 1, 0, NOON, first, refusal));
        QVERIFY(!store.reserve(&subject, 1, 0, NOON, second, refusal));
        QCOMPARE(refusal.kind, LimitKind::Concurrency);
        SettleAlerts alerts;
        store.settle(first, 1, 0, NOON, alerts);
        store.settle(first, 1, 0, NOON, alerts); // idempotent
        QVERIFY(store.reserve(&subject, 1, 0, NOON, second, refusal));
        QVERIFY(!store.reserve(&subject, 1, 0, NOON, first, refusal));
    }

    void usdBudgetIsAHardStopUntilTheNextUtcDay() const
    {
        LocalLimitStore store;
        AccountLimits limits;
        limits.budgets.usdPerDay = 1.0;
        const Subject subject = keyWith(store, limits);
        Reservation r;
        Refusal refusal;
        SettleAlerts alerts;
        QVERIFY(store.reserve(&subject, 10, usdToNanos(0.5), NOON, r, refusal));
        store.settle(r, 10, usdToNanos(0.9), NOON, alerts); // real cost above the estimate
        // 0.9 spent: a request estimated at 0.2 would pass the budget.
        QVERIFY(!store.reserve(&subject, 10, usdToNanos(0.2), NOON, r, refusal));
        QCOMPARE(refusal.kind, LimitKind::UsdPerDay);
        QCOMPARE(refusal.limitValue, 1.0);
        QCOMPARE(refusal.resetAtMs, nextUtcDayStartMs(NOON));
        QVERIFY(store.reserve(&subject, 10, usdToNanos(0.05), NOON, r, refusal));
        // Tomorrow the day budget starts over.
        Reservation tomorrow;
        QVERIFY(store.reserve(&subject, 10, usdToNanos(0.5), NOON + MS_PER_DAY, tomorrow, refusal));
    }

    void monthAndTokenBudgets() const
    {
        LocalLimitStore store;
        AccountLimits limits;
        limits.budgets.usdPerMonth = 2.0;
        limits.budgets.tokensPerDay = 1000;
        limits.budgets.tokensPerMonth = 1500;
        const Subject subject = keyWith(store, limits);
        Reservation r;
        Refusal refusal;
        SettleAlerts alerts;
        QVERIFY(store.reserve(&subject, 900, 0, NOON, r, refusal));
        store.settle(r, 900, usdToNanos(1.5), NOON, alerts);
        QVERIFY(!store.reserve(&subject, 200, 0, NOON, r, refusal));
        QCOMPARE(refusal.kind, LimitKind::TokensPerDay);
        // Next day: the day's tokens reset, the month's do not.
        const qint64 tomorrow = NOON + MS_PER_DAY;
        QVERIFY(!store.reserve(&subject, 700, 0, tomorrow, r, refusal));
        QCOMPARE(refusal.kind, LimitKind::TokensPerMonth);
        QCOMPARE(refusal.resetAtMs, nextUtcMonthStartMs(NOON));
        QVERIFY(!store.reserve(&subject, 10, usdToNanos(0.6), tomorrow, r, refusal));
        QCOMPARE(refusal.kind, LimitKind::UsdPerMonth);
    }

    void inFlightReservationsCountAgainstTheBudget() const
    {
        LocalLimitStore store;
        AccountLimits limits;
        limits.budgets.usdPerDay = 1.0;
        const Subject subject = keyWith(store, limits);
        Reservation a, b;
        Refusal refusal;
        QVERIFY(store.reserve(&subject, 1, usdToNanos(0.6), NOON, a, refusal));
        QVERIFY(!store.reserve(&subject, 1, usdToNanos(0.6), NOON, b, refusal));
        QCOMPARE(refusal.kind, LimitKind::UsdPerDay);
    }

    void teamLimitsBindEveryKeyOfTheTeamAndRefuseWithoutCharging() const
    {
        LocalLimitStore store;
        Subject a;
        a.key = QStringLiteral("a");
        a.team = QStringLiteral("t");
        a.teamLimits.rates.rpm = 2;
        a.keyLimits.rates.tpm = 100;
        store.bind(a);
        Subject b = a;
        b.key = QStringLiteral("b");
        store.bind(b);
        Reservation r;
        Refusal refusal;
        QVERIFY(store.reserve(&a, 10, 0, NOON, r, refusal));
        // Key a's own tpm refuses: the team's rpm must not be charged for it.
        QVERIFY(!store.reserve(&a, 500, 0, NOON + 1, r, refusal));
        QCOMPARE(refusal.kind, LimitKind::Tpm);
        QVERIFY(store.reserve(&b, 10, 0, NOON, r, refusal));
        QVERIFY(!store.reserve(&b, 10, 0, NOON, r, refusal));
        QCOMPARE(refusal.kind, LimitKind::Rpm);
        QVERIFY(refusal.team);
        QCOMPARE(refusal.subject, QStringLiteral("t"));
    }

    void softLimitAlertsOncePerWindow() const
    {
        LocalLimitStore store;
        AccountLimits limits;
        limits.budgets.usdPerDay = 1.0;
        limits.budgets.softFraction = 0.5;
        const Subject subject = keyWith(store, limits);
        const auto spend = [&](double usd, qint64 at) {
            Reservation r;
            Refusal refusal;
            SettleAlerts alerts;
            if (!store.reserve(&subject, 1, 0, at, r, refusal)) {
                return -1;
            }
            store.settle(r, 1, usdToNanos(usd), at, alerts);
            return alerts.count;
        };
        QCOMPARE(spend(0.3, NOON), 0);
        QCOMPARE(spend(0.3, NOON), 1); // 0.6 >= 0.5
        QCOMPARE(spend(0.1, NOON), 0); // already alerted today
        QCOMPARE(spend(0.6, NOON + MS_PER_DAY), 1); // a new day, a new alert
    }

    void soft_alert_names_the_budget() const
    {
        LocalLimitStore store;
        AccountLimits limits;
        limits.budgets.tokensPerMonth = 100;
        const Subject subject = keyWith(store, limits);
        Reservation r;
        Refusal refusal;
        SettleAlerts alerts;
        QVERIFY(store.reserve(&subject, 10, 0, NOON, r, refusal));
        store.settle(r, 85, 0, NOON, alerts);
        QCOMPARE(alerts.count, 1);
        const SoftLimitAlert &alert = alerts.alerts[0];
        QCOMPARE(alert.kind, LimitKind::TokensPerMonth);
        QCOMPARE(alert.limitValue, 100.0);
        QCOMPARE(alert.spent, 85.0);
        QCOMPARE(alert.softFraction, 0.8);
        QCOMPARE(alert.windowStartMs, utcMonthStartMs(NOON));
    }

    void seededSpendCountsAndDoesNotRealert() const
    {
        LocalLimitStore store;
        RecoveredSpend recovered;
        recovered.totals.push_back({false, QStringLiteral("k"), usdToNanos(0.9), 10, usdToNanos(0.9), 10});
        recovered.nextReservationId = 1000;
        store.seed(recovered, NOON);
        AccountLimits limits;
        limits.budgets.usdPerDay = 1.0;
        const Subject subject = keyWith(store, limits);
        Reservation r;
        Refusal refusal;
        SettleAlerts alerts;
        QVERIFY(!store.reserve(&subject, 1, usdToNanos(0.2), NOON, r, refusal));
        QVERIFY(store.reserve(&subject, 1, usdToNanos(0.05), NOON, r, refusal));
        QVERIFY(r.id >= 1000);
        store.settle(r, 1, usdToNanos(0.05), NOON, alerts);
        QCOMPARE(alerts.count, 0); // 0.9 was already past 0.8 before the restart
    }

    void threadsLoseNoUpdates() const
    {
        LocalLimitStore store;
        AccountLimits limits;
        limits.rates.maxConcurrent = 1000;
        Subject subject;
        subject.key = QStringLiteral("k");
        subject.team = QStringLiteral("t");
        subject.keyLimits = limits;
        store.bind(subject);
        constexpr int PER_THREAD = 20000;
        const auto work = [&] {
            for (int i = 0; i < PER_THREAD; ++i) {
                Reservation r;
                Refusal refusal;
                SettleAlerts alerts;
                if (store.reserve(&subject, 10, 100, NOON, r, refusal)) {
                    store.settle(r, 3, 7, NOON, alerts);
                }
            }
        };
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back(work);
        }
        for (auto &thread : threads) {
            thread.join();
        }
        for (const AccountSnapshot &snapshot : store.snapshots(NOON)) {
            QCOMPARE(snapshot.usage.dayTokens, 4 * PER_THREAD * 3);
            QCOMPARE(snapshot.usage.dayNanos, 4 * PER_THREAD * 7);
            QCOMPARE(snapshot.usage.inFlight, 0);
            QCOMPARE(snapshot.usage.reservedTokens, 0);
        }
    }
};

QTEST_APPLESS_MAIN(TestLocalLimitStore)
#include "testlocallimitstore.moc"
