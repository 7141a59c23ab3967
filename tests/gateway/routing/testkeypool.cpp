#include "routing/keypool.h"

#include "strategytestsupport.h"

#include <QTest>

#include <atomic>
#include <cmath>
#include <deque>
#include <thread>
#include <vector>

using Gateway::Routing::HealthState;
using Gateway::Routing::KeyPool;
using Gateway::Routing::KeyPoolSettings;
using Gateway::Routing::KeyStatus;
using Gateway::Routing::ProviderKey;
using Gateway::Routing::RateLimitHeaders;
using Gateway::Routing::Rng;
using Gateway::Routing::XoshiroRng;

using StrategyTest::ScriptedRng;

namespace {

std::vector<ProviderKey> keys(const std::vector<std::pair<int, std::int64_t>> &limits)
{
    std::vector<ProviderKey> result;
    for (std::size_t i = 0; i < limits.size(); ++i) {
        result.push_back({QStringLiteral("key-%1").arg(i), limits[i].first, limits[i].second});
    }
    return result;
}

// How often each key is picked in `rounds` picks at `nowMs` (-1 counted separately).
std::vector<int> pickCounts(KeyPool &pool, qint64 nowMs, int rounds, Rng &rng, int *none = nullptr)
{
    std::vector<int> counts(static_cast<std::size_t>(pool.size()), 0);
    for (int i = 0; i < rounds; ++i) {
        const int key = pool.pick(nowMs, 0, rng);
        if (key < 0) {
            if (none != nullptr) {
                ++*none;
            }
            continue;
        }
        ++counts[static_cast<std::size_t>(key)];
    }
    return counts;
}

} // namespace

class TestKeyPool final : public QObject {
    Q_OBJECT

private slots:
    void unlimitedKeysShareEvenly();
    void avoidedKeyOnlyWhenNoOtherCan();
    void pickUsesCumulativeHeadroomWeights();
    void headroomWeightedShare();
    void keyAfter429GetsNoPicksUntilRetryAfter();
    void repeated429sBackOffExponentially();
    void rpmLimitRespectedExactlyInAMinute();
    void rpmHoldsInEverySlidingMinute();
    void tpmLimitAndIdleOversizeRequest();
    void settleCorrectsReservation();
    void nextAvailableMs();
    void remainingZeroCoolsDownUntilReset();
    void upstreamRemainingIsDiscountedByLaterPicks();
    void upstreamLimitScalesHeadroom();
    void failedKeyIsSkippedAndProbedWhenHalfOpen();
    void statusReportsPerKeyState();
    void concurrentPicksKeepCountersConsistent();
};

void TestKeyPool::unlimitedKeysShareEvenly()
{
    constexpr int ROUNDS = 60000;
    constexpr double TOLERANCE = 0.01; // about 5 standard deviations at p = 1/3
    KeyPool pool {keys({{0, 0}, {0, 0}, {0, 0}})};
    XoshiroRng rng {1};
    const auto counts = pickCounts(pool, 0, ROUNDS, rng);
    for (const int count : counts) {
        const double share = static_cast<double>(count) / ROUNDS;
        QVERIFY2(std::abs(share - 1.0 / 3) <= TOLERANCE, qPrintable(QString::number(share)));
    }
}

void TestKeyPool::avoidedKeyOnlyWhenNoOtherCan()
{
    KeyPool pool {keys({{0, 0}, {0, 0}})};
    XoshiroRng rng {3};
    for (int i = 0; i < 1000; ++i) {
        QCOMPARE(pool.pick(i, 0, rng, nullptr, 0), 1);
    }
    // Key 1 cools down: the avoided key is still better than refusing.
    pool.observe429(1, 60000, 1000);
    QCOMPARE(pool.pick(1001, 0, rng, nullptr, 0), 0);
}

void TestKeyPool::pickUsesCumulativeHeadroomWeights()
{
    // Key 0 has 3/4 of its tpm used: weights 0.25 and 1 (total 1.25).
    KeyPool pool {keys({{0, 1000}, {0, 1000}})};
    pool.settle(0, 0, 750, 0);
    ScriptedRng rng {{0.19, 0.21, 0.0, 0.999}};
    QCOMPARE(pool.pick(0, 0, rng), 0); // 0.19 * 1.25 = 0.2375 < 0.25
    QCOMPARE(pool.pick(0, 0, rng), 1); // 0.2625
    QCOMPARE(pool.pick(0, 0, rng), 0);
    QCOMPARE(pool.pick(0, 0, rng), 1);
}

