#include "routing/prefixindex.h"

#include "gpuroutingtestsupport.h"

#include <QTest>

#include <algorithm>
#include <list>
#include <thread>
#include <unordered_map>

using namespace GpuRoutingTest;

namespace {

// Every block indexed (stride 1), so tests can reason block by block.
constexpr int EXACT = 1;

std::vector<int> matchAll(const PrefixIndex &index, const std::vector<std::uint64_t> &blocks, const std::vector<int> &ids)
{
    std::vector<int> matched(ids.size(), -1);
    index.match(blocks, ids, matched);
    return matched;
}

// The obvious implementation, to compare against: one std::list of anchor hashes per
// backend in LRU order (front = most recent).
class NaiveIndex {
public:
    explicit NaiveIndex(std::size_t stride)
        : m_stride {stride}
    {
    }

    void setCapacity(int id, std::int64_t capacityBlocks)
    {
        const auto stride = static_cast<std::int64_t>(m_stride);
        m_backends[id].capacity = (capacityBlocks + stride - 1) / stride;
        trim(m_backends[id]);
    }

    void record(int id, const std::vector<std::uint64_t> &blocks)
    {
        Backend &backend = m_backends[id];
        const std::vector<std::uint64_t> keys = anchors(blocks);
        const std::size_t count = std::min<std::size_t>(keys.size(), static_cast<std::size_t>(backend.capacity));
        for (std::size_t k = count; k-- > 0;) {
            backend.lru.remove(keys[k]);
            backend.lru.push_front(keys[k]);
            trim(backend);
        }
    }

    int match(int id, const std::vector<std::uint64_t> &blocks) const
    {
        const auto found = m_backends.find(id);
        if (found == m_backends.end()) {
            return 0;
        }
        const std::vector<std::uint64_t> keys = anchors(blocks);
        const auto &lru = found->second.lru;
        for (std::size_t j = 0; j < keys.size(); ++j) {
            if (std::find(lru.begin(), lru.end(), keys[j]) == lru.end()) {
                return static_cast<int>(j * m_stride);
            }
        }
        return static_cast<int>(blocks.size());
    }

private:
    struct Backend {
        std::list<std::uint64_t> lru;
        std::int64_t capacity = PrefixIndex::DEFAULT_CAPACITY_BLOCKS;
    };
    // Every stride-th block's hash and the last one's.
    std::vector<std::uint64_t> anchors(const std::vector<std::uint64_t> &blocks) const
    {
        std::vector<std::uint64_t> keys;
        for (std::size_t end = m_stride; end < blocks.size() + m_stride; end += m_stride) {
            keys.push_back(blocks[std::min(end, blocks.size()) - 1]);
        }
        return keys;
    }

    static void trim(Backend &backend)
    {
        while (static_cast<std::int64_t>(backend.lru.size()) > backend.capacity) {
            backend.lru.pop_back();
        }
    }
    std::size_t m_stride;
    std::unordered_map<int, Backend> m_backends;
};

// Backends 0 and 1 both hold prompt 1 (10 blocks); 1 also holds 6 blocks of prompt 2 and
// has a configured capacity of 100 blocks.
void holdTwoBackends(PrefixIndex &index)
{
    index.record(0, blocksOf(1, 10));
    index.record(1, blocksOf(1, 10));
    index.record(1, blocksOf(2, 6));
    index.setCapacityBlocks(1, 100);
}

} // namespace

class TestPrefixIndex final : public QObject {
    Q_OBJECT

private slots:
    void emptyIndexMatchesNothing();
    void matchesTheRecordedBackendOnly();
    void matchStopsAtTheFirstMissingBlock();
    void eachCandidateGetsItsOwnRun();
    void evictsTheLeastRecentlyUsed();
    void aPromptsLeadingBlocksAreEvictedLast();
    void aPromptLongerThanTheCapacityKeepsItsHead();
    void shrinkingTheCapacityEvictsAtOnce();
    void zeroCapacityIndexesNothing();
    void sharedBlocksAreStoredOnce();
    void forgetDropsABackend();
    void clearEmptiesABackendButKeepsItsSlotAndCapacity();
    void backendsBeyondSixtyFourAreNotIndexed();
    void capacityFromEngineGeometry();
    void anchorsEveryStrideAndTheLastBlock();
    void capacityCountsAnchors();
    void agreesWithANaiveModelUnderChurn_data();
    void agreesWithANaiveModelUnderChurn();
    void concurrentMatchAndRecordSmoke();
};

