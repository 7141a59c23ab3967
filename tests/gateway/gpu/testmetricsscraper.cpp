#include "gpu/metricsscraper.h"
#include "gpu/steadyclock.h"

#include <QFile>
#include <QHash>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <memory>

using Gateway::Gpu::EngineKind;
using Gateway::Gpu::MetricsScraper;
using Gateway::Gpu::ScrapeSettings;
using Gateway::Gpu::ScrapeTarget;
using Gateway::Gpu::steadyNowMs;

namespace {

constexpr int WAIT_MS = 10000; // generous: two shared cores

QByteArray fixture(const char *name)
{
    QFile file {QStringLiteral(GPU_TEST_DATA_DIR "/") + QLatin1String(name)};
    if (!file.open(QIODevice::ReadOnly)) {
        qFatal("cannot read fixture %s", name);
    }
    return file.readAll();
}

QByteArray sglangRunning(int running)
{
    return QByteArrayLiteral("# HELP sglang:num_running_reqs The number of running requests.\n"
                             "# TYPE sglang:num_running_reqs gauge\n"
                             "sglang:num_running_reqs{model_name=\"m\"} ")
        + QByteArray::number(running) + QByteArrayLiteral(".0\n");
}

// A stand-in for an engine's /metrics: a real HTTP/1.1 server on 127.0.0.1 whose answer
// the test controls. It answers every request with Connection: close, or (Hang) reads
// the request and never answers.
class MetricsStub final : public QObject {
public:
    enum class Mode { Serve, Hang };

    MetricsStub() { connect(&m_server, &QTcpServer::newConnection, this, &MetricsStub::accept); }

    bool listen() { return m_server.listen(QHostAddress::LocalHost, 0); }
    QUrl url() const { return QUrl {QStringLiteral("http://127.0.0.1:%1/metrics").arg(m_server.serverPort())}; }

    void setBody(const QByteArray &body) { m_body = body; }
    void setStatus(int status) { m_status = status; }
    void setMode(Mode mode) { m_mode = mode; }

    int requests() const { return m_requests; }
    int openConnections() const { return m_open; }
    const QByteArray &lastRequestHead() const { return m_lastHead; }

private:
    void accept()
    {
        while (QTcpSocket *socket = m_server.nextPendingConnection()) {
            ++m_open;
            connect(socket, &QTcpSocket::readyRead, this, [this, socket] { read(socket); });
            connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
                --m_open;
                m_buffers.remove(socket);
                socket->deleteLater();
            });
        }
    }

    void read(QTcpSocket *socket)
    {
        QByteArray &buffer = m_buffers[socket];
        buffer += socket->readAll();
        const qsizetype end = buffer.indexOf("\r\n\r\n");
        if (end < 0) {
            return;
        }
        ++m_requests;
        m_lastHead = buffer.left(end);
        buffer.clear();
        if (m_mode == Mode::Hang) {
            return;
        }
        const QByteArray reason = m_status == 200 ? QByteArrayLiteral("OK") : QByteArrayLiteral("Error");
        QByteArray response = QByteArrayLiteral("HTTP/1.1 ") + QByteArray::number(m_status) + ' ' + reason
            + QByteArrayLiteral("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: ")
            + QByteArray::number(m_body.size()) + QByteArrayLiteral("\r\nConnection: close\r\n\r\n") + m_body;
        socket->write(response);
        socket->disconnectFromHost();
    }

    QHash<QTcpSocket *, QByteArray> m_buffers;
    QByteArray m_body;
    int m_status = 200;
    Mode m_mode = Mode::Serve;
    int m_requests = 0;
    int m_open = 0;
    QByteArray m_lastHead;
    // Declared last, so destroyed first: deleting a still-connected socket (its child)
    // emits disconnected(), whose handler above touches m_buffers and m_open. Members
    // die before the QObject base severs the connection, so they must still be alive.
    QTcpServer m_server;
};

ScrapeSettings fastSettings()
{
    ScrapeSettings settings;
    settings.intervalMs = 50;
    // The derived timeout (4 intervals, 200 ms) is shorter than a first scrape can take
    // on a loaded CI machine or under a memory checker; tests that want a timeout set one.
    settings.timeoutMs = ScrapeSettings::MAX_TIMEOUT_MS;
    return settings;
}

// A port nothing listens on: bound once, then released.
quint16 closedPort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0)) {
        qFatal("cannot bind a port");
    }
    const quint16 port = server.serverPort();
    server.close();
    return port;
}

} // namespace

