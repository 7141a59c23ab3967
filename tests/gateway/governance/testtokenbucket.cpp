// The per-minute bucket behind rpm and tpm: burst up to the limit, refill at limit/60 s,
// estimates corrected afterwards (refund, or debt paid by waiting).

#include "governance/tokenbucket.h"

#include <QTest>

using Gateway::Governance::TokenBucket;

class TestTokenBucket final : public QObject {
    Q_OBJECT

private slots:
    void burstsUpToTheLimitThenRefillsAtItsPace() const
    {
        TokenBucket bucket;
        bucket.reset(60, 0); // one per second
        for (int i = 0; i < 60; ++i) {
            QVERIFY(bucket.canTake(1, 0));
            bucket.take(1);
        }
        QVERIFY(!bucket.canTake(1, 0));
        QCOMPARE(bucket.waitMs(1, 0), 1000);
        QVERIFY(!bucket.canTake(1, 999));
        QVERIFY(bucket.canTake(1, 1000));
    }

    void unlimitedAlwaysAdmits() const
    {
        TokenBucket bucket;
        bucket.reset(0, 0);
        QVERIFY(bucket.canTake(1'000'000, 0));
        QCOMPARE(bucket.waitMs(1'000'000, 0), 0);
    }

    void aFullBucketAdmitsOneOversizedRequestIntoDebt() const
    {
        TokenBucket bucket;
        bucket.reset(1000, 0);
        QVERIFY(bucket.canTake(5000, 0));
        bucket.take(5000);
        QCOMPARE(bucket.available(0), -4000);
        QVERIFY(!bucket.canTake(1, 0));
        // The debt is paid at 1000 per minute: 4001 tokens of refill to get one back.
        QCOMPARE(bucket.waitMs(1, 0), 240'060);
    }

    void settlementRefundsOrChargesTheDifference() const
    {
        TokenBucket bucket;
        bucket.reset(1000, 0);
        bucket.take(800); // estimate
        bucket.adjust(100 - 800); // real usage was 100
        QCOMPARE(bucket.available(0), 900);
        bucket.take(100);
        bucket.adjust(500 - 100); // real usage was 500
        QCOMPARE(bucket.available(0), 400);
        bucket.adjust(-10'000); // a refund never exceeds capacity
        QCOMPARE(bucket.available(0), 1000);
    }

    void aClockSteppingBackRefillsNothing() const
    {
        TokenBucket bucket;
        bucket.reset(60, 10'000);
        bucket.take(60);
        QVERIFY(!bucket.canTake(1, 5'000));
        QVERIFY(bucket.canTake(1, 11'000));
    }
};

QTEST_APPLESS_MAIN(TestTokenBucket)
#include "testtokenbucket.moc"
