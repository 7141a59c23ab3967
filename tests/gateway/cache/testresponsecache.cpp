// Response caching end to end over real sockets with simulated upstreams: an exact hit
// returns the identical body without an upstream request, a stream is replayed as SSE,
// entries expire, cache-control is honoured, scopes isolate keys, errors are not cached,
// hits pass through limits and the request log, the semantic cache serves a paraphrase
// above the threshold and not below, and the figures reach /metrics and /admin/v1/state.

#include "cachetestsupport.h"
#include "ssecontent.h"

#include <QDeadlineTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace CacheTest;
using TestSupport::TestHttpClient;

namespace {

QByteArray policy(const Gateway::Sim::SimulatedUpstream &sim, const QByteArray &cache, const QByteArray &tail = {})
{
    return "providers:\n  - {name: sim, type: vllm, base_url: " + sim.baseUrl() + "}\n" +
           "routes:\n  - model: chat\n    retry: {attempts: 1}\n"
           "    targets: [{provider: sim, model: m, input_cost_per_mtok: 1000, output_cost_per_mtok: 3000}]\n" +
           "    cache: " + cache + "\n" + tail;
}

QByteArray semanticPolicy(const Gateway::Sim::SimulatedUpstream &chatSim, const Gateway::Sim::SimulatedUpstream &embedSim,
                          double threshold)
{
    return "providers:\n  - {name: sim, type: vllm, base_url: " + chatSim.baseUrl() + "}\n" +
           "  - {name: embedder, type: vllm, base_url: " + embedSim.baseUrl() + "}\n" +
           "routes:\n  - model: embed\n    targets: [{provider: embedder, model: e}]\n"
           "  - model: chat\n    targets: [{provider: sim, model: m}]\n"
           "    cache: {semantic: {embeddings_route: embed, threshold: " + QByteArray::number(threshold) + "}, scope: global}\n";
}

qint64 cacheEntries(const Gateway::GatewayRuntime &runtime)
{
    return runtime.cache().figures("chat").entries;
}

QByteArray metricsOf(quint16 port)
{
    TestHttpClient client {port};
    client.get("/metrics");
    if (!client.waitForResponses(1, 10000)) {
        return {};
    }
    return client.responses().constFirst().body;
}

} // namespace

class TestResponseCache final : public QObject {
    Q_OBJECT

private slots:
    void exactHitReturnsTheIdenticalBodyWithoutUpstream();
    void streamIsReplayedAsSse();
    void anthropicStreamIsReplayedWithItsEvents();
    void entriesExpireAfterTheirTtl();
    void noCacheAndNoStoreAreHonoured();
    void keyScopeIsolatesKeysAndGlobalShares();
    void teamScopeSharesWithinATeam();
    void errorsAreNotCached();
    void hitsCountAgainstRateLimits();
    void semanticHitForAParaphraseAboveTheThreshold();
    void semanticMissBelowTheThreshold();
};

