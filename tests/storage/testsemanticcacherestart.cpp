// The semantic cache survives a restart: a gateway with the real SQLite writer stores an
// answer with its embedding; a new gateway on the same store, restored from it, answers
// a paraphrase from the cache without asking the upstream. Expired rows are not loaded.

#include "semanticcachewriter.h"

#include "gateway/cache/cachetestsupport.h"

#include <QDateTime>
#include <QTemporaryDir>
#include <QTest>

using namespace CacheTest;

class TestSemanticCacheRestart final : public QObject {
    Q_OBJECT

private slots:
    void aRestartKeepsTheSemanticCache()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("switchyard.db"));
        auto chatSim = startSim();
        auto embedSim = startSim();
        QVERIFY(chatSim && embedSim);
        const QByteArray yaml = "providers:\n  - {name: sim, type: vllm, base_url: " + chatSim->baseUrl() + "}\n" +
                                "  - {name: embedder, type: vllm, base_url: " + embedSim->baseUrl() + "}\n" +
                                "routes:\n  - model: embed\n    targets: [{provider: embedder, model: e}]\n"
                                "  - model: chat\n    targets: [{provider: sim, model: m}]\n"
                                "    cache: {semantic: {embeddings_route: embed, threshold: 0.8, ttl_ms: 600000}, scope: global}\n";
        QByteArray firstBody;
        {
            auto writer = Storage::SemanticCacheWriter::start({path, 100, {}});
            QVERIFY2(writer, writer ? "" : qPrintable(writer.error()));
            auto gateway = startGateway(yaml, nullptr, writer.value().get());
            QVERIFY(gateway);
            const auto first = send(gateway->port(), chat("What is the capital city of France?"));
            QCOMPARE(first.header("x-switchyard-cache"), QByteArray("miss"));
            firstBody = first.body;
            QTRY_COMPARE_WITH_TIMEOUT(gateway->cache().figures("chat").entries, 1, 10000);
            gateway.reset();
            writer.value()->flush();
            QCOMPARE(writer.value()->committed(), 1u);
        }
        QCOMPARE(chatSim->requestsReceived(), 1);

        const auto records = Storage::SemanticCacheWriter::load(path, QDateTime::currentMSecsSinceEpoch());
        QVERIFY2(records, records ? "" : qPrintable(records.error()));
        QCOMPARE(records->size(), 1u);
        QCOMPARE(records->front().route, QByteArray("chat"));
        QCOMPARE(records->front().embedding.size(), 128u);
        // Past their expiry, rows are not loaded.
        const auto later = Storage::SemanticCacheWriter::load(path, QDateTime::currentMSecsSinceEpoch() + 700000);
        QVERIFY(later);
        QCOMPARE(later->size(), 0u);

        auto writer = Storage::SemanticCacheWriter::start({path, 100, {}});
        QVERIFY(writer);
        auto gateway = startGateway(yaml, nullptr, writer.value().get(), records.value());
        QVERIFY(gateway);
        QCOMPARE(gateway->cache().figures("chat").entries, 1);
        const auto again = send(gateway->port(), chat("Tell me, what is the capital city of France?"));
        QCOMPARE(again.header("x-switchyard-cache"), QByteArray("semantic-hit"));
        QCOMPARE(again.body, firstBody);
        QCOMPARE(chatSim->requestsReceived(), 1);
    }
};

QTEST_GUILESS_MAIN(TestSemanticCacheRestart)
#include "testsemanticcacherestart.moc"
