#include "admissiontestsupport.h"

#include <QTest>

#include <cmath>

using namespace AdmissionTest;

namespace {

constexpr qint64 NOW = 1'000'000;

// One slot, two keys kept backlogged: each step `a` asks for `aPerStep` requests of
// `aTokens` and `b` for `bPerStep` of `bTokens`, then one slot is given back. Returns the
// tokens each key was granted over `measuredGrants` grants after `warmupGrants`.
struct Shares {
    double a = 0.0;
    double b = 0.0;
    int aRequests = 0;
    int bRequests = 0;
};

struct Flow {
    QString key;
    int perStep = 1;
    std::int64_t tokens = 100;
    double keyWeight = 0.0;
};

Shares backloggedShares(const Flow &a, const Flow &b, QueueSettings settings, int warmupGrants = 50,
                        int measuredGrants = 1000)
{
    settings.slotCount = 1;
    settings.maxQueued = 1'000'000;
    AdmissionQueue queue(settings);
    Outcomes outcomes;
    std::vector<WaitHandle> handles;
    SlotTicket current = queue.admit(request(PriorityClass::Standard, QStringLiteral("holder")), {}, NOW).ticket;
    Shares shares;
    std::size_t seen = 0;
    for (int grant = 0; grant < warmupGrants + measuredGrants; ++grant) {
        for (const Flow *flow : {&a, &b}) {
            for (int i = 0; i < flow->perStep; ++i) {
                admitNamed(queue, outcomes, handles, flow->key,
                           request(PriorityClass::Standard, flow->key, flow->tokens, 0, flow->keyWeight), NOW);
            }
        }
        current.release(NOW);
        Outcomes::Entry &entry = outcomes.entries().at(seen++);
        if (grant >= warmupGrants) {
            const bool isA = entry.name == a.key;
            (isA ? shares.a : shares.b) += static_cast<double>(entry.result.ticket.tokens());
            ++(isA ? shares.aRequests : shares.bRequests);
        }
        current = std::move(entry.result.ticket);
    }
    return shares;
}

} // namespace

class TestAdmissionQueue final : public QObject {
    Q_OBJECT

private slots:
    void grantsAtOnceWhileSlotsAreFree();
    void ordersByClassFirst();
    void fairAcrossKeysWithThreeToOneDemand();
    void fairInTokensNotRequests();
    void heavyKeyWaitsBehindLightKey();
    void keyWeightsSplitTokens();
    void classWeightIsTheDefaultKeyWeight();
    void deadlineBreaksTies();
    void cancelledWaiterIsNeverCalled();
    void droppedHandleCancels();
    void ticketGivesItsSlotBackOnce();
    void grantCancelledBeforeDeliveryGoesToTheNextWaiter();
    void callbacksDroppingTicketsDoNotRecurse();
    void moreSlotsGrantWaitersAndFewerPreemptNobody();
    void destroyedQueueRefusesWaitersAndOutlivesTickets();
    void metricsAddUp();
};

