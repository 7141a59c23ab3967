#include "sim/fleet/kvblockcache.h"

#include <QTest>

#include <vector>

using Gateway::Sim::Fleet::KvBlockCache;

class TestKvBlockCache final : public QObject {
    Q_OBJECT

private slots:
    void startsEmptyAndFree();
    void onlyPublishedBlocksMatch();
    void matchStopsAtTheFirstMissingBlock();
    void sharedBlocksCountEveryUser();
    void freeBlocksStayCachedUntilReused();
    void evictsLeastRecentlyFreedFirst();
    void releasedChainsEvictTailFirst();
    void allocationFailsWithoutPartialEffect();
    void duplicatePublishStaysAnonymous();
    void freeAmongCountsUnreferencedHits();
    void hashTableSurvivesChurn();
};

void TestKvBlockCache::startsEmptyAndFree()
{
    const KvBlockCache cache(8);
    QCOMPARE(cache.numBlocks(), 8);
    QCOMPARE(cache.freeBlocks(), 8);
    QCOMPARE(cache.usedBlocks(), 0);
    QCOMPARE(cache.cachedBlocks(), 0);
}

void TestKvBlockCache::onlyPublishedBlocksMatch()
{
    // A block being computed (allocated, not yet published) is not reusable.
    KvBlockCache cache(8);
    std::vector<KvBlockCache::BlockId> blocks;
    QVERIFY(cache.allocate(2, blocks));
    const std::vector<std::uint64_t> chain {11, 12};
    QCOMPARE(cache.matchPrefix(chain), 0);
    cache.publish(blocks[0], 11);
    QCOMPARE(cache.matchPrefix(chain), 1);
    cache.publish(blocks[1], 12);
    QCOMPARE(cache.matchPrefix(chain), 2);
    QCOMPARE(cache.usedBlocks(), 2);
}

void TestKvBlockCache::matchStopsAtTheFirstMissingBlock()
{
    KvBlockCache cache(8);
    std::vector<KvBlockCache::BlockId> blocks;
    QVERIFY(cache.allocate(3, blocks));
    cache.publish(blocks[0], 1);
    cache.publish(blocks[2], 3); // a later block alone is no prefix
    QCOMPARE(cache.matchPrefix(std::vector<std::uint64_t> {1, 2, 3}), 1);
    QCOMPARE(cache.matchPrefix(std::vector<std::uint64_t> {3}), 1);
    QCOMPARE(cache.matchPrefix(std::vector<std::uint64_t> {2, 3}), 0);
}

void TestKvBlockCache::sharedBlocksCountEveryUser()
{
    KvBlockCache cache(4);
    std::vector<KvBlockCache::BlockId> first;
    QVERIFY(cache.allocate(1, first));
    cache.publish(first[0], 7);
    std::vector<KvBlockCache::BlockId> found;
    cache.findPrefix(std::vector<std::uint64_t> {7}, found);
    std::vector<KvBlockCache::BlockId> second;
    cache.acquire(found, second);
    QCOMPARE(second, first);
    QCOMPARE(cache.refCount(first[0]), 2);
    QCOMPARE(cache.freeBlocks(), 3);
    cache.release(first);
    QCOMPARE(cache.refCount(first[0]), 1);
    QCOMPARE(cache.freeBlocks(), 3); // still held by the second user
    cache.release(second);
    QCOMPARE(cache.freeBlocks(), 4);
    QVERIFY(cache.contains(7)); // free, but still cached
}

void TestKvBlockCache::freeBlocksStayCachedUntilReused()
{
    KvBlockCache cache(2);
    std::vector<KvBlockCache::BlockId> a;
    QVERIFY(cache.allocate(1, a));
    cache.publish(a[0], 100);
    cache.release(a);
    // One never-used block is handed out before the cached one.
    std::vector<KvBlockCache::BlockId> b;
    QVERIFY(cache.allocate(1, b));
    QVERIFY(cache.contains(100));
    // Reusing the cached block takes it off the free list: nothing left to allocate.
    std::vector<KvBlockCache::BlockId> found;
    cache.findPrefix(std::vector<std::uint64_t> {100}, found);
    std::vector<KvBlockCache::BlockId> c;
    cache.acquire(found, c);
    QCOMPARE(c, a);
    QCOMPARE(cache.freeBlocks(), 0);
    std::vector<KvBlockCache::BlockId> d;
    QVERIFY(!cache.allocate(1, d));
    QCOMPARE(cache.evictions(), std::uint64_t {0});
}