void TestPrefixIndex::emptyIndexMatchesNothing()
{
    PrefixIndex index {64, PrefixIndex::DEFAULT_CAPACITY_BLOCKS, EXACT};
    QCOMPARE(matchAll(index, blocksOf(1, 4), {0, 1}), (std::vector<int> {0, 0}));
    QCOMPARE(matchAll(index, {}, {0}), (std::vector<int> {0}));
    QCOMPARE(index.blockChars(), 64);
    QCOMPARE(index.distinctBlocks(), std::size_t {0});
}

void TestPrefixIndex::matchesTheRecordedBackendOnly()
{
    PrefixIndex index {64, PrefixIndex::DEFAULT_CAPACITY_BLOCKS, EXACT};
    index.record(3, blocksOf(1, 10));
    QCOMPARE(matchAll(index, blocksOf(1, 10), {0, 3, 7}), (std::vector<int> {0, 10, 0}));
    // A longer prompt of the same family: the first 10 blocks are held.
    QCOMPARE(matchAll(index, blocksOf(1, 16), {3}), (std::vector<int> {10}));
    QCOMPARE(index.heldBlocks(3), std::int64_t {10});
    QCOMPARE(index.heldBlocks(0), std::int64_t {0});
}

void TestPrefixIndex::matchStopsAtTheFirstMissingBlock()
{
    PrefixIndex index {64, PrefixIndex::DEFAULT_CAPACITY_BLOCKS, EXACT};
    index.record(0, blocksOf(1, 8));
    // Same first 5 blocks, then another continuation (another chain), then block 6 of the
    // original again: the match must stop at 5 even though a later block is held.
    std::vector<std::uint64_t> prompt = blocksOf(1, 5);
    prompt.push_back(0xdeadbeefULL);
    prompt.push_back(blocksOf(1, 7)[6]);
    QCOMPARE(matchAll(index, prompt, {0}), (std::vector<int> {5}));
    // A different first block: nothing matches.
    QCOMPARE(matchAll(index, blocksOf(2, 8), {0}), (std::vector<int> {0}));
}

void TestPrefixIndex::eachCandidateGetsItsOwnRun()
{
    PrefixIndex index {64, PrefixIndex::DEFAULT_CAPACITY_BLOCKS, EXACT};
    index.record(0, blocksOf(1, 10));
    index.record(1, blocksOf(1, 4));
    index.record(2, blocksOf(9, 4));
    // Any order of ids, the same id twice, an unknown id.
    QCOMPARE(matchAll(index, blocksOf(1, 12), {2, 1, 0, 1, 42}), (std::vector<int> {0, 4, 10, 4, 0}));
}

void TestPrefixIndex::evictsTheLeastRecentlyUsed()
{
    PrefixIndex index {64, PrefixIndex::DEFAULT_CAPACITY_BLOCKS, EXACT};
    index.setCapacityBlocks(0, 8);
    index.record(0, blocksOf(1, 4));
    index.record(0, blocksOf(2, 4));
    index.record(0, blocksOf(1, 4)); // touch family 1: family 2 is now least recent
    index.record(0, blocksOf(3, 4));
    QCOMPARE(index.heldBlocks(0), std::int64_t {8});
    QCOMPARE(matchAll(index, blocksOf(1, 4), {0}), (std::vector<int> {4}));
    QCOMPARE(matchAll(index, blocksOf(2, 4), {0}), (std::vector<int> {0}));
    QCOMPARE(matchAll(index, blocksOf(3, 4), {0}), (std::vector<int> {4}));
    QCOMPARE(index.distinctBlocks(), std::size_t {8});
}

void TestPrefixIndex::aPromptsLeadingBlocksAreEvictedLast()
{
    PrefixIndex index {64, PrefixIndex::DEFAULT_CAPACITY_BLOCKS, EXACT};
    index.setCapacityBlocks(0, 6);
    index.record(0, blocksOf(1, 4));
    index.record(0, blocksOf(2, 4)); // needs 2 more blocks: family 1 loses its last two
    QCOMPARE(matchAll(index, blocksOf(1, 4), {0}), (std::vector<int> {2}));
    QCOMPARE(matchAll(index, blocksOf(2, 4), {0}), (std::vector<int> {4}));
}

