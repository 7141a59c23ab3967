#include "routing/trafficsplit.h"

#include "strategytestsupport.h"

#include <QTest>

#include <array>
#include <cmath>
#include <vector>

using Gateway::Routing::TrafficSplit;
using Gateway::Routing::XoshiroRng;
using StrategyTest::ScriptedRng;

namespace {

constexpr int KEYS = 100000;

QByteArray userKey(int i)
{
    return "user-" + QByteArray::number(i);
}

TrafficSplit split(std::vector<double> shares, TrafficSplit::Sticky sticky = TrafficSplit::Sticky::Session,
                   QByteArrayView salt = "chat")
{
    return TrafficSplit {shares, sticky, salt};
}

} // namespace

class TestTrafficSplit final : public QObject {
    Q_OBJECT

private slots:
    void armsFollowCumulativeShares();
    void sharesHoldOver100kKeys();
    void sameKeyAlwaysGetsTheSameArm();
    void growingTheCanaryMovesOnlyTheDifferenceAndOnlyTowardIt();
    void withoutAKeyEachRequestIsDrawn();
    void randomAssignmentFollowsShares();
    void stickyNoneIgnoresTheKey();
    void saltSeparatesSplits();
    void positionIsStable();
};

void TestTrafficSplit::armsFollowCumulativeShares()
{
    const TrafficSplit s = split({0.5, 0.3, 0.2});
    QCOMPARE(s.arms(), std::size_t {3});
    QCOMPARE(s.armAt(0.0), 0);
    QCOMPARE(s.armAt(0.4999), 0);
    QCOMPARE(s.armAt(0.5), 1);
    QCOMPARE(s.armAt(0.7999), 1);
    QCOMPARE(s.armAt(0.8), 2);
    QCOMPARE(s.armAt(0.999999999), 2);
    // Shares summing to 1 within rounding leave no gap at the top.
    const TrafficSplit thirds = split({0.3333333, 0.3333333, 0.3333333});
    QCOMPARE(thirds.armAt(0.99999999999), 2);
}

void TestTrafficSplit::sharesHoldOver100kKeys()
{
    // Tolerance: the binomial standard deviation at 100k keys is at most 0.16%; 0.6% is
    // almost four of them.
    const TrafficSplit s = split({0.9, 0.1});
    std::array<int, 2> counts {};
    XoshiroRng unused {1};
    for (int i = 0; i < KEYS; ++i) {
        ++counts[static_cast<std::size_t>(s.pick(userKey(i), unused))];
    }
    QVERIFY2(std::abs(counts[1] / double(KEYS) - 0.1) < 0.006, qPrintable(QString::number(counts[1])));

    const TrafficSplit three = split({0.5, 0.3, 0.2});
    std::array<int, 3> threeCounts {};
    for (int i = 0; i < KEYS; ++i) {
        ++threeCounts[static_cast<std::size_t>(three.pick(userKey(i), unused))];
    }
    const std::array<double, 3> expected {0.5, 0.3, 0.2};
    for (std::size_t arm = 0; arm < 3; ++arm) {
        QVERIFY2(std::abs(threeCounts[arm] / double(KEYS) - expected[arm]) < 0.006,
                 qPrintable(QStringLiteral("arm %1: %2").arg(arm).arg(threeCounts[arm])));
    }
}

void TestTrafficSplit::sameKeyAlwaysGetsTheSameArm()
{
    const TrafficSplit s = split({0.5, 0.5});
    // A second, independently built split with the same shares and salt stands for
    // another worker or a restarted process.
    const TrafficSplit again = split({0.5, 0.5});
    ScriptedRng noDraws {{}}; // keyed picks never draw
    int sticky = 0;
    for (int i = 0; i < KEYS; ++i) {
        const int first = s.pick(userKey(i), noDraws);
        sticky += (s.pick(userKey(i), noDraws) == first && again.pick(userKey(i), noDraws) == first) ? 1 : 0;
    }
    QCOMPARE(sticky, KEYS);
    QCOMPARE(noDraws.draws(), std::size_t {0});
}