void TestAdmissionQueue::grantsAtOnceWhileSlotsAreFree()
{
    AdmissionQueue queue(settingsWith(2));
    Outcomes outcomes;
    std::vector<WaitHandle> handles;
    AdmitResult first = queue.admit(request(PriorityClass::Batch, QStringLiteral("k")), {}, NOW);
    AdmitResult second = queue.admit(request(PriorityClass::Batch, QStringLiteral("k")), {}, NOW);
    QCOMPARE(first.verdict, Verdict::Granted);
    QVERIFY(first.ticket.isValid());
    QCOMPARE(first.ticket.priorityClass(), PriorityClass::Batch);
    QCOMPARE(first.ticket.grantedAtMs(), NOW);
    QCOMPARE(second.verdict, Verdict::Granted);
    const AdmitResult third =
        admitNamed(queue, outcomes, handles, QStringLiteral("third"), request(PriorityClass::Interactive, {}), NOW);
    QCOMPARE(third.verdict, Verdict::Queued);
    QVERIFY(!third.ticket.isValid());
    QCOMPARE(third.predictedTtftMs, qint64 {-1}); // nothing learned yet
    QCOMPARE(queue.nextDeadlineMs(), std::optional<qint64> {NOW + 4000});

    const QueueMetrics metrics = queue.metrics();
    QCOMPARE(metrics.slotCount, 2);
    QCOMPARE(metrics.inUse, 2);
    QCOMPARE(metrics[PriorityClass::Batch].grantedAtOnce, std::uint64_t {2});
    QCOMPARE(metrics[PriorityClass::Interactive].queued, std::uint64_t {1});
    QCOMPARE(metrics[PriorityClass::Interactive].depth, 1);
    QCOMPARE(metrics[PriorityClass::Interactive].queuedTokens, std::int64_t {100});

    first.ticket.complete(NOW + 500);
    QCOMPARE(outcomes.count(), 1);
    QCOMPARE(outcomes.entries()[0].result.verdict, Verdict::Granted);
    QCOMPARE(outcomes.entries()[0].result.waitedMs, qint64 {500});
    QCOMPARE(queue.metrics().inUse, 2);
    QCOMPARE(queue.nextDeadlineMs(), std::nullopt);
}

void TestAdmissionQueue::ordersByClassFirst()
{
    AdmissionQueue queue(settingsWith(1));
    Outcomes outcomes;
    std::vector<WaitHandle> handles;
    SlotTicket held = queue.admit(request(PriorityClass::Batch, QStringLiteral("k")), {}, NOW).ticket;
    const QString key = QStringLiteral("k");
    admitNamed(queue, outcomes, handles, QStringLiteral("b1"), request(PriorityClass::Batch, key), NOW);
    admitNamed(queue, outcomes, handles, QStringLiteral("s1"), request(PriorityClass::Standard, key), NOW + 1);
    admitNamed(queue, outcomes, handles, QStringLiteral("i1"), request(PriorityClass::Interactive, key), NOW + 2);
    admitNamed(queue, outcomes, handles, QStringLiteral("b2"), request(PriorityClass::Batch, key), NOW + 3);
    admitNamed(queue, outcomes, handles, QStringLiteral("s2"), request(PriorityClass::Standard, key), NOW + 4);
    admitNamed(queue, outcomes, handles, QStringLiteral("i2"), request(PriorityClass::Interactive, key), NOW + 5);
    QCOMPARE(grantOrder(std::move(held), outcomes, NOW + 10),
             names({"i1", "i2", "s1", "s2", "b1", "b2"}));
}

void TestAdmissionQueue::fairAcrossKeysWithThreeToOneDemand()
{
    // "a" asks for three times the tokens "b" does; the slot can serve only one request
    // per step, so both stay backlogged and each must get half of the tokens.
    const Shares shares = backloggedShares(Flow {QStringLiteral("a"), 3, 100}, Flow {QStringLiteral("b"), 1, 100}, {});
    const double ratio = shares.a / shares.b;
    QVERIFY2(std::abs(ratio - 1.0) <= 0.05, qPrintable(QStringLiteral("a/b token ratio %1").arg(ratio)));
}

void TestAdmissionQueue::fairInTokensNotRequests()
{
    // Equal request rates, but "big" asks for 10x the tokens per request: shares are equal
    // in tokens, so "small" gets ten requests through for each of "big"'s.
    const Shares shares =
        backloggedShares(Flow {QStringLiteral("big"), 1, 1000}, Flow {QStringLiteral("small"), 1, 100}, {}, 50, 2000);
    const double ratio = shares.a / shares.b;
    QVERIFY2(std::abs(ratio - 1.0) <= 0.05, qPrintable(QStringLiteral("big/small token ratio %1").arg(ratio)));
    const double requestRatio = static_cast<double>(shares.bRequests) / shares.aRequests;
    QVERIFY2(std::abs(requestRatio - 10.0) <= 0.5, qPrintable(QStringLiteral("small/big requests %1").arg(requestRatio)));
}

