#include "routing/retrybudget.h"

#include <QTest>

#include <atomic>
#include <thread>
#include <vector>

using Gateway::Routing::RetryBudget;
using Gateway::Routing::RetryBudgetSettings;

namespace {

void start(RetryBudget &budget, int requests)
{
    for (int i = 0; i < requests; ++i) {
        budget.requestStarted();
    }
}

// How many retries can be taken before the first rejection.
int acquireAll(RetryBudget &budget)
{
    int taken = 0;
    while (budget.tryAcquireRetry()) {
        ++taken;
    }
    return taken;
}

} // namespace

class TestRetryBudget final : public QObject {
    Q_OBJECT

private slots:
    void floorAppliesAtLowLoad();
    void shareAppliesAtHighLoad();
    void shareRoundsDown();
    void releaseFreesASlot();
    void limitFollowsActiveRequests();
    void hedgeBudget();
    void unmatchedReleasesDoNotMintBudget();
    void concurrentUseKeepsCountersConsistent();
};

void TestRetryBudget::floorAppliesAtLowLoad()
{
    RetryBudget budget;
    QCOMPARE(budget.limit(), 3);
    QCOMPARE(acquireAll(budget), 3);
    QCOMPARE(budget.retriesInFlight(), 3);
    QCOMPARE(budget.rejectedRetries(), std::uint64_t {1});
    QVERIFY(!budget.tryAcquireRetry());
    QCOMPARE(budget.rejectedRetries(), std::uint64_t {2});
}

void TestRetryBudget::shareAppliesAtHighLoad()
{
    RetryBudget budget;
    start(budget, 100);
    QCOMPARE(budget.activeRequests(), 100);
    QCOMPARE(budget.limit(), 20);
    QCOMPARE(acquireAll(budget), 20);
    QCOMPARE(budget.rejectedRetries(), std::uint64_t {1});
}

void TestRetryBudget::shareRoundsDown()
{
    RetryBudget budget;
    start(budget, 24); // 4.8 -> 4
    QCOMPARE(budget.limit(), 4);
    RetryBudget floorWins;
    start(floorWins, 12); // 2.4 -> 2, below the floor of 3
    QCOMPARE(floorWins.limit(), 3);
    RetryBudget exact {RetryBudgetSettings {0.29, 0}};
    start(exact, 100); // 0.29 * 100 is 28.999... in binary: still 29
    QCOMPARE(exact.limit(), 29);
}

void TestRetryBudget::releaseFreesASlot()
{
    RetryBudget budget;
    QCOMPARE(acquireAll(budget), 3);
    budget.releaseRetry();
    QCOMPARE(budget.retriesInFlight(), 2);
    QVERIFY(budget.tryAcquireRetry());
    QVERIFY(!budget.tryAcquireRetry());
}

void TestRetryBudget::limitFollowsActiveRequests()
{
    RetryBudget budget;
    start(budget, 50); // limit 10
    QCOMPARE(acquireAll(budget), 10);
    for (int i = 0; i < 30; ++i) {
        budget.requestFinished(); // 20 active: limit 4, 10 retries still in flight
    }
    QCOMPARE(budget.limit(), 4);
    for (int i = 0; i < 6; ++i) {
        budget.releaseRetry();
        QVERIFY(!budget.tryAcquireRetry()); // 9..4 in flight: none may start
    }
    budget.releaseRetry(); // 3 in flight
    QVERIFY(budget.tryAcquireRetry());
    QVERIFY(!budget.tryAcquireRetry());
}

void TestRetryBudget::hedgeBudget()
{
    const RetryBudgetSettings settings = RetryBudget::hedgeSettings();
    QCOMPARE(settings.budgetPercent, 0.05);
    QCOMPARE(settings.minRetryConcurrency, 1);
    RetryBudget hedges {settings};
    QCOMPARE(acquireAll(hedges), 1);
    while (hedges.retriesInFlight() > 0) {
        hedges.releaseRetry();
    }
    start(hedges, 100);
    QCOMPARE(acquireAll(hedges), 5);
}

void TestRetryBudget::unmatchedReleasesDoNotMintBudget()
{
    RetryBudget budget;
    budget.releaseRetry();
    budget.requestFinished();
    QCOMPARE(budget.retriesInFlight(), 0);
    QCOMPARE(budget.activeRequests(), 0);
    QCOMPARE(acquireAll(budget), 3);
}

void TestRetryBudget::concurrentUseKeepsCountersConsistent()
{
    constexpr int BASE_ACTIVE = 100; // limit 20
    constexpr int THREADS = 8;
    constexpr int ROUNDS = 20000;
    constexpr int HELD = 5; // 8 x 5 = 40 wanted at once against 20 allowed
    RetryBudget budget;
    start(budget, BASE_ACTIVE);
    std::atomic<int> acquired {0};
    std::atomic<int> attempts {0};
    std::atomic<int> maxSeen {0};
    std::vector<std::thread> threads;
    for (int t = 0; t < THREADS; ++t) {
        threads.emplace_back([&] {
            for (int round = 0; round < ROUNDS; ++round) {
                // Traffic comes and goes too: each thread adds one request and removes it.
                budget.requestStarted();
                int held = 0;
                for (int i = 0; i < HELD; ++i) {
                    attempts.fetch_add(1, std::memory_order_relaxed);
                    if (budget.tryAcquireRetry()) {
                        ++held;
                        acquired.fetch_add(1, std::memory_order_relaxed);
                        const int inFlight = budget.retriesInFlight();
                        int seen = maxSeen.load(std::memory_order_relaxed);
                        while (inFlight > seen && !maxSeen.compare_exchange_weak(seen, inFlight)) {
                        }
                    }
                }
                for (int i = 0; i < held; ++i) {
                    budget.releaseRetry();
                }
                budget.requestFinished();
            }
        });
    }
    for (auto &thread : threads) {
        thread.join();
    }
    QCOMPARE(budget.retriesInFlight(), 0);
    QCOMPARE(budget.activeRequests(), BASE_ACTIVE);
    QCOMPARE(static_cast<std::uint64_t>(acquired.load()) + budget.rejectedRetries(),
             static_cast<std::uint64_t>(attempts.load()));
    // At most 108 active requests: the cap never exceeded floor(0.2 x 108) = 21.
    QVERIFY2(maxSeen.load() <= 21, qPrintable(QString::number(maxSeen.load())));
    QVERIFY(acquired.load() > 0);
}

QTEST_APPLESS_MAIN(TestRetryBudget)
#include "testretrybudget.moc"