void TestResponseCache::exactHitReturnsTheIdenticalBodyWithoutUpstream()
{
    auto sim = startSim();
    QVERIFY(sim);
    RecordingLog log;
    auto gateway = startGateway(policy(*sim, "{exact: {ttl_ms: 600000}}"), &log);
    QVERIFY(gateway);
    const quint16 port = gateway->port();

    const auto first = send(port, chat("Hello cache"));
    QCOMPARE(first.status, 200);
    QCOMPARE(first.header("x-switchyard-cache"), QByteArray("miss"));
    QTRY_COMPARE_WITH_TIMEOUT(cacheEntries(*gateway), 1, 10000);

    // The same request with its keys reordered and other whitespace.
    const QByteArray reordered = "{ \"messages\": [{\"content\":\"Be brief.\",\"role\":\"system\"},{\"role\":\"user\","
                                 "\"content\":\"Hello cache\"}], \"max_tokens\": 4, \"model\": \"chat\", \"user\": \"someone\" }";
    const auto second = send(port, reordered);
    QCOMPARE(second.status, 200);
    QCOMPARE(second.header("x-switchyard-cache"), QByteArray("hit"));
    QCOMPARE(second.body, first.body);
    QCOMPARE(second.header("content-type"), first.header("content-type"));
    QCOMPARE(sim->requestsReceived(), 1);

    // A different prompt is a miss.
    QCOMPARE(send(port, chat("Something else")).header("x-switchyard-cache"), QByteArray("miss"));
    QCOMPARE(sim->requestsReceived(), 2);

    // The request log has the flag; the hit used no tokens and cost nothing.
    QTRY_COMPARE_WITH_TIMEOUT(static_cast<int>(log.entries().size()), 3, 10000);
    const auto entries = log.entries();
    QCOMPARE(entries[0].cache, QByteArray("miss"));
    QVERIFY(entries[0].costUsd > 0);
    QCOMPARE(entries[1].cache, QByteArray("hit"));
    QCOMPARE(entries[1].status, 200);
    QCOMPARE(entries[1].tokensIn, 0);
    QCOMPARE(entries[1].tokensOut, 0);
    QCOMPARE(entries[1].costUsd, 0.0);

    // Figures: /metrics and /admin/v1/state.
    const QJsonObject usage = QJsonDocument::fromJson(first.body).object()[u"usage"_qs].toObject();
    const qint64 tokens = usage[u"prompt_tokens"_qs].toInteger() + usage[u"completion_tokens"_qs].toInteger();
    QVERIFY(tokens > 0);
    const QByteArray metrics = metricsOf(port);
    QVERIFY2(metrics.contains("switchyard_cache_lookups_total{route=\"chat\",kind=\"exact\",result=\"hit\"} 1\n"), metrics.constData());
    QVERIFY(metrics.contains("switchyard_cache_lookups_total{route=\"chat\",kind=\"exact\",result=\"miss\"} 2\n"));
    QVERIFY(metrics.contains("switchyard_cache_entries{route=\"chat\",kind=\"exact\"} 2\n"));
    QVERIFY(metrics.contains(QByteArray("switchyard_cache_saved_tokens_total{route=\"chat\"} " + QByteArray::number(tokens) + '\n')));
    const double savedUsd = entries[0].costUsd;
    QVERIFY(metrics.contains("switchyard_cache_saved_usd_total{route=\"chat\"} "));
    const QJsonObject state = QJsonDocument::fromJson(gateway->stateJson()).object();
    const QJsonObject cache = state[u"routes"_qs].toArray().at(0).toObject()[u"cache"_qs].toObject();
    QCOMPARE(cache[u"hits"_qs].toInt(), 1);
    QCOMPARE(cache[u"lookups"_qs].toInt(), 3);
    QCOMPARE(cache[u"saved_tokens"_qs].toInteger(), tokens);
    QVERIFY(qAbs(cache[u"saved_usd"_qs].toDouble() - savedUsd) < 1e-9);
    QVERIFY(qAbs(cache[u"hit_ratio"_qs].toDouble() - 1.0 / 3.0) < 1e-9);
    QVERIFY(cache[u"bytes"_qs].toInteger() > first.body.size());
}

void TestResponseCache::streamIsReplayedAsSse()
{
    auto sim = startSim();
    QVERIFY(sim);
    auto gateway = startGateway(policy(*sim, "{exact: {}}"));
    QVERIFY(gateway);
    const auto first = send(gateway->port(), chat("Stream me", true));
    QCOMPARE(first.status, 200);
    QVERIFY(first.header("content-type").contains("text/event-stream"));
    QTRY_COMPARE_WITH_TIMEOUT(cacheEntries(*gateway), 1, 10000);

    const auto second = send(gateway->port(), chat("Stream me", true));
    QCOMPARE(second.header("x-switchyard-cache"), QByteArray("hit"));
    QVERIFY(second.header("content-type").contains("text/event-stream"));
    QCOMPARE(second.sseDataLines(), first.sseDataLines());
    QCOMPARE(TestSupport::joinedStreamContent(second.sseDataLines()), TestSupport::joinedStreamContent(first.sseDataLines()));
    QVERIFY(!TestSupport::joinedStreamContent(second.sseDataLines()).isEmpty());
    QCOMPARE(second.sseDataLines().constLast(), QByteArray("[DONE]"));
    QCOMPARE(sim->requestsReceived(), 1);

    // A non-streamed request is keyed apart: it goes upstream.
    QCOMPARE(send(gateway->port(), chat("Stream me")).header("x-switchyard-cache"), QByteArray("miss"));
    QCOMPARE(sim->requestsReceived(), 2);
}