void TestAdmissionQueue::heavyKeyWaitsBehindLightKey()
{
    AdmissionQueue queue(settingsWith(1));
    Outcomes outcomes;
    std::vector<WaitHandle> handles;
    SlotTicket held = queue.admit(request(PriorityClass::Standard, QStringLiteral("holder")), {}, NOW).ticket;
    for (int i = 1; i <= 4; ++i) {
        admitNamed(queue, outcomes, handles, QStringLiteral("a%1").arg(i),
                   request(PriorityClass::Standard, QStringLiteral("a"), 1000), NOW + i);
    }
    // Arrives last, having sent nothing: served right after the request already at the
    // head, ahead of the rest of "a"'s backlog.
    admitNamed(queue, outcomes, handles, QStringLiteral("b1"), request(PriorityClass::Standard, QStringLiteral("b"), 100),
               NOW + 10);
    QCOMPARE(grantOrder(std::move(held), outcomes, NOW + 20), names({"a1", "b1", "a2", "a3", "a4"}));
}

void TestAdmissionQueue::keyWeightsSplitTokens()
{
    const Shares shares = backloggedShares(Flow {QStringLiteral("gold"), 4, 100, 3.0},
                                           Flow {QStringLiteral("basic"), 4, 100, 1.0}, {});
    const double ratio = shares.a / shares.b;
    QVERIFY2(std::abs(ratio - 3.0) <= 0.15, qPrintable(QStringLiteral("gold/basic token ratio %1").arg(ratio)));
}

void TestAdmissionQueue::classWeightIsTheDefaultKeyWeight()
{
    QueueSettings settings;
    settings[PriorityClass::Standard].weight = 4.0;
    // "plain" sets no weight of its own (class weight 4); "one" sets 1.
    const Shares shares =
        backloggedShares(Flow {QStringLiteral("plain"), 4, 100}, Flow {QStringLiteral("one"), 4, 100, 1.0}, settings);
    const double ratio = shares.a / shares.b;
    QVERIFY2(std::abs(ratio - 4.0) <= 0.2, qPrintable(QStringLiteral("plain/one token ratio %1").arg(ratio)));
}

void TestAdmissionQueue::deadlineBreaksTies()
{
    AdmissionQueue queue(settingsWith(1));
    Outcomes outcomes;
    std::vector<WaitHandle> handles;
    SlotTicket held = queue.admit(request(PriorityClass::Standard, QStringLiteral("holder")), {}, NOW).ticket;
    // Three idle keys: equal start tags, so the effective deadline decides. "late" asks
    // for 5 s, "soon" for 1 s, "none" gets the standard objective (10 s), and "beyond"'s
    // 30 s is capped by that objective too, so arrival order settles none vs beyond.
    admitNamed(queue, outcomes, handles, QStringLiteral("beyond"),
               request(PriorityClass::Standard, QStringLiteral("d"), 100, NOW + 30000), NOW);
    admitNamed(queue, outcomes, handles, QStringLiteral("late"),
               request(PriorityClass::Standard, QStringLiteral("a"), 100, NOW + 5000), NOW);
    admitNamed(queue, outcomes, handles, QStringLiteral("none"), request(PriorityClass::Standard, QStringLiteral("c")), NOW);
    admitNamed(queue, outcomes, handles, QStringLiteral("soon"),
               request(PriorityClass::Standard, QStringLiteral("b"), 100, NOW + 1000), NOW);
    QCOMPARE(grantOrder(std::move(held), outcomes, NOW + 10), names({"soon", "late", "beyond", "none"}));
}