void TestKvBlockCache::evictsLeastRecentlyFreedFirst()
{
    KvBlockCache cache(3);
    std::vector<KvBlockCache::BlockId> blocks;
    QVERIFY(cache.allocate(3, blocks));
    for (int i = 0; i < 3; ++i) {
        cache.publish(blocks[static_cast<std::size_t>(i)], static_cast<std::uint64_t>(1000 + i));
    }
    // Freed in the order 1001, 1000, 1002 (one at a time).
    cache.release(std::vector<KvBlockCache::BlockId> {blocks[1]});
    cache.release(std::vector<KvBlockCache::BlockId> {blocks[0]});
    cache.release(std::vector<KvBlockCache::BlockId> {blocks[2]});
    std::vector<KvBlockCache::BlockId> fresh;
    QVERIFY(cache.allocate(1, fresh));
    QVERIFY(!cache.contains(1001));
    QVERIFY(cache.contains(1000));
    QVERIFY(cache.allocate(1, fresh));
    QVERIFY(!cache.contains(1000));
    QVERIFY(cache.contains(1002));
    QCOMPARE(cache.evictions(), std::uint64_t {2});
}

void TestKvBlockCache::releasedChainsEvictTailFirst()
{
    // A request's chain is freed tail first, so its shared head outlives its unique tail.
    KvBlockCache cache(3);
    std::vector<KvBlockCache::BlockId> chain;
    QVERIFY(cache.allocate(3, chain));
    for (int i = 0; i < 3; ++i) {
        cache.publish(chain[static_cast<std::size_t>(i)], static_cast<std::uint64_t>(i + 1));
    }
    cache.release(chain);
    std::vector<KvBlockCache::BlockId> fresh;
    QVERIFY(cache.allocate(2, fresh));
    QVERIFY(cache.contains(1));
    QVERIFY(!cache.contains(2));
    QVERIFY(!cache.contains(3));
}

void TestKvBlockCache::allocationFailsWithoutPartialEffect()
{
    KvBlockCache cache(2);
    std::vector<KvBlockCache::BlockId> blocks;
    QVERIFY(!cache.allocate(3, blocks));
    QVERIFY(blocks.empty());
    QCOMPARE(cache.freeBlocks(), 2);
}

void TestKvBlockCache::duplicatePublishStaysAnonymous()
{
    // Two requests computed the same block concurrently: the first publication wins.
    KvBlockCache cache(4);
    std::vector<KvBlockCache::BlockId> blocks;
    QVERIFY(cache.allocate(2, blocks));
    cache.publish(blocks[0], 5);
    cache.publish(blocks[1], 5);
    QVERIFY(cache.isPublished(blocks[0]));
    QVERIFY(!cache.isPublished(blocks[1]));
    QCOMPARE(cache.cachedBlocks(), 1);
    cache.release(std::vector<KvBlockCache::BlockId> {blocks[0]});
    QVERIFY(cache.contains(5));
}

void TestKvBlockCache::freeAmongCountsUnreferencedHits()
{
    KvBlockCache cache(4);
    std::vector<KvBlockCache::BlockId> held;
    QVERIFY(cache.allocate(2, held));
    cache.publish(held[0], 1);
    cache.publish(held[1], 2);
    cache.release(std::vector<KvBlockCache::BlockId> {held[1]});
    std::vector<KvBlockCache::BlockId> found;
    cache.findPrefix(std::vector<std::uint64_t> {1, 2, 3}, found);
    QCOMPARE(found, held);
    QCOMPARE(cache.freeAmong(found), 1);
    QCOMPARE(cache.freeAmong(std::span(found).first(1)), 0);
}

void TestKvBlockCache::hashTableSurvivesChurn()
{
    // Many publish/evict cycles through a small cache: the index must always agree with
    // the blocks (backward-shift deletion keeps every probe run intact).
    KvBlockCache cache(64);
    std::uint64_t next = 1;
    std::vector<KvBlockCache::BlockId> held;
    for (int round = 0; round < 2000; ++round) {
        held.clear();
        QVERIFY(cache.allocate(8, held));
        for (const KvBlockCache::BlockId id : held) {
            cache.publish(id, next++ * 0x9e3779b97f4a7c15ULL);
        }
        cache.release(held);
        QCOMPARE(cache.cachedBlocks(), std::min<int>(64, 8 * (round + 1)));
        for (std::uint64_t k = next - 8; k < next; ++k) {
            QVERIFY(cache.contains(k * 0x9e3779b97f4a7c15ULL));
        }
        if (next > 72) {
            QVERIFY(!cache.contains((next - 72) * 0x9e3779b97f4a7c15ULL));
        }
    }
    QVERIFY(!cache.contains(0)); // 0 is stored as 1: an empty table holds neither
}

QTEST_APPLESS_MAIN(TestKvBlockCache)
#include "testkvblockcache.moc"
