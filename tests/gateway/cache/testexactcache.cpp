// The exact cache's bounds over caller-supplied time: TTL, least-recently-used eviction
// by bytes and by entries, replacement, and thread safety under concurrent use.

#include "cache/exactcache.h"

#include <QTest>

#include <thread>
#include <vector>

using Gateway::Cache::AnswerPtr;
using Gateway::Cache::CachedAnswer;
using Gateway::Cache::ExactCache;

namespace {

AnswerPtr answerOf(qsizetype bytes, char fill = 'x')
{
    auto answer = std::make_shared<CachedAnswer>();
    answer->contentType = "application/json";
    answer->body = QByteArray(bytes, fill);
    return answer;
}

QByteArray key(int i)
{
    return QByteArray(1, static_cast<char>(i)) + QByteArray::number(i).rightJustified(31, '0');
}

} // namespace

class TestExactCache final : public QObject {
    Q_OBJECT

private slots:
    void expiresAfterItsTtl()
    {
        ExactCache cache {10, 1 << 20, 1};
        cache.insert(key(1), answerOf(10), 1000);
        QVERIFY(cache.find(key(1), 999));
        QVERIFY(!cache.find(key(1), 1000));
        QCOMPARE(cache.entries(), 0);
        QCOMPARE(cache.bytes(), 0);
    }

    void evictsLeastRecentlyUsedByBytes()
    {
        const qint64 one = answerOf(1000)->footprint() + key(1).size();
        ExactCache cache {100, 3 * one, 1}; // room for three answers
        cache.insert(key(1), answerOf(1000, 'a'), 1'000'000);
        cache.insert(key(2), answerOf(1000, 'b'), 1'000'000);
        cache.insert(key(3), answerOf(1000, 'c'), 1'000'000);
        QCOMPARE(cache.bytes(), 3 * one);
        QVERIFY(cache.find(key(1), 0)); // 1 is now the most recently used: 2 is the oldest
        cache.insert(key(4), answerOf(1000, 'd'), 1'000'000);
        QCOMPARE(cache.entries(), 3);
        QVERIFY(cache.bytes() <= 3 * one);
        QVERIFY(!cache.find(key(2), 0));
        QVERIFY(cache.find(key(1), 0));
        QVERIFY(cache.find(key(3), 0));
        QCOMPARE(cache.find(key(4), 0)->body, QByteArray(1000, 'd'));
        QCOMPARE(cache.evictions(), 1u);
        // A larger answer pushes out as many of the oldest as it needs.
        cache.insert(key(5), answerOf(2000, 'e'), 1'000'000);
        QVERIFY(cache.bytes() <= 3 * one);
        QVERIFY(cache.find(key(5), 0));
        QCOMPARE(cache.entries(), 2);
    }

    void answerLargerThanTheBoundIsNotStored()
    {
        ExactCache cache {100, 2048, 1};
        cache.insert(key(1), answerOf(4096), 1'000'000);
        QCOMPARE(cache.entries(), 0);
        QVERIFY(!cache.find(key(1), 0));
    }

    void evictsByEntries()
    {
        ExactCache cache {2, 1 << 20, 1};
        for (int i = 1; i <= 3; ++i) {
            cache.insert(key(i), answerOf(10), 1'000'000);
        }
        QCOMPARE(cache.entries(), 2);
        QVERIFY(!cache.find(key(1), 0));
    }

    void replacingKeepsOneEntry()
    {
        ExactCache cache {10, 1 << 20, 1};
        cache.insert(key(1), answerOf(10, 'a'), 1'000'000);
        cache.insert(key(1), answerOf(20, 'b'), 1'000'000);
        QCOMPARE(cache.entries(), 1);
        QCOMPARE(cache.find(key(1), 0)->body, QByteArray(20, 'b'));
        QCOMPARE(cache.bytes(), answerOf(20)->footprint() + key(1).size());
    }

    void concurrentUseKeepsTheBounds()
    {
        ExactCache cache {64, 1 << 20};
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&cache, t] {
                for (int i = 0; i < 5000; ++i) {
                    const int k = (i * 7 + t) % 200;
                    if (!cache.find(key(k), 0)) {
                        cache.insert(key(k), answerOf(100), 1'000'000);
                    }
                }
            });
        }
        for (auto &thread : threads) {
            thread.join();
        }
        // 16 shards of ceil(64 / 16) = 4 entries each.
        QVERIFY2(cache.entries() <= 64, qPrintable(QString::number(cache.entries())));
        QVERIFY(cache.entries() > 0);
    }
};

QTEST_APPLESS_MAIN(TestExactCache)
#include "testexactcache.moc"