void TestKeyPool::headroomWeightedShare()
{
    constexpr int ROUNDS = 100000;
    constexpr double TOLERANCE = 0.01;
    // Token headroom 0.25, unlimited (1.0), 1.0. Picks of 0 tokens do not move it.
    KeyPool pool {keys({{0, 1000}, {0, 0}, {100000000, 1000}})};
    pool.settle(0, 0, 750, 0);
    XoshiroRng rng {7};
    const auto counts = pickCounts(pool, 0, ROUNDS, rng);
    const double expected[] = {0.25 / 2.25, 1.0 / 2.25, 1.0 / 2.25};
    for (std::size_t i = 0; i < 3; ++i) {
        const double share = static_cast<double>(counts[i]) / ROUNDS;
        QVERIFY2(std::abs(share - expected[i]) <= TOLERANCE,
                 qPrintable(QStringLiteral("key %1 share %2, expected %3").arg(i).arg(share).arg(expected[i])));
    }
}

void TestKeyPool::keyAfter429GetsNoPicksUntilRetryAfter()
{
    KeyPool pool {keys({{0, 0}, {0, 0}, {0, 0}})};
    XoshiroRng rng {3};
    pool.observe429(1, 2000, 1000);
    int picks = 0;
    std::vector<int> counts(3, 0);
    for (qint64 t = 1000; t < 3000; t += 10) {
        for (int i = 0; i < 10; ++i) {
            const int key = pool.pick(t, 0, rng);
            QVERIFY(key >= 0);
            ++counts[static_cast<std::size_t>(key)];
            ++picks;
        }
    }
    QCOMPARE(counts[1], 0);
    QCOMPARE(counts[0] + counts[2], picks);
    QVERIFY(counts[0] > picks / 3 && counts[2] > picks / 3);
    QVERIFY(pool.status(2999)[1].coolingDown);
    QCOMPARE(pool.status(2999)[1].coolingUntilMs, qint64 {3000});

    const auto after = pickCounts(pool, 3000, 3000, rng);
    QVERIFY2(after[1] > 800, qPrintable(QString::number(after[1]))); // back to about a third
    QVERIFY(!pool.status(3000)[1].coolingDown);
}

void TestKeyPool::repeated429sBackOffExponentially()
{
    KeyPoolSettings settings;
    settings.defaultCooldownMs = 1000;
    settings.maxCooldownMs = 5000;
    KeyPool pool {keys({{0, 0}}), settings};
    qint64 now = 0;
    const qint64 expected[] = {1000, 2000, 4000, 5000, 5000};
    for (const qint64 cooldown : expected) {
        pool.observe429(0, -1, now);
        QCOMPARE(pool.status(now)[0].coolingUntilMs - now, cooldown);
        now += cooldown; // the next 429 arrives right after the cool-down ended
    }
    // 429s of requests already in flight during a cool-down do not double it.
    KeyPool echo {keys({{0, 0}}), settings};
    echo.observe429(0, -1, 0);
    QCOMPARE(echo.status(0)[0].coolingUntilMs, qint64 {1000});
    echo.observe429(0, -1, 500);
    QCOMPARE(echo.status(500)[0].coolingUntilMs, qint64 {1500}); // extended, not doubled
    echo.observe429(0, -1, 1500);
    QCOMPARE(echo.status(1500)[0].coolingUntilMs, qint64 {3500}); // a fresh 429: doubled
    // A success resets the doubling.
    now += 1000;
    pool.recordSuccess(0, now, false);
    pool.observe429(0, -1, now);
    QCOMPARE(pool.status(now)[0].coolingUntilMs - now, qint64 {1000});
    // An explicit retry-after wins over the backoff.
    now += 1000;
    pool.observe429(0, 250, now);
    QCOMPARE(pool.status(now)[0].coolingUntilMs - now, qint64 {250});
}