class TestMetricsScraper final : public QObject {
    Q_OBJECT

private slots:
    void derivedSettings();
    void becomesFreshWithTheEnginesValues();
    void reflectsAChangedExposition();
    void goesStaleWhenTheServerStopsAnswering();
    void refusedConnectionIsOnlyNotFresh();
    void httpErrorsAndForeignExpositionsAreFailures();
    void targetsCanBeReplacedWhileRunning();
    void restartsAfterStop();
    void destroyedWithAScrapeInFlight();
};

void TestMetricsScraper::derivedSettings()
{
    const MetricsScraper defaults;
    QCOMPARE(defaults.settings().intervalMs, qint64 {250});
    QCOMPARE(defaults.settings().timeoutMs, qint64 {1000});     // min(2 s, 4 x 250 ms)
    QCOMPARE(defaults.settings().staleAfterMs, qint64 {1000});  // max(3 x 250 ms, 1 s)

    ScrapeSettings slow;
    slow.intervalMs = 5000;
    const MetricsScraper slowScraper {slow};
    QCOMPARE(slowScraper.settings().timeoutMs, qint64 {2000});
    QCOMPARE(slowScraper.settings().staleAfterMs, qint64 {15000});

    ScrapeSettings explicitValues;
    explicitValues.intervalMs = 1;
    explicitValues.timeoutMs = 300;
    explicitValues.staleAfterMs = 700;
    const MetricsScraper custom {explicitValues};
    QCOMPARE(custom.settings().intervalMs, ScrapeSettings::MIN_INTERVAL_MS);
    QCOMPARE(custom.settings().timeoutMs, qint64 {300});
    QCOMPARE(custom.settings().staleAfterMs, qint64 {700});
}

void TestMetricsScraper::becomesFreshWithTheEnginesValues()
{
    MetricsStub engine;
    QVERIFY(engine.listen());
    engine.setBody(fixture("vllm-0.11-dp2.txt"));

    MetricsScraper scraper {fastSettings()};
    QSignalSpy scraped {&scraper, &MetricsScraper::scraped};
    scraper.setTargets({{3, engine.url()}});
    QVERIFY(!scraper.signalsFor(3, steadyNowMs()).fresh);
    scraper.start();

    QTRY_VERIFY_WITH_TIMEOUT(scraper.signalsFor(3, steadyNowMs()).fresh, WAIT_MS);
    const auto signals_ = scraper.signalsFor(3, steadyNowMs());
    QCOMPARE(signals_.runningRequests, 12.0);
    QCOMPARE(signals_.waitingRequests, 2.0);
    QVERIFY(std::abs(signals_.kvCacheUsage - 0.30) < 1e-9);
    QCOMPARE(signals_.cacheBlockSize, std::int64_t {16});
    QCOMPARE(signals_.cacheBlocks, std::int64_t {55232});
    QVERIFY(signals_.ageMs >= 0);
    QVERIFY(signals_.ageMs <= scraper.settings().staleAfterMs);

    QTRY_VERIFY_WITH_TIMEOUT(!scraped.isEmpty(), WAIT_MS);
    QCOMPARE(scraped.front().front().toInt(), 3);
    const auto counters = scraper.countersFor(3);
    QVERIFY(counters.has_value());
    QVERIFY(counters->scrapesOk >= 1);
    QCOMPARE(counters->scrapesFailed, std::uint64_t {0});
    QCOMPARE(counters->parseErrors, std::uint64_t {0});
    QCOMPARE(counters->engine, EngineKind::Vllm);

    QVERIFY(engine.lastRequestHead().startsWith("GET /metrics HTTP/1.1\r\n"));
    QVERIFY(engine.lastRequestHead().contains("version=0.0.4"));
}

void TestMetricsScraper::reflectsAChangedExposition()
{
    MetricsStub engine;
    QVERIFY(engine.listen());
    engine.setBody(sglangRunning(3));

    MetricsScraper scraper {fastSettings()};
    scraper.setTargets({{0, engine.url()}});
    scraper.start();
    QTRY_COMPARE_WITH_TIMEOUT(scraper.signalsFor(0, steadyNowMs()).runningRequests, 3.0, WAIT_MS);
    QVERIFY(scraper.signalsFor(0, steadyNowMs()).fresh);

    engine.setBody(sglangRunning(9));
    QTRY_COMPARE_WITH_TIMEOUT(scraper.signalsFor(0, steadyNowMs()).runningRequests, 9.0, WAIT_MS);
    QCOMPARE(scraper.countersFor(0)->engine, EngineKind::Sglang);
}