void TestPrefixIndex::aPromptLongerThanTheCapacityKeepsItsHead()
{
    PrefixIndex index {64, PrefixIndex::DEFAULT_CAPACITY_BLOCKS, EXACT};
    index.setCapacityBlocks(0, 5);
    index.record(0, blocksOf(1, 10));
    QCOMPARE(index.heldBlocks(0), std::int64_t {5});
    QCOMPARE(matchAll(index, blocksOf(1, 10), {0}), (std::vector<int> {5}));
}

void TestPrefixIndex::shrinkingTheCapacityEvictsAtOnce()
{
    PrefixIndex index {64, PrefixIndex::DEFAULT_CAPACITY_BLOCKS, EXACT};
    index.record(0, blocksOf(1, 10));
    QCOMPARE(index.capacityBlocks(0), PrefixIndex::DEFAULT_CAPACITY_BLOCKS);
    index.setCapacityBlocks(0, 3);
    QCOMPARE(index.capacityBlocks(0), std::int64_t {3});
    QCOMPARE(index.heldBlocks(0), std::int64_t {3});
    QCOMPARE(matchAll(index, blocksOf(1, 10), {0}), (std::vector<int> {3}));
    QCOMPARE(index.distinctBlocks(), std::size_t {3});
    // A capacity set before the backend is first seen applies when it is.
    index.setCapacityBlocks(5, 2);
    index.record(5, blocksOf(1, 10));
    QCOMPARE(index.heldBlocks(5), std::int64_t {2});
}

void TestPrefixIndex::zeroCapacityIndexesNothing()
{
    PrefixIndex index {64, 0, EXACT};
    index.record(0, blocksOf(1, 10));
    QCOMPARE(index.heldBlocks(0), std::int64_t {0});
    QCOMPARE(matchAll(index, blocksOf(1, 10), {0}), (std::vector<int> {0}));
    index.setCapacityBlocks(1, -5);
    QCOMPARE(index.capacityBlocks(1), std::int64_t {0});
}

void TestPrefixIndex::sharedBlocksAreStoredOnce()
{
    PrefixIndex index {64, PrefixIndex::DEFAULT_CAPACITY_BLOCKS, EXACT};
    for (int backend = 0; backend < 8; ++backend) {
        index.record(backend, blocksOf(1, 100));
    }
    QCOMPARE(index.distinctBlocks(), std::size_t {100});
    QCOMPARE(matchAll(index, blocksOf(1, 100), {0, 7}), (std::vector<int> {100, 100}));
}

void TestPrefixIndex::forgetDropsABackend()
{
    PrefixIndex index {64, PrefixIndex::DEFAULT_CAPACITY_BLOCKS, EXACT};
    holdTwoBackends(index);
    index.forget(1);
    QCOMPARE(matchAll(index, blocksOf(1, 10), {0, 1}), (std::vector<int> {10, 0}));
    QCOMPARE(index.heldBlocks(1), std::int64_t {0});
    QCOMPARE(index.distinctBlocks(), std::size_t {10});
    // Its configured capacity is gone too; the id can come back as a new backend.
    QCOMPARE(index.capacityBlocks(1), PrefixIndex::DEFAULT_CAPACITY_BLOCKS);
    index.record(1, blocksOf(2, 3));
    QCOMPARE(matchAll(index, blocksOf(2, 10), {1}), (std::vector<int> {3}));
    index.forget(99); // unknown: no effect
}

void TestPrefixIndex::clearEmptiesABackendButKeepsItsSlotAndCapacity()
{
    PrefixIndex index {64, PrefixIndex::DEFAULT_CAPACITY_BLOCKS, EXACT};
    holdTwoBackends(index);
    QCOMPARE(index.clear(1), std::int64_t {16});
    QCOMPARE(matchAll(index, blocksOf(1, 10), {0, 1}), (std::vector<int> {10, 0}));
    QCOMPARE(matchAll(index, blocksOf(2, 6), {0, 1}), (std::vector<int> {0, 0}));
    QCOMPARE(index.heldBlocks(1), std::int64_t {0});
    QCOMPARE(index.distinctBlocks(), std::size_t {10}); // backend 0's blocks stay
    // Unlike forget(), the capacity stays, and the slot with it.
    QCOMPARE(index.capacityBlocks(1), std::int64_t {100});
    index.record(1, blocksOf(3, 150));
    QCOMPARE(index.heldBlocks(1), std::int64_t {100});
    QCOMPARE(index.clear(1), std::int64_t {100});
    QCOMPARE(index.clear(1), std::int64_t {0}); // already empty
    QCOMPARE(index.clear(99), std::int64_t {0}); // unknown: no effect
}