void TestKeyPool::rpmLimitRespectedExactlyInAMinute()
{
    KeyPool pool {keys({{5, 0}})};
    XoshiroRng rng {5};
    for (qint64 t = 0; t < 50000; t += 10000) {
        QCOMPARE(pool.pick(t, 0, rng), 0);
    }
    QCOMPARE(pool.pick(50000, 0, rng), -1);
    // The pick at t = 0 leaves the minute once its 100 ms bucket is older than 60 s.
    QCOMPARE(pool.nextAvailableMs(50000), qint64 {60100});
    QCOMPARE(pool.pick(60099, 0, rng), -1);
    QCOMPARE(pool.pick(60100, 0, rng), 0);
    QCOMPARE(pool.pick(60100, 0, rng), -1);
    QCOMPARE(pool.nextAvailableMs(60100), qint64 {70100});
    QCOMPARE(pool.status(60100)[0].usedRequestsLastMinute, 5);
}

void TestKeyPool::rpmHoldsInEverySlidingMinute()
{
    constexpr int RPM = 7;
    KeyPool pool {keys({{RPM, 0}})};
    XoshiroRng rng {11};
    std::deque<qint64> recent;
    int total = 0;
    for (qint64 t = 0; t < 300000; t += 37) {
        if (pool.pick(t, 0, rng) < 0) {
            continue;
        }
        ++total;
        recent.push_back(t);
        while (recent.front() <= t - 60000) {
            recent.pop_front();
        }
        QVERIFY2(recent.size() <= std::size_t {RPM},
                 qPrintable(QStringLiteral("%1 picks in the minute to %2").arg(recent.size()).arg(t)));
    }
    // And the budget is actually used: RPM per ~60.1 s over 300 s.
    QVERIFY2(total >= 4 * RPM + 1, qPrintable(QString::number(total)));
}

void TestKeyPool::tpmLimitAndIdleOversizeRequest()
{
    XoshiroRng rng {9};
    KeyPool pool {keys({{0, 1000}})};
    QCOMPARE(pool.pick(0, 600, rng), 0);
    QCOMPARE(pool.pick(0, 600, rng), -1); // 1200 > 1000
    QCOMPARE(pool.pick(0, 400, rng), 0); // exactly 1000
    QCOMPARE(pool.pick(0, 1, rng), -1);
    QCOMPARE(pool.nextAvailableMs(0, 1), qint64 {60100});

    // A request larger than the whole tpm still goes out on an idle key.
    KeyPool idle {keys({{0, 1000}})};
    QCOMPARE(idle.pick(0, 5000, rng), 0);
    QCOMPARE(idle.pick(0, 1, rng), -1);
    QCOMPARE(idle.status(0)[0].tokenHeadroom, 0.0);
}

void TestKeyPool::settleCorrectsReservation()
{
    XoshiroRng rng {13};
    KeyPool pool {keys({{0, 1000}})};
    QCOMPARE(pool.pick(1000, 600, rng), 0);
    pool.settle(0, 600, 100, 5000, 1000); // refund 500 off the reservation made at t = 1000
    QCOMPARE(pool.status(5000)[0].usedTokensLastMinute, std::int64_t {100});
    QCOMPARE(pool.pick(5000, 900, rng), 0);
    QCOMPARE(pool.status(5000)[0].usedTokensLastMinute, std::int64_t {1000});
    // The 100 left of the first reservation expire with its bucket, the 900 later.
    QCOMPARE(pool.status(61100)[0].usedTokensLastMinute, std::int64_t {900});
    QCOMPARE(pool.status(65100)[0].usedTokensLastMinute, std::int64_t {0});

    // More than reserved counts from the settle time.
    KeyPool more {keys({{0, 1000}})};
    QCOMPARE(more.pick(0, 100, rng), 0);
    more.settle(0, 100, 300, 30000);
    QCOMPARE(more.status(30000)[0].usedTokensLastMinute, std::int64_t {300});
    QCOMPARE(more.status(60100)[0].usedTokensLastMinute, std::int64_t {200});
    QCOMPARE(more.status(90100)[0].usedTokensLastMinute, std::int64_t {0});

    // Without the pick time the refund comes off the newest usage, never below zero.
    KeyPool approx {keys({{0, 1000}})};
    QCOMPARE(approx.pick(0, 400, rng), 0);
    approx.settle(0, 400, 0, 2000);
    QCOMPARE(approx.status(2000)[0].usedTokensLastMinute, std::int64_t {0});
    approx.settle(0, 400, 0, 2000); // a duplicate settle cannot go negative
    QCOMPARE(approx.status(2000)[0].usedTokensLastMinute, std::int64_t {0});
}