void TestTrafficSplit::growingTheCanaryMovesOnlyTheDifferenceAndOnlyTowardIt()
{
    XoshiroRng unused {1};
    for (const bool canaryFirst : {false, true}) {
        const TrafficSplit before = canaryFirst ? split({0.1, 0.9}) : split({0.9, 0.1});
        const TrafficSplit after = canaryFirst ? split({0.2, 0.8}) : split({0.8, 0.2});
        const int canary = canaryFirst ? 0 : 1;
        int moved = 0;
        int movedAway = 0;
        for (int i = 0; i < KEYS; ++i) {
            const int was = before.pick(userKey(i), unused);
            const int now = after.pick(userKey(i), unused);
            if (was != now) {
                ++moved;
                movedAway += now == canary ? 0 : 1;
            }
        }
        // About 10% move (0.1 of the key space), every one of them into the canary.
        QVERIFY2(std::abs(moved / double(KEYS) - 0.1) < 0.006, qPrintable(QString::number(moved)));
        QCOMPARE(movedAway, 0);
    }
}

void TestTrafficSplit::withoutAKeyEachRequestIsDrawn()
{
    const TrafficSplit s = split({0.9, 0.1});
    ScriptedRng rng {{0.05, 0.95, 0.899, 0.9}};
    QCOMPARE(s.pick({}, rng), 0);
    QCOMPARE(s.pick({}, rng), 1);
    QCOMPARE(s.pick(QByteArrayView {}, rng), 0);
    QCOMPARE(s.pick("", rng), 1); // an empty key is no key
    QCOMPARE(rng.draws(), std::size_t {4});
}

void TestTrafficSplit::randomAssignmentFollowsShares()
{
    const TrafficSplit s = split({0.9, 0.1}, TrafficSplit::Sticky::None);
    XoshiroRng rng {42};
    int canary = 0;
    for (int i = 0; i < KEYS; ++i) {
        canary += s.pick({}, rng);
    }
    QVERIFY2(std::abs(canary / double(KEYS) - 0.1) < 0.006, qPrintable(QString::number(canary)));
}

void TestTrafficSplit::stickyNoneIgnoresTheKey()
{
    const TrafficSplit s = split({0.5, 0.5}, TrafficSplit::Sticky::None);
    ScriptedRng rng {{0.1, 0.9}};
    QCOMPARE(s.pick("user-1", rng), 0);
    QCOMPARE(s.pick("user-1", rng), 1);
    QCOMPARE(s.sticky(), TrafficSplit::Sticky::None);
}

void TestTrafficSplit::saltSeparatesSplits()
{
    // Two routes' experiments with the same shares put a user in the same arm only as
    // often as chance says (about half the time), not always.
    const TrafficSplit a = split({0.5, 0.5}, TrafficSplit::Sticky::User, "chat");
    const TrafficSplit b = split({0.5, 0.5}, TrafficSplit::Sticky::User, "code");
    XoshiroRng unused {1};
    int same = 0;
    for (int i = 0; i < KEYS; ++i) {
        same += a.pick(userKey(i), unused) == b.pick(userKey(i), unused) ? 1 : 0;
    }
    QVERIFY2(std::abs(same / double(KEYS) - 0.5) < 0.01, qPrintable(QString::number(same)));
}

void TestTrafficSplit::positionIsStable()
{
    // Pinned: positions must not change between releases, or every user changes arm.
    const TrafficSplit s = split({1.0}, TrafficSplit::Sticky::Session, "chat");
    const double p = s.position("session-42");
    QCOMPARE(p, 0.1758431252628424);
    QCOMPARE(s.position("session-42"), p);
    QCOMPARE(split({1.0}, TrafficSplit::Sticky::Session, "chat").position("session-42"), p);
    QVERIFY(split({1.0}, TrafficSplit::Sticky::Session, "code").position("session-42") != p);
    XoshiroRng unused {1};
    QCOMPARE(s.pick("anything", unused), 0); // one arm takes everything
}

QTEST_APPLESS_MAIN(TestTrafficSplit)
#include "testtrafficsplit.moc"