void TestPrefixIndex::backendsBeyondSixtyFourAreNotIndexed()
{
    PrefixIndex index {64, PrefixIndex::DEFAULT_CAPACITY_BLOCKS, EXACT};
    for (int backend = 0; backend <= PrefixIndex::MAX_BACKENDS; ++backend) {
        index.record(backend, blocksOf(1, 4));
    }
    const int extra = PrefixIndex::MAX_BACKENDS;
    QCOMPARE(matchAll(index, blocksOf(1, 4), {0, extra - 1, extra}), (std::vector<int> {4, 4, 0}));
    QCOMPARE(index.heldBlocks(extra), std::int64_t {0});
    // Freeing a slot lets the next new backend in.
    index.forget(0);
    index.record(extra, blocksOf(1, 4));
    QCOMPARE(matchAll(index, blocksOf(1, 4), {0, extra}), (std::vector<int> {0, 4}));
    // Ids outside [0, MAX_BACKEND_ID) are never indexed.
    index.record(-1, blocksOf(1, 4));
    index.record(PrefixIndex::MAX_BACKEND_ID, blocksOf(1, 4));
    QCOMPARE(matchAll(index, blocksOf(1, 4), {-1, PrefixIndex::MAX_BACKEND_ID}), (std::vector<int> {0, 0}));
}

void TestPrefixIndex::capacityFromEngineGeometry()
{
    EngineSignals engine;
    QCOMPARE(PrefixIndex::capacityForEngine(engine, 64), std::int64_t {0});
    engine.cacheBlocks = 29205;
    engine.cacheBlockSize = 16;
    QCOMPARE(PrefixIndex::capacityForEngine(engine, 64), std::int64_t {29205}); // 16-token blocks both
    engine.cacheBlockSize = 32;
    QCOMPARE(PrefixIndex::capacityForEngine(engine, 64), std::int64_t {58410});
    QCOMPARE(PrefixIndex::capacityForEngine(engine, 128), std::int64_t {29205});
}

void TestPrefixIndex::anchorsEveryStrideAndTheLastBlock()
{
    QCOMPARE(PrefixIndex {}.strideBlocks(), 8); // the default: 128 tokens
    PrefixIndex index {64, PrefixIndex::DEFAULT_CAPACITY_BLOCKS, 4};
    index.record(0, blocksOf(1, 10)); // anchors at blocks 3, 7 and 9 (the last)
    QCOMPARE(matchAll(index, blocksOf(1, 10), {0}), (std::vector<int> {10}));
    // Extended by two blocks: anchors 3 and 7 held, 11 not: 8 blocks (2 short of 10).
    QCOMPARE(matchAll(index, blocksOf(1, 12), {0}), (std::vector<int> {8}));
    // A 9-block prefix: its last block (8) is no anchor of the recorded prompt.
    QCOMPARE(matchAll(index, blocksOf(1, 9), {0}), (std::vector<int> {8}));
    QCOMPARE(matchAll(index, blocksOf(1, 8), {0}), (std::vector<int> {8}));
    // Diverging at block 5: anchor 3 held, anchor 7 not.
    std::vector<std::uint64_t> diverging = blocksOf(1, 5);
    const std::vector<std::uint64_t> other = blocksOf(2, 5);
    diverging.insert(diverging.end(), other.begin(), other.end());
    QCOMPARE(matchAll(index, diverging, {0}), (std::vector<int> {4}));
    // Shorter than one stride: the last block is the only anchor.
    QCOMPARE(matchAll(index, blocksOf(1, 2), {0}), (std::vector<int> {0}));
    index.record(1, blocksOf(1, 2));
    QCOMPARE(matchAll(index, blocksOf(1, 2), {0, 1}), (std::vector<int> {0, 2}));
}

void TestPrefixIndex::capacityCountsAnchors()
{
    PrefixIndex index {64, PrefixIndex::DEFAULT_CAPACITY_BLOCKS, 4};
    index.setCapacityBlocks(0, 10); // 3 anchors (rounded up)
    index.record(0, blocksOf(1, 20));
    QCOMPARE(index.capacityBlocks(0), std::int64_t {10});
    QCOMPARE(index.heldBlocks(0), std::int64_t {12});
    QCOMPARE(matchAll(index, blocksOf(1, 20), {0}), (std::vector<int> {12}));
    QCOMPARE(index.distinctBlocks(), std::size_t {3});
}