void TestKeyPool::nextAvailableMs()
{
    XoshiroRng rng {17};
    KeyPool pool {keys({{0, 0}, {0, 0}})};
    QCOMPARE(pool.nextAvailableMs(1000), qint64 {1000}); // available now
    pool.observe429(0, 4000, 1000);
    QCOMPARE(pool.nextAvailableMs(1000), qint64 {1000}); // key 1 still is
    pool.observe429(1, 2000, 1000);
    QCOMPARE(pool.pick(1000, 0, rng), -1);
    QCOMPARE(pool.nextAvailableMs(1000), qint64 {3000});
    QCOMPARE(pool.pick(2999, 0, rng), -1);
    QCOMPARE(pool.pick(3000, 0, rng), 1);

    // A key with an open circuit becomes available when it half-opens.
    KeyPool broken {keys({{0, 0}})};
    for (int i = 0; i < 5; ++i) {
        broken.recordFailure(0, 100, "HTTP 401", false);
    }
    QCOMPARE(broken.pick(100, 0, rng), -1);
    QCOMPARE(broken.nextAvailableMs(100), qint64 {5100});
}

void TestKeyPool::remainingZeroCoolsDownUntilReset()
{
    XoshiroRng rng {19};
    KeyPool pool {keys({{0, 0}, {0, 0}})};
    RateLimitHeaders headers;
    headers.remainingRequests = 0;
    headers.resetRequestsMs = 1500;
    pool.observeHeaders(0, headers, 1000);
    const auto during = pickCounts(pool, 2499, 200, rng);
    QCOMPARE(during[0], 0);
    QCOMPARE(during[1], 200);
    const auto after = pickCounts(pool, 2500, 200, rng);
    QVERIFY(after[0] > 0);

    // Tokens exhausted without a reset time: the default cool-down.
    RateLimitHeaders tokens;
    tokens.remainingTokens = 0;
    pool.observeHeaders(1, tokens, 10000);
    QVERIFY(pool.status(10000)[1].coolingDown);
    QCOMPARE(pool.status(10000)[1].coolingUntilMs, qint64 {11000});
}

void TestKeyPool::upstreamRemainingIsDiscountedByLaterPicks()
{
    XoshiroRng rng {23};
    KeyPool pool {keys({{0, 0}})};
    RateLimitHeaders headers;
    headers.remainingRequests = 2;
    headers.resetRequestsMs = 10000;
    pool.observeHeaders(0, headers, 0);
    QCOMPARE(pool.pick(100, 0, rng), 0);
    QCOMPARE(pool.pick(200, 0, rng), 0);
    QCOMPARE(pool.pick(300, 0, rng), -1);
    QCOMPARE(pool.nextAvailableMs(300), qint64 {10000});
    QCOMPARE(pool.pick(10000, 0, rng), 0); // reset passed: the old numbers no longer apply
}

void TestKeyPool::upstreamLimitScalesHeadroom()
{
    KeyPool pool {keys({{0, 0}, {0, 0}})};
    RateLimitHeaders headers;
    headers.remainingRequests = 25;
    headers.limitRequests = 100;
    headers.resetRequestsMs = 30000;
    headers.remainingTokens = 5000;
    headers.limitTokens = 10000;
    headers.resetTokensMs = 30000;
    pool.observeHeaders(0, headers, 0);
    const auto status = pool.status(0);
    QCOMPARE(status[0].requestHeadroom, 0.25);
    QCOMPARE(status[0].tokenHeadroom, 0.5);
    QCOMPARE(status[1].requestHeadroom, 1.0);
    // Weight min(0.25, 0.5) = 0.25 against 1: u * 1.25 below 0.25 picks key 0.
    ScriptedRng rng {{0.19, 0.21}};
    QCOMPARE(pool.pick(0, 0, rng), 0);
    QCOMPARE(pool.pick(0, 0, rng), 1);
    QCOMPARE(pool.status(0)[0].requestHeadroom, 0.24); // one pick since the headers
}

