#include "gpu/enginesignalboard.h"

#include <QTest>

using Gateway::Gpu::EngineKind;
using Gateway::Gpu::EngineSample;
using Gateway::Gpu::EngineSignalBoard;
using Gateway::Gpu::ScrapeTarget;

namespace {

constexpr qint64 STALE_MS = 1000;

QUrl url(int port)
{
    return QUrl {QStringLiteral("http://127.0.0.1:%1/metrics").arg(port)};
}

EngineSample running(double requests, qsizetype malformedLines = 0)
{
    EngineSample sample;
    sample.engine = EngineKind::Vllm;
    sample.runningRequests = requests;
    sample.malformedLines = malformedLines;
    return sample;
}

} // namespace

class TestEngineSignalBoard final : public QObject {
    Q_OBJECT

private slots:
    void unknownBackendIsNotFresh();
    void recordsPerBackend();
    void countsSuccessesFailuresAndParseErrors();
    void resultsForOtherBackendsAreDropped();
    void unchangedTargetsKeepTheirHistory();
    void repointedTargetStartsAfresh();
    void removedTargetIsForgotten();
    void repeatedBackendIdKeepsTheFirstUrl();
};

void TestEngineSignalBoard::unknownBackendIsNotFresh()
{
    const EngineSignalBoard board {STALE_MS};
    QVERIFY(!board.signalsFor(7, 0).fresh);
    QCOMPARE(board.signalsFor(7, 0).ageMs, std::int64_t {-1});
    QVERIFY(!board.countersFor(7).has_value());
    QVERIFY(board.counters().empty());
}

void TestEngineSignalBoard::recordsPerBackend()
{
    EngineSignalBoard board {STALE_MS};
    board.setTargets({{5, url(1005)}, {2, url(1002)}, {9, url(1009)}});
    board.recordSuccess(9, running(9), 100);
    board.recordSuccess(2, running(2), 100);
    QCOMPARE(board.signalsFor(9, 150).runningRequests, 9.0);
    QCOMPARE(board.signalsFor(2, 150).runningRequests, 2.0);
    QVERIFY(board.signalsFor(9, 150).fresh);
    QVERIFY(!board.signalsFor(5, 150).fresh);
    QVERIFY(!board.signalsFor(9, 100 + STALE_MS + 1).fresh);

    const auto all = board.counters();
    QCOMPARE(all.size(), std::size_t {3});
    QCOMPARE(all[0].backendId, 2); // sorted by backend id
    QCOMPARE(all[1].backendId, 5);
    QCOMPARE(all[2].backendId, 9);
    QCOMPARE(all[2].url, url(1009));
}

void TestEngineSignalBoard::countsSuccessesFailuresAndParseErrors()
{
    EngineSignalBoard board {STALE_MS};
    board.setTargets({{1, url(1001)}});
    board.recordFailure(1, "Connection refused");
    board.recordSuccess(1, running(1, 2), 10);
    board.recordSuccess(1, running(1, 1), 20);
    board.recordFailure(1, "no vLLM, SGLang, TGI or llama.cpp series in the exposition", 4);

    const auto counters = board.countersFor(1);
    QVERIFY(counters.has_value());
    QCOMPARE(counters->scrapesOk, std::uint64_t {2});
    QCOMPARE(counters->scrapesFailed, std::uint64_t {2});
    QCOMPARE(counters->parseErrors, std::uint64_t {7});
    QCOMPARE(counters->lastError, QByteArray("no vLLM, SGLang, TGI or llama.cpp series in the exposition"));
    QCOMPARE(counters->engine, EngineKind::Vllm);
    QVERIFY(board.signalsFor(1, 30).fresh); // failures alone do not end freshness
}

void TestEngineSignalBoard::resultsForOtherBackendsAreDropped()
{
    EngineSignalBoard board {STALE_MS};
    board.setTargets({{1, url(1001)}});
    board.recordSuccess(2, running(5), 10);
    board.recordFailure(3, "late result of a removed target");
    QVERIFY(!board.countersFor(2).has_value());
    QVERIFY(!board.countersFor(3).has_value());
    QCOMPARE(board.counters().size(), std::size_t {1});
}

void TestEngineSignalBoard::unchangedTargetsKeepTheirHistory()
{
    EngineSignalBoard board {STALE_MS};
    board.setTargets({{1, url(1001)}, {2, url(1002)}});
    board.recordSuccess(1, running(4), 10);
    board.setTargets({{3, url(1003)}, {1, url(1001)}});
    QVERIFY(board.signalsFor(1, 20).fresh);
    QCOMPARE(board.signalsFor(1, 20).runningRequests, 4.0);
    QCOMPARE(board.countersFor(1)->scrapesOk, std::uint64_t {1});
}

void TestEngineSignalBoard::repointedTargetStartsAfresh()
{
    EngineSignalBoard board {STALE_MS};
    board.setTargets({{1, url(1001)}});
    board.recordSuccess(1, running(4), 10);
    board.setTargets({{1, url(2001)}});
    QVERIFY(!board.signalsFor(1, 20).fresh);
    QCOMPARE(board.signalsFor(1, 20).ageMs, std::int64_t {-1});
    QCOMPARE(board.countersFor(1)->scrapesOk, std::uint64_t {0});
    QCOMPARE(board.counters().front().url, url(2001));
}

void TestEngineSignalBoard::removedTargetIsForgotten()
{
    EngineSignalBoard board {STALE_MS};
    board.setTargets({{1, url(1001)}, {2, url(1002)}});
    board.recordSuccess(2, running(4), 10);
    board.setTargets({{1, url(1001)}});
    QVERIFY(!board.signalsFor(2, 20).fresh);
    QVERIFY(!board.countersFor(2).has_value());
}

void TestEngineSignalBoard::repeatedBackendIdKeepsTheFirstUrl()
{
    EngineSignalBoard board {STALE_MS};
    board.setTargets({{4, url(1004)}, {4, url(9999)}});
    const auto all = board.counters();
    QCOMPARE(all.size(), std::size_t {1});
    QCOMPARE(all.front().url, url(1004));
}

QTEST_APPLESS_MAIN(TestEngineSignalBoard)
#include "testenginesignalboard.moc"