void TestMetricsScraper::goesStaleWhenTheServerStopsAnswering()
{
    MetricsStub engine;
    QVERIFY(engine.listen());
    engine.setBody(sglangRunning(4));

    ScrapeSettings settings = fastSettings();
    settings.timeoutMs = 200;
    settings.staleAfterMs = 400;
    MetricsScraper scraper {settings};
    scraper.setTargets({{1, engine.url()}});
    scraper.start();
    QTRY_VERIFY_WITH_TIMEOUT(scraper.signalsFor(1, steadyNowMs()).fresh, WAIT_MS);

    engine.setMode(MetricsStub::Mode::Hang);
    QTRY_VERIFY_WITH_TIMEOUT(!scraper.signalsFor(1, steadyNowMs()).fresh, WAIT_MS);
    QTRY_VERIFY_WITH_TIMEOUT(scraper.countersFor(1)->scrapesFailed >= 3, WAIT_MS);

    const auto stale = scraper.signalsFor(1, steadyNowMs());
    QVERIFY(stale.ageMs > settings.staleAfterMs);
    QCOMPARE(stale.runningRequests, 4.0); // last known values are kept for display
    QVERIFY(scraper.countersFor(1)->lastError.startsWith("timed out after 200 ms"));

    // Never two scrapes of one target at once: every request the server saw has ended in
    // a recorded failure, except at most the one in flight (polled every 50 ms, an
    // overlapping scraper would have sent four requests per timeout).
    const int requests = engine.requests();
    const auto counters = scraper.countersFor(1);
    QVERIFY2(std::uint64_t(requests) <= counters->scrapesOk + counters->scrapesFailed + 1,
             qPrintable(QStringLiteral("%1 requests, %2 ok, %3 failed")
                            .arg(requests)
                            .arg(counters->scrapesOk)
                            .arg(counters->scrapesFailed)));

    // Answering again makes it fresh again.
    engine.setMode(MetricsStub::Mode::Serve);
    engine.setBody(sglangRunning(6));
    QTRY_VERIFY_WITH_TIMEOUT(scraper.signalsFor(1, steadyNowMs()).fresh, WAIT_MS);
    QTRY_COMPARE_WITH_TIMEOUT(scraper.signalsFor(1, steadyNowMs()).runningRequests, 6.0, WAIT_MS);
}

void TestMetricsScraper::refusedConnectionIsOnlyNotFresh()
{
    MetricsStub healthy;
    QVERIFY(healthy.listen());
    healthy.setBody(fixture("llamacpp.txt"));
    const QUrl refused {QStringLiteral("http://127.0.0.1:%1/metrics").arg(closedPort())};

    MetricsScraper scraper {fastSettings()};
    QSignalSpy scraped {&scraper, &MetricsScraper::scraped};
    scraper.setTargets({{1, refused}, {2, healthy.url()}});
    scraper.start();

    const auto attemptsOf = [&](int backendId) {
        int count = 0;
        for (const QList<QVariant> &arguments : scraped) {
            count += arguments.front().toInt() == backendId ? 1 : 0;
        }
        return count;
    };
    QTRY_VERIFY_WITH_TIMEOUT(attemptsOf(1) >= 3, WAIT_MS);
    QTRY_VERIFY_WITH_TIMEOUT(scraper.signalsFor(2, steadyNowMs()).fresh, WAIT_MS);

    const auto signals_ = scraper.signalsFor(1, steadyNowMs());
    QVERIFY(!signals_.fresh);
    QCOMPARE(signals_.ageMs, std::int64_t {-1});
    QCOMPARE(signals_.kvCacheUsage, -1.0);
    QCOMPARE(signals_.prefixCacheHitRate, -1.0);
    const auto counters = scraper.countersFor(1);
    QCOMPARE(counters->scrapesOk, std::uint64_t {0});
    QVERIFY(counters->scrapesFailed >= 3);
    QVERIFY(!counters->lastError.isEmpty());
    QCOMPARE(counters->engine, EngineKind::Unknown);

    QCOMPARE(scraper.signalsFor(2, steadyNowMs()).runningRequests, 2.0);
    QCOMPARE(scraper.countersFor(2)->engine, EngineKind::LlamaCpp);
}