void TestResponseCache::anthropicStreamIsReplayedWithItsEvents()
{
    auto sim = std::make_unique<Gateway::Sim::SimulatedUpstream>(QStringLiteral("claude"), Gateway::Sim::Flavor::Anthropic);
    QVERIFY(sim->listen().hasValue());
    const QByteArray yaml = "providers:\n  - {name: claude, type: anthropic, base_url: " + sim->baseUrl() +
                            ", keys: [{secret: sk-ant-test}]}\n"
                            "routes:\n  - model: chat\n    targets: [{provider: claude, model: claude-x}]\n"
                            "    cache: {exact: {}}\n";
    auto gateway = startGateway(yaml);
    QVERIFY(gateway);
    const QByteArray body = R"({"model":"chat","max_tokens":4,"stream":true,"messages":[{"role":"user","content":"Hi"}]})";
    const TestHttpClient::HeaderList version {{"anthropic-version", "2023-06-01"}};
    const auto first = send(gateway->port(), body, {}, version, "/v1/messages");
    QCOMPARE(first.status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(cacheEntries(*gateway), 1, 10000);
    const auto second = send(gateway->port(), body, {}, version, "/v1/messages");
    QCOMPARE(second.header("x-switchyard-cache"), QByteArray("hit"));
    QVERIFY(second.header("content-type").contains("text/event-stream"));
    QCOMPARE(second.sseEventNames(), first.sseEventNames());
    QCOMPARE(second.sseEventNames().constFirst(), QByteArray("message_start"));
    QCOMPARE(second.sseEventNames().constLast(), QByteArray("message_stop"));
    QCOMPARE(second.sseDataLines(), first.sseDataLines());
    QVERIFY(!TestSupport::joinedStreamContent(second.sseDataLines()).isEmpty());
    QCOMPARE(sim->requestsReceived(), 1);
    // The same body on the OpenAI endpoint is another format: never this entry.
    QCOMPARE(send(gateway->port(), body).header("x-switchyard-cache"), QByteArray("miss"));
}

void TestResponseCache::entriesExpireAfterTheirTtl()
{
    auto sim = startSim();
    QVERIFY(sim);
    auto gateway = startGateway(policy(*sim, "{exact: {ttl_ms: 3000}}"));
    QVERIFY(gateway);
    QCOMPARE(send(gateway->port(), chat("Short lived")).header("x-switchyard-cache"), QByteArray("miss"));
    QTRY_COMPARE_WITH_TIMEOUT(cacheEntries(*gateway), 1, 10000);
    QCOMPARE(send(gateway->port(), chat("Short lived")).header("x-switchyard-cache"), QByteArray("hit"));
    QCOMPARE(sim->requestsReceived(), 1);
    // Polled (each poll is a request: a hit until the TTL has passed, then a miss that
    // goes upstream again), with a deadline well past the TTL.
    QDeadlineTimer deadline {30000};
    QByteArray state = "hit";
    while (state == "hit" && !deadline.hasExpired()) {
        QTest::qWait(100);
        state = send(gateway->port(), chat("Short lived")).header("x-switchyard-cache");
    }
    QCOMPARE(state, QByteArray("miss"));
    QCOMPARE(sim->requestsReceived(), 2);
}

void TestResponseCache::noCacheAndNoStoreAreHonoured()
{
    auto sim = startSim();
    QVERIFY(sim);
    auto gateway = startGateway(policy(*sim, "{exact: {}}"));
    QVERIFY(gateway);
    const quint16 port = gateway->port();
    QCOMPARE(send(port, chat("one")).header("x-switchyard-cache"), QByteArray("miss"));
    QTRY_COMPARE_WITH_TIMEOUT(cacheEntries(*gateway), 1, 10000);

    // no-cache: no lookup (upstream again), but the answer is stored.
    QCOMPARE(send(port, chat("one"), {}, {{"cache-control", "no-cache"}}).header("x-switchyard-cache"), QByteArray("bypass"));
    QCOMPARE(sim->requestsReceived(), 2);
    QCOMPARE(send(port, chat("two"), {}, {{"cache-control", "no-cache"}}).header("x-switchyard-cache"), QByteArray("bypass"));
    QTRY_COMPARE_WITH_TIMEOUT(cacheEntries(*gateway), 2, 10000);
    QCOMPARE(send(port, chat("two")).header("x-switchyard-cache"), QByteArray("hit"));
    QCOMPARE(sim->requestsReceived(), 3);

    // no-store: neither looks up nor stores.
    QCOMPARE(send(port, chat("one"), {}, {{"cache-control", "no-store"}}).header("x-switchyard-cache"), QByteArray("bypass"));
    QCOMPARE(sim->requestsReceived(), 4);
    QCOMPARE(send(port, chat("three"), {}, {{"cache-control", "no-store"}}).header("x-switchyard-cache"), QByteArray("bypass"));
    QCOMPARE(send(port, chat("three")).header("x-switchyard-cache"), QByteArray("miss"));
    QCOMPARE(sim->requestsReceived(), 6);
    QVERIFY(metricsOf(port).contains("switchyard_cache_lookups_total{route=\"chat\",kind=\"exact\",result=\"bypass\"} 4\n"));
}

void TestResponseCache::keyScopeIsolatesKeysAndGlobalShares()
{
    auto sim = startSim();
    QVERIFY(sim);
    const QByteArray keys = "virtual_keys:\n  - {name: alpha, key: key-alpha-123}\n  - {name: beta, key: key-beta-1234}\n";
    {
        auto gateway = startGateway(policy(*sim, "{exact: {}, scope: key}", keys));
        QVERIFY(gateway);
        QCOMPARE(send(gateway->port(), chat("shared?"), "key-alpha-123").header("x-switchyard-cache"), QByteArray("miss"));
        QTRY_COMPARE_WITH_TIMEOUT(cacheEntries(*gateway), 1, 10000);
        QCOMPARE(send(gateway->port(), chat("shared?"), "key-beta-1234").header("x-switchyard-cache"), QByteArray("miss"));
        QCOMPARE(sim->requestsReceived(), 2);
        QCOMPARE(send(gateway->port(), chat("shared?"), "key-alpha-123").header("x-switchyard-cache"), QByteArray("hit"));
        QCOMPARE(sim->requestsReceived(), 2);
    }
    auto gateway = startGateway(policy(*sim, "{exact: {}, scope: global}", keys));
    QVERIFY(gateway);
    QCOMPARE(send(gateway->port(), chat("shared!"), "key-alpha-123").header("x-switchyard-cache"), QByteArray("miss"));
    QTRY_COMPARE_WITH_TIMEOUT(cacheEntries(*gateway), 1, 10000);
    QCOMPARE(send(gateway->port(), chat("shared!"), "key-beta-1234").header("x-switchyard-cache"), QByteArray("hit"));
    QCOMPARE(sim->requestsReceived(), 3);
    // Authentication still applies to a hit.
    QCOMPARE(send(gateway->port(), chat("shared!"), "key-wrong-999").status, 401);
}

void TestResponseCache::teamScopeSharesWithinATeam()
{
    auto sim = startSim();
    QVERIFY(sim);
    const QByteArray keys = "teams:\n  - {name: red}\n"
                            "virtual_keys:\n  - {name: alpha, key: key-alpha-123, team: red}\n"
                            "  - {name: beta, key: key-beta-1234, team: red}\n"
                            "  - {name: gamma, key: key-gamma-123}\n";
    auto gateway = startGateway(policy(*sim, "{exact: {}, scope: team}", keys));
    QVERIFY(gateway);
    QCOMPARE(send(gateway->port(), chat("team question"), "key-alpha-123").header("x-switchyard-cache"), QByteArray("miss"));
    QTRY_COMPARE_WITH_TIMEOUT(cacheEntries(*gateway), 1, 10000);
    QCOMPARE(send(gateway->port(), chat("team question"), "key-beta-1234").header("x-switchyard-cache"), QByteArray("hit"));
    // A key outside the team (and without one) does not see the team's answers.
    QCOMPARE(send(gateway->port(), chat("team question"), "key-gamma-123").header("x-switchyard-cache"), QByteArray("miss"));
    QCOMPARE(sim->requestsReceived(), 2);
}

void TestResponseCache::errorsAreNotCached()
{
    auto sim = startSim();
    QVERIFY(sim);
    Gateway::Sim::Behaviour failing;
    failing.failNextRequests = 1;
    failing.errorStatus = 500;
    sim->setBehaviour(failing);
    auto gateway = startGateway(policy(*sim, "{exact: {}}"));
    QVERIFY(gateway);
    const auto failed = send(gateway->port(), chat("fragile"));
    QVERIFY2(failed.status >= 500, failed.body.constData());
    QCOMPARE(failed.header("x-switchyard-cache"), QByteArray("miss"));
    QCOMPARE(cacheEntries(*gateway), 0);
    const auto retried = send(gateway->port(), chat("fragile"));
    QCOMPARE(retried.status, 200);
    QCOMPARE(retried.header("x-switchyard-cache"), QByteArray("miss"));
    QCOMPARE(sim->requestsReceived(), 2);
    QTRY_COMPARE_WITH_TIMEOUT(cacheEntries(*gateway), 1, 10000);
}

void TestResponseCache::hitsCountAgainstRateLimits()
{
    auto sim = startSim();
    QVERIFY(sim);
    auto gateway = startGateway(policy(*sim, "{exact: {}}",
                                       "virtual_keys:\n  - {name: alpha, key: key-alpha-123, routes: [chat], limits: {rpm: 2}}\n"));
    QVERIFY(gateway);
    QCOMPARE(send(gateway->port(), chat("limited"), "key-alpha-123").header("x-switchyard-cache"), QByteArray("miss"));
    QTRY_COMPARE_WITH_TIMEOUT(cacheEntries(*gateway), 1, 10000);
    QCOMPARE(send(gateway->port(), chat("limited"), "key-alpha-123").header("x-switchyard-cache"), QByteArray("hit"));
    const auto refused = send(gateway->port(), chat("limited"), "key-alpha-123");
    QCOMPARE(refused.status, 429);
    QVERIFY(refused.header("x-switchyard-cache").isEmpty());
    QCOMPARE(sim->requestsReceived(), 1);
}

void TestResponseCache::semanticHitForAParaphraseAboveTheThreshold()
{
    auto chatSim = startSim();
    auto embedSim = startSim();
    QVERIFY(chatSim && embedSim);
    RecordingLog log;
    auto gateway = startGateway(semanticPolicy(*chatSim, *embedSim, 0.8), &log);
    QVERIFY(gateway);
    const quint16 port = gateway->port();
    const auto first = send(port, chat("What is the capital city of France?"));
    QCOMPARE(first.status, 200);
    QCOMPARE(first.header("x-switchyard-cache"), QByteArray("miss"));
    QCOMPARE(embedSim->requestsReceived(), 1);
    QVERIFY(embedSim->lastRequestBody().contains("What is the capital city of France?"));
    QTRY_COMPARE_WITH_TIMEOUT(cacheEntries(*gateway), 1, 10000);

    // Shares 7 of its 9 words: cosine about 0.88 with the hashed bag-of-words embedding.
    const auto paraphrase = send(port, chat("Tell me, what is the capital city of France?"));
    QCOMPARE(paraphrase.status, 200);
    QCOMPARE(paraphrase.header("x-switchyard-cache"), QByteArray("semantic-hit"));
    QCOMPARE(paraphrase.body, first.body);
    QCOMPARE(chatSim->requestsReceived(), 1);
    QCOMPARE(embedSim->requestsReceived(), 2);

    // An unrelated prompt goes upstream, and so does one with another system prompt.
    QCOMPARE(send(port, chat("Write a haiku about autumn leaves")).header("x-switchyard-cache"), QByteArray("miss"));
    const QByteArray otherSystem = R"({"model":"chat","max_tokens":4,"messages":[{"role":"system","content":"Be verbose."},)"
                                   R"({"role":"user","content":"What is the capital city of France?"}]})";
    QCOMPARE(send(port, otherSystem).header("x-switchyard-cache"), QByteArray("miss"));
    QCOMPARE(chatSim->requestsReceived(), 3);
    QTRY_VERIFY_WITH_TIMEOUT(log.entries().size() >= 8, 10000); // 4 client rows + 4 embeddings rows
    int semanticHits = 0;
    for (const auto &entry : log.entries()) {
        semanticHits += entry.cache == "semantic-hit" ? 1 : 0;
    }
    QCOMPARE(semanticHits, 1);
    QVERIFY(metricsOf(port).contains("switchyard_cache_lookups_total{route=\"chat\",kind=\"semantic\",result=\"hit\"} 1\n"));
}

void TestResponseCache::semanticMissBelowTheThreshold()
{
    auto chatSim = startSim();
    auto embedSim = startSim();
    QVERIFY(chatSim && embedSim);
    auto gateway = startGateway(semanticPolicy(*chatSim, *embedSim, 0.95));
    QVERIFY(gateway);
    QCOMPARE(send(gateway->port(), chat("What is the capital city of France?")).header("x-switchyard-cache"), QByteArray("miss"));
    QTRY_COMPARE_WITH_TIMEOUT(cacheEntries(*gateway), 1, 10000);
    QCOMPARE(send(gateway->port(), chat("Tell me, what is the capital city of France?")).header("x-switchyard-cache"),
             QByteArray("miss"));
    QCOMPARE(chatSim->requestsReceived(), 2);
    // The same words (case and punctuation aside) are similarity 1: a hit.
    QCOMPARE(send(gateway->port(), chat("what is the capital city of france")).header("x-switchyard-cache"),
             QByteArray("semantic-hit"));
    QCOMPARE(chatSim->requestsReceived(), 2);
}

QTEST_GUILESS_MAIN(TestResponseCache)
#include "testresponsecache.moc"