void TestAdmissionQueue::cancelledWaiterIsNeverCalled()
{
    AdmissionQueue queue(settingsWith(1));
    Outcomes outcomes;
    SlotTicket held = queue.admit(request(PriorityClass::Standard, QStringLiteral("k")), {}, NOW).ticket;
    AdmitResult first = queue.admit(request(PriorityClass::Standard, QStringLiteral("k")), outcomes.callbackFor(QStringLiteral("first")), NOW);
    AdmitResult second =
        queue.admit(request(PriorityClass::Standard, QStringLiteral("k")), outcomes.callbackFor(QStringLiteral("second")), NOW);
    QCOMPARE(queue.metrics()[PriorityClass::Standard].depth, 2);

    QVERIFY(first.handle.cancel());
    QVERIFY(!first.handle.isValid());
    QVERIFY(!first.handle.cancel()); // idempotent, and nothing left to prevent
    QCOMPARE(queue.metrics()[PriorityClass::Standard].depth, 1);
    QCOMPARE(queue.metrics()[PriorityClass::Standard].cancelled, std::uint64_t {1});
    QCOMPARE(queue.metrics().inUse, 1); // cancelling a wait frees no slot

    held.release(NOW + 5);
    QCOMPARE(outcomes.count(), 1);
    QCOMPARE(outcomes.entries()[0].name, QStringLiteral("second"));
    QVERIFY(!second.handle.cancel()); // already delivered
    QCOMPARE(queue.metrics().inUse, 1);
    outcomes.entries()[0].result.ticket.release(NOW + 6);
    QCOMPARE(queue.metrics().inUse, 0);
    QCOMPARE(queue.metrics()[PriorityClass::Standard].cancelled, std::uint64_t {1});
}

void TestAdmissionQueue::droppedHandleCancels()
{
    AdmissionQueue queue(settingsWith(1));
    Outcomes outcomes;
    SlotTicket held = queue.admit(request(PriorityClass::Batch, QStringLiteral("k")), {}, NOW).ticket;
    {
        // The exchange holding the handle goes away (client disconnect).
        const AdmitResult queued =
            queue.admit(request(PriorityClass::Batch, QStringLiteral("k")), outcomes.callbackFor(QStringLiteral("gone")), NOW);
        QCOMPARE(queued.verdict, Verdict::Queued);
    }
    QCOMPARE(queue.metrics()[PriorityClass::Batch].depth, 0);
    QCOMPARE(queue.metrics()[PriorityClass::Batch].cancelled, std::uint64_t {1});
    held.release(NOW + 1);
    QCOMPARE(outcomes.count(), 0);
    QCOMPARE(queue.metrics().inUse, 0);
    QCOMPARE(queue.nextDeadlineMs(), std::nullopt);
}

void TestAdmissionQueue::ticketGivesItsSlotBackOnce()
{
    AdmissionQueue queue(settingsWith(3));
    SlotTicket a = queue.admit(request(PriorityClass::Standard, QStringLiteral("k")), {}, NOW).ticket;
    SlotTicket b = queue.admit(request(PriorityClass::Standard, QStringLiteral("k")), {}, NOW).ticket;
    SlotTicket c = queue.admit(request(PriorityClass::Standard, QStringLiteral("k")), {}, NOW).ticket;
    QCOMPARE(queue.metrics().inUse, 3);

    a.release(NOW + 1);
    a.release(NOW + 2);
    a.complete(NOW + 3);
    QVERIFY(!a.isValid());
    QCOMPARE(queue.metrics().inUse, 2);

    SlotTicket moved = std::move(b);
    QVERIFY(!b.isValid()); // NOLINT(bugprone-use-after-move): checking the moved-from state
    b.release(NOW + 4);
    QCOMPARE(queue.metrics().inUse, 2);
    moved = std::move(c); // the ticket moved over gives its own slot back first
    QCOMPARE(queue.metrics().inUse, 1);
    {
        const SlotTicket last = std::move(moved);
    }
    QCOMPARE(queue.metrics().inUse, 0);
    QCOMPARE(queue.metrics().drainTokensPerSecond, 0.0); // nothing completed normally
}

