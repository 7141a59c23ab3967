// The semantic index: the most similar live entry of the same partition at or above the
// threshold; expiry, partitions and the entry bound.

#include "cache/semanticindex.h"

#include <QTest>

using Gateway::Cache::CachedAnswer;
using Gateway::Cache::SemanticIndex;

namespace {

std::shared_ptr<const CachedAnswer> answer(const char *body)
{
    auto a = std::make_shared<CachedAnswer>();
    a->body = body;
    return a;
}

std::vector<float> unit(std::vector<float> v)
{
    return SemanticIndex::normalised(std::move(v));
}

} // namespace

class TestSemanticIndex final : public QObject {
    Q_OBJECT

private slots:
    void findsTheClosestAboveTheThreshold()
    {
        SemanticIndex index {10};
        index.insert("p", unit({1, 0, 0}), answer("x"), 1000, 0);
        index.insert("p", unit({1, 1, 0}), answer("xy"), 1000, 0);
        const auto near = index.find("p", unit({1, 0.1f, 0}), 0.9, 0);
        QVERIFY(near);
        QCOMPARE(near->answer->body, QByteArray("x"));
        QVERIFY(near->similarity > 0.99);
        QVERIFY(!index.find("p", unit({0, 0, 1}), 0.5, 0));
        // cos((1,1,0),(1,0,0)) = 0.707: below 0.8, above 0.7.
        SemanticIndex single {10};
        single.insert("p", unit({1, 1, 0}), answer("xy"), 1000, 0);
        QVERIFY(!single.find("p", unit({1, 0, 0}), 0.8, 0));
        QVERIFY(single.find("p", unit({1, 0, 0}), 0.7, 0));
    }

    void partitionsAndExpiryAreHonoured()
    {
        SemanticIndex index {10};
        index.insert("p", unit({1, 0}), answer("x"), 1000, 0);
        QVERIFY(!index.find("q", unit({1, 0}), 0.5, 0));
        QVERIFY(index.find("p", unit({1, 0}), 0.5, 999));
        QVERIFY(!index.find("p", unit({1, 0}), 0.5, 1000));
    }

    void boundedByEntriesOldestOut()
    {
        SemanticIndex index {2};
        index.insert("p", unit({1, 0, 0}), answer("a"), 1000, 0);
        index.insert("p", unit({0, 1, 0}), answer("b"), 1000, 0);
        index.insert("p", unit({0, 0, 1}), answer("c"), 1000, 0);
        QCOMPARE(index.entries(), 2);
        QVERIFY(!index.find("p", unit({1, 0, 0}), 0.9, 0));
        QVERIFY(index.find("p", unit({0, 0, 1}), 0.9, 0));
    }

    void zeroVectorsAreNotIndexed()
    {
        QVERIFY(SemanticIndex::normalised({0, 0}).empty());
        SemanticIndex index {2};
        index.insert("p", {}, answer("a"), 1000, 0);
        QCOMPARE(index.entries(), 0);
    }
};

QTEST_APPLESS_MAIN(TestSemanticIndex)
#include "testsemanticindex.moc"