void TestPrefixIndex::agreesWithANaiveModelUnderChurn_data()
{
    QTest::addColumn<int>("stride");
    QTest::newRow("every block") << 1;
    QTest::newRow("default stride") << PrefixIndex::DEFAULT_STRIDE_BLOCKS;
    QTest::newRow("stride 3") << 3;
}

void TestPrefixIndex::agreesWithANaiveModelUnderChurn()
{
    // Many prompt families sharing heads at random depths, four backends with small,
    // changing capacities: every match must equal the naive model's.
    QFETCH(int, stride);
    PrefixIndex index {64, PrefixIndex::DEFAULT_CAPACITY_BLOCKS, stride};
    NaiveIndex naive {static_cast<std::size_t>(stride)};
    XoshiroRng rng {77};
    const std::vector<int> ids {0, 1, 2, 3};
    for (const int id : ids) {
        index.setCapacityBlocks(id, 20 + id * 7);
        naive.setCapacity(id, 20 + id * 7);
    }
    for (int step = 0; step < 20000; ++step) {
        // Families 0..15; a prompt is family f's first k blocks plus a private tail.
        const std::uint64_t family = rng.next() % 16;
        std::vector<std::uint64_t> prompt = blocksOf(family, 1 + rng.next() % 12);
        const std::vector<std::uint64_t> tail = blocksOf(1000 + static_cast<std::uint64_t>(step), rng.next() % 4);
        prompt.insert(prompt.end(), tail.begin(), tail.end());
        const std::vector<int> matched = matchAll(index, prompt, ids);
        for (std::size_t i = 0; i < ids.size(); ++i) {
            QCOMPARE(matched[i], naive.match(ids[i], prompt));
        }
        const int chosen = static_cast<int>(rng.next() % ids.size());
        index.record(chosen, prompt);
        naive.record(chosen, prompt);
        if (step % 997 == 0) {
            const auto capacity = static_cast<std::int64_t>(5 + rng.next() % 40);
            index.setCapacityBlocks(chosen, capacity);
            naive.setCapacity(chosen, capacity);
        }
        if (step % 4999 == 0) {
            index.forget(chosen);
            naive.setCapacity(chosen, 0);
            naive.setCapacity(chosen, PrefixIndex::DEFAULT_CAPACITY_BLOCKS);
            index.setCapacityBlocks(chosen, PrefixIndex::DEFAULT_CAPACITY_BLOCKS);
        }
    }
    std::int64_t held = 0;
    for (const int id : ids) {
        QVERIFY(index.heldBlocks(id) <= index.capacityBlocks(id) + stride - 1); // anchors round up
        held += index.heldBlocks(id);
    }
    QVERIFY(index.distinctBlocks() <= static_cast<std::size_t>(held));
}

void TestPrefixIndex::concurrentMatchAndRecordSmoke()
{
    // Four workers deciding at once over 8 backends: no crash, no lost invariant.
    PrefixIndex index {64, PrefixIndex::DEFAULT_CAPACITY_BLOCKS, EXACT};
    for (int id = 0; id < 8; ++id) {
        index.setCapacityBlocks(id, 2000);
    }
    std::vector<std::thread> workers;
    for (int worker = 0; worker < 4; ++worker) {
        workers.emplace_back([&index, worker] {
            XoshiroRng rng {static_cast<std::uint64_t>(worker) + 1};
            const std::vector<int> ids {0, 1, 2, 3, 4, 5, 6, 7};
            std::vector<int> matched(ids.size());
            for (int i = 0; i < 3000; ++i) {
                const std::vector<std::uint64_t> prompt = blocksOf(rng.next() % 64, 1 + rng.next() % 128);
                index.match(prompt, ids, matched);
                index.record(static_cast<int>(rng.next() % ids.size()), prompt);
                if (i % 500 == 0) {
                    index.setCapacityBlocks(static_cast<int>(rng.next() % ids.size()), 1000 + rng.next() % 1000);
                }
            }
        });
    }
    for (std::thread &worker : workers) {
        worker.join();
    }
    for (int id = 0; id < 8; ++id) {
        QVERIFY(index.heldBlocks(id) <= index.capacityBlocks(id));
        QVERIFY(index.heldBlocks(id) > 0);
    }
    // Record once more and the blocks are there: the structure is still consistent.
    index.record(0, blocksOf(99, 50));
    QCOMPARE(matchAll(index, blocksOf(99, 50), {0}), (std::vector<int> {50}));
}

QTEST_APPLESS_MAIN(TestPrefixIndex)
#include "testprefixindex.moc"