void TestAdmissionQueue::grantCancelledBeforeDeliveryGoesToTheNextWaiter()
{
    // Three slots appear at once: w0 (interactive), w1 and w2 are granted in one batch.
    // w0's callback cancels w2 (its client went away meanwhile) before w2's grant is
    // delivered: cancel() reports it prevented the callback, and the slot w2 was granted
    // is given back instead of leaking.
    AdmissionQueue queue(settingsWith(0));
    Outcomes outcomes;
    std::vector<WaitHandle> handles;
    admitNamed(queue, outcomes, handles, QStringLiteral("w1"), request(PriorityClass::Standard, QStringLiteral("k")), NOW);
    AdmitResult w2 = queue.admit(request(PriorityClass::Standard, QStringLiteral("k")), outcomes.callbackFor(QStringLiteral("w2")), NOW);
    admitNamed(queue, outcomes, handles, QStringLiteral("w3"), request(PriorityClass::Standard, QStringLiteral("k")), NOW);
    bool w2Prevented = false;
    AdmitResult w0 = queue.admit(request(PriorityClass::Interactive, QStringLiteral("k")),
                                 [&](WaitResult result) {
                                     QCOMPARE(result.verdict, Verdict::Granted);
                                     w2Prevented = w2.handle.cancel();
                                     result.ticket.release(NOW + 1);
                                 },
                                 NOW);
    queue.setSlotCount(3, NOW + 1);
    QVERIFY(w2Prevented);
    QStringList delivered;
    for (const Outcomes::Entry &entry : outcomes.entries()) {
        delivered << entry.name;
    }
    // w0 gave its slot back from its callback, which went to w3; w2's undelivered slot
    // came back when its result was discarded.
    QCOMPARE(delivered, names({"w1", "w3"}));
    QCOMPARE(queue.metrics().inUse, 2);
    QCOMPARE(queue.metrics()[PriorityClass::Standard].grantedFromQueue, std::uint64_t {3});
    QCOMPARE(queue.metrics()[PriorityClass::Standard].depth, 0);
}

void TestAdmissionQueue::callbacksDroppingTicketsDoNotRecurse()
{
    // Each callback drops the slot it was given, which grants the next waiter from inside
    // the delivery. 20000 of them in a row would overflow the stack if that recursed.
    constexpr int WAITERS = 20000;
    QueueSettings settings = settingsWith(1, WAITERS);
    settings[PriorityClass::Standard].maxQueueWaitMs = 1'000'000;
    AdmissionQueue queue(settings);
    SlotTicket held = queue.admit(request(PriorityClass::Standard, QStringLiteral("k")), {}, NOW).ticket;
    std::vector<WaitHandle> handles;
    handles.reserve(WAITERS);
    int granted = 0;
    for (int i = 0; i < WAITERS; ++i) {
        AdmitResult result = queue.admit(request(PriorityClass::Standard, QStringLiteral("k")),
                                         [&granted](WaitResult r) {
                                             granted += r.verdict == Verdict::Granted ? 1 : 0;
                                             // r.ticket is dropped on return
                                         },
                                         NOW);
        handles.push_back(std::move(result.handle));
    }
    held.release(NOW + 1);
    QCOMPARE(granted, WAITERS);
    QCOMPARE(queue.metrics().inUse, 0);
    QCOMPARE(queue.metrics()[PriorityClass::Standard].depth, 0);
}

void TestAdmissionQueue::moreSlotsGrantWaitersAndFewerPreemptNobody()
{
    AdmissionQueue queue(settingsWith(1));
    Outcomes outcomes;
    std::vector<WaitHandle> handles;
    SlotTicket held = queue.admit(request(PriorityClass::Standard, QStringLiteral("k")), {}, NOW).ticket;
    for (int i = 0; i < 3; ++i) {
        admitNamed(queue, outcomes, handles, QStringLiteral("w%1").arg(i), request(PriorityClass::Standard, QStringLiteral("k")), NOW);
    }
    queue.setSlotCount(3, NOW + 1); // a target came back
    QCOMPARE(outcomes.count(), 2);
    QCOMPARE(queue.metrics().inUse, 3);

    queue.setSlotCount(1, NOW + 2); // two targets' circuits opened
    QCOMPARE(queue.metrics().inUse, 3); // nobody loses a slot already granted
    held.release(NOW + 3);
    outcomes.entries()[0].result.ticket.release(NOW + 3);
    QCOMPARE(outcomes.count(), 2); // still over the new limit
    outcomes.entries()[1].result.ticket.release(NOW + 3);
    QCOMPARE(outcomes.count(), 3); // back under it: the last waiter gets the one slot
    QCOMPARE(queue.metrics().inUse, 1);
    QCOMPARE(queue.settings().slotCount, 1);
}