void TestKeyPool::failedKeyIsSkippedAndProbedWhenHalfOpen()
{
    XoshiroRng rng {29};
    KeyPool pool {keys({{0, 0}, {0, 0}})};
    for (int i = 0; i < 5; ++i) {
        pool.recordFailure(0, 0, "HTTP 401", false);
    }
    QCOMPARE(pool.status(0)[0].health, HealthState::Failed);
    QCOMPARE(pickCounts(pool, 4999, 500, rng)[0], 0);

    // Half-open from 5000: callers that cannot report probes never get the key...
    QCOMPARE(pickCounts(pool, 5000, 500, rng)[0], 0);
    // ...callers that can get it as a probe, one at a time.
    int probes = 0;
    for (int i = 0; i < 500; ++i) {
        bool probe = true;
        const int key = pool.pick(5000, 0, rng, &probe);
        QCOMPARE(probe, key == 0);
        probes += probe ? 1 : 0;
    }
    QCOMPARE(probes, 1);
    // Three probe successes start the ramp; then the key takes ordinary picks again.
    pool.recordSuccess(0, 5000, true);
    for (int i = 0; i < 2; ++i) {
        bool probe = false;
        int key = -1;
        while (key != 0) {
            key = pool.pick(5000, 0, rng, &probe);
        }
        QVERIFY(probe);
        pool.recordSuccess(0, 5000, true);
    }
    QCOMPARE(pool.status(5000)[0].health, HealthState::Recovering);
    QVERIFY(pickCounts(pool, 5000, 2000, rng)[0] > 0);
    QCOMPARE(pool.health(0).takeEvents().size(), std::size_t {3}); // H->F, F->R, R->R (ramp)
}

void TestKeyPool::statusReportsPerKeyState()
{
    ScriptedRng rng {{0.1, 0.1, 0.9}};
    KeyPool pool(std::vector<ProviderKey> {{QStringLiteral("primary"), 10, 1000}, {QStringLiteral("backup"), 0, 0}});
    QCOMPARE(pool.size(), 2);
    QCOMPARE(pool.pick(0, 100, rng), 0);
    QCOMPARE(pool.pick(0, 100, rng), 0);
    QCOMPARE(pool.pick(0, 100, rng), 1);
    pool.observe429(1, 500, 0);
    const auto status = pool.status(100);
    QCOMPARE(status.size(), std::size_t {2});
    QCOMPARE(status[0].name, QStringLiteral("primary"));
    QCOMPARE(status[0].usedRequestsLastMinute, 2);
    QCOMPARE(status[0].usedTokensLastMinute, std::int64_t {200});
    QCOMPARE(status[0].requestHeadroom, 0.8);
    QCOMPARE(status[0].tokenHeadroom, 0.8);
    QVERIFY(!status[0].coolingDown);
    QCOMPARE(status[0].health, HealthState::Healthy);
    QCOMPARE(status[1].name, QStringLiteral("backup"));
    QCOMPARE(status[1].usedRequestsLastMinute, 1);
    QCOMPARE(status[1].requestHeadroom, 1.0);
    QVERIFY(status[1].coolingDown);
    QCOMPARE(status[1].coolingUntilMs, qint64 {500});
}

void TestKeyPool::concurrentPicksKeepCountersConsistent()
{
    constexpr int THREADS = 4;
    constexpr int PER_THREAD = 5000;
    constexpr int RPM = 12000; // less than the 20000 attempts: some picks must fail
    KeyPool pool {keys({{RPM / 2, 0}, {RPM / 2, 0}})};
    std::atomic<int> picked {0};
    std::vector<std::thread> threads;
    for (int t = 0; t < THREADS; ++t) {
        threads.emplace_back([&pool, &picked, t] {
            XoshiroRng rng {static_cast<std::uint64_t>(100 + t)};
            for (int i = 0; i < PER_THREAD; ++i) {
                const int key = pool.pick(1000, 10, rng);
                if (key >= 0) {
                    picked.fetch_add(1);
                    pool.settle(key, 10, 10, 1000, 1000);
                    pool.recordSuccess(key, 1000, false);
                }
                pool.status(1000);
            }
        });
    }
    for (auto &thread : threads) {
        thread.join();
    }
    const auto status = pool.status(1000);
    QCOMPARE(picked.load(), RPM);
    QCOMPARE(status[0].usedRequestsLastMinute + status[1].usedRequestsLastMinute, RPM);
    QCOMPARE(status[0].usedRequestsLastMinute, RPM / 2);
    QCOMPARE(status[0].usedTokensLastMinute + status[1].usedTokensLastMinute, std::int64_t {10} * RPM);
}

QTEST_APPLESS_MAIN(TestKeyPool)
#include "testkeypool.moc"