void TestMetricsScraper::httpErrorsAndForeignExpositionsAreFailures()
{
    MetricsStub failing;
    QVERIFY(failing.listen());
    failing.setStatus(503);
    failing.setBody("busy\n");
    MetricsStub foreign;
    QVERIFY(foreign.listen());
    foreign.setBody("# TYPE node_load1 gauge\nnode_load1 0.21\nbroken line\n");

    MetricsScraper scraper {fastSettings()};
    scraper.setTargets({{1, failing.url()}, {2, foreign.url()}});
    scraper.start();
    QTRY_VERIFY_WITH_TIMEOUT(scraper.countersFor(1) && scraper.countersFor(1)->scrapesFailed >= 2, WAIT_MS);
    QTRY_VERIFY_WITH_TIMEOUT(scraper.countersFor(2) && scraper.countersFor(2)->scrapesFailed >= 2, WAIT_MS);

    QCOMPARE(scraper.countersFor(1)->lastError, QByteArray("HTTP 503"));
    QCOMPARE(scraper.countersFor(1)->scrapesOk, std::uint64_t {0});
    QVERIFY(!scraper.signalsFor(1, steadyNowMs()).fresh);

    QVERIFY(scraper.countersFor(2)->lastError.startsWith("no vLLM, SGLang, TGI or llama.cpp series"));
    QVERIFY(scraper.countersFor(2)->parseErrors >= 2); // one malformed line per scrape
    QVERIFY(!scraper.signalsFor(2, steadyNowMs()).fresh);

    const auto all = scraper.counters();
    QCOMPARE(all.size(), std::size_t {2});
    QCOMPARE(all[0].url, failing.url());
    QCOMPARE(all[1].url, foreign.url());
}

void TestMetricsScraper::targetsCanBeReplacedWhileRunning()
{
    MetricsStub first;
    QVERIFY(first.listen());
    first.setBody(sglangRunning(1));
    MetricsStub second;
    QVERIFY(second.listen());
    second.setBody(sglangRunning(2));

    MetricsScraper scraper {fastSettings()};
    scraper.setTargets({{1, first.url()}});
    scraper.start();
    QTRY_VERIFY_WITH_TIMEOUT(scraper.signalsFor(1, steadyNowMs()).fresh, WAIT_MS);

    // Backend 1 keeps its URL (and history), backend 2 is new.
    scraper.setTargets({{2, second.url()}, {1, first.url()}});
    QTRY_VERIFY_WITH_TIMEOUT(scraper.signalsFor(2, steadyNowMs()).fresh, WAIT_MS);
    QCOMPARE(scraper.signalsFor(2, steadyNowMs()).runningRequests, 2.0);
    QVERIFY(scraper.signalsFor(1, steadyNowMs()).fresh);

    // Backend 1 now points at the second server: a new history from its values.
    scraper.setTargets({{1, second.url()}});
    QTRY_VERIFY_WITH_TIMEOUT(!scraper.countersFor(2).has_value(), WAIT_MS);
    QTRY_COMPARE_WITH_TIMEOUT(scraper.signalsFor(1, steadyNowMs()).runningRequests, 2.0, WAIT_MS);
    QCOMPARE(scraper.counters().size(), std::size_t {1});
    QCOMPARE(scraper.counters().front().url, second.url());

    scraper.setTargets({});
    QTRY_VERIFY_WITH_TIMEOUT(scraper.counters().empty(), WAIT_MS);
    QVERIFY(!scraper.signalsFor(1, steadyNowMs()).fresh);
}

void TestMetricsScraper::restartsAfterStop()
{
    MetricsStub engine;
    QVERIFY(engine.listen());
    engine.setBody(sglangRunning(1));

    MetricsScraper scraper {fastSettings()};
    scraper.setTargets({{1, engine.url()}});
    scraper.start();
    QTRY_COMPARE_WITH_TIMEOUT(scraper.signalsFor(1, steadyNowMs()).runningRequests, 1.0, WAIT_MS);

    scraper.stop();
    engine.setBody(sglangRunning(5));
    scraper.start();
    QTRY_COMPARE_WITH_TIMEOUT(scraper.signalsFor(1, steadyNowMs()).runningRequests, 5.0, WAIT_MS);
}

void TestMetricsScraper::destroyedWithAScrapeInFlight()
{
    MetricsStub engine;
    QVERIFY(engine.listen());
    engine.setMode(MetricsStub::Mode::Hang);

    auto scraper = std::make_unique<MetricsScraper>(fastSettings());
    scraper->setTargets({{1, engine.url()}});
    scraper->start();
    QTRY_VERIFY_WITH_TIMEOUT(engine.requests() >= 1 && engine.openConnections() == 1, WAIT_MS);

    scraper.reset(); // joins the thread; the pending request is abandoned
    QTRY_COMPARE_WITH_TIMEOUT(engine.openConnections(), 0, WAIT_MS);
}

QTEST_GUILESS_MAIN(TestMetricsScraper)
#include "testmetricsscraper.moc"