void TestAdmissionQueue::destroyedQueueRefusesWaitersAndOutlivesTickets()
{
    Outcomes outcomes;
    std::vector<WaitHandle> handles;
    SlotTicket held;
    {
        AdmissionQueue queue(settingsWith(1));
        held = queue.admit(request(PriorityClass::Standard, QStringLiteral("k")), {}, NOW).ticket;
        admitNamed(queue, outcomes, handles, QStringLiteral("waiting"), request(PriorityClass::Batch, QStringLiteral("k")), NOW);
    }
    QCOMPARE(outcomes.count(), 1);
    QCOMPARE(outcomes.entries()[0].result.verdict, Verdict::Rejected);
    QCOMPARE(outcomes.entries()[0].result.refusal.reason, RefusalReason::Shutdown);
    QCOMPARE(outcomes.entries()[0].result.refusal.retryAfterSeconds, 1);
    QVERIFY(held.isValid());
    held.complete(NOW + 100); // the state it points to is still alive
    QVERIFY(!held.isValid());
    QVERIFY(!handles[0].cancel());
}

void TestAdmissionQueue::metricsAddUp()
{
    QueueSettings settings = settingsWith(1, 3);
    AdmissionQueue queue(settings);
    Outcomes outcomes;
    std::vector<WaitHandle> handles;
    SlotTicket held = queue.admit(request(PriorityClass::Standard, QStringLiteral("k")), {}, NOW).ticket;
    admitNamed(queue, outcomes, handles, QStringLiteral("b1"), request(PriorityClass::Batch, QStringLiteral("k")), NOW);
    admitNamed(queue, outcomes, handles, QStringLiteral("b2"), request(PriorityClass::Batch, QStringLiteral("k")), NOW);
    AdmitResult cancelled = queue.admit(request(PriorityClass::Standard, QStringLiteral("k")), {}, NOW);
    admitNamed(queue, outcomes, handles, QStringLiteral("i1"), request(PriorityClass::Interactive, QStringLiteral("k")), NOW); // evicts b2
    QVERIFY(cancelled.handle.cancel());
    admitNamed(queue, outcomes, handles, QStringLiteral("s1"), request(PriorityClass::Standard, QStringLiteral("k")), NOW);
    held.release(NOW + 30); // -> i1
    queue.expire(NOW + 60000); // s1 (20 s) times out; b1 (120 s) still waits

    const QueueMetrics metrics = queue.metrics();
    for (const PriorityClass priority : PRIORITY_CLASSES) {
        const ClassMetrics &m = metrics[priority];
        QCOMPARE(m.queued, m.grantedFromQueue + m.shedWhileQueued + m.timedOut + m.cancelled + std::uint64_t(m.depth));
        std::uint64_t bucketed = 0;
        for (const std::uint64_t bucket : m.wait.buckets) {
            bucketed += bucket;
        }
        QCOMPARE(bucketed, m.wait.count);
        QCOMPARE(m.wait.count, m.grantedAtOnce + m.grantedFromQueue);
    }
    QCOMPARE(metrics[PriorityClass::Batch].shed(RefusalReason::Evicted), std::uint64_t {1});
    QCOMPARE(metrics[PriorityClass::Batch].depth, 1);
    QCOMPARE(metrics[PriorityClass::Standard].timedOut, std::uint64_t {1});
    QCOMPARE(metrics[PriorityClass::Standard].cancelled, std::uint64_t {1});
    QCOMPARE(metrics[PriorityClass::Interactive].grantedFromQueue, std::uint64_t {1});
    QCOMPARE(metrics[PriorityClass::Interactive].wait.sumMs, 30.0);
    // 30 ms falls in the (10, 50] bucket.
    QCOMPARE(metrics[PriorityClass::Interactive].wait.buckets[2], std::uint64_t {1});
    QCOMPARE(refusalReasonName(RefusalReason::PredictedMiss), QLatin1String("predicted_miss"));
}

QTEST_APPLESS_MAIN(TestAdmissionQueue)
#include "testadmissionqueue.moc"
