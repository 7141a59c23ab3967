// Fleet mode of the simulated upstream: the fleet simulator's engine model behind real
// sockets on 127.0.0.1. Exact token counts, prefix-cache hits with their TTFT effect,
// queueing beyond max_num_seqs, and a client disconnect freeing the model's KV blocks,
// all read back through the server's own /metrics as the gateway's scraper reads them.

#include "gatewayfixture.h"
#include "proxy/requestinspector.h"
#include "routing/promptblocks.h"
#include "sim/fleet/syntheticprompt.h"
#include "sim/fleetrequest.h"
#include "sim/fleetserver.h"
#include "sim/responseformat.h"
#include "testhttpclient.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>

#include <map>
#include <memory>
#include <vector>

using Gateway::Sim::FleetServer;
using Gateway::Sim::FleetServerConfig;
using TestSupport::TestHttpClient;

namespace {

const QByteArray MODEL = QByteArrayLiteral("meta-llama/Llama-3.1-8B-Instruct");

// Letters only (the fleet simulator's 4-character pseudo-words): no JSON escaping, and
// different seeds differ from the first word on.
QByteArray words(std::uint64_t seed, int tokens)
{
    QByteArray text;
    Gateway::Sim::Fleet::PromptRenderer::render(text, seed, tokens);
    return text;
}

QByteArray chatBody(const QByteArray &content, int maxTokens, bool stream, const QByteArray &model = MODEL)
{
    return "{\"model\":\"" + model + "\",\"max_tokens\":" + QByteArray::number(maxTokens) +
           (stream ? ",\"stream\":true" : "") + ",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]}";
}

// One sample of a Prometheus text exposition (name with its labels, value after a
// space); -1 when absent.
double sample(const QByteArray &metrics, QByteArrayView name)
{
    for (const QByteArray &line : metrics.split('\n')) {
        if (line.startsWith(name) && line.size() > name.size() && line.at(name.size()) == '{') {
            return line.mid(line.lastIndexOf(' ') + 1).toDouble();
        }
    }
    return -1;
}

// The token text streamed in a chat SSE event, empty for framing events.
QByteArray deltaContent(const QByteArray &data)
{
    const QJsonObject chunk = QJsonDocument::fromJson(data).object();
    return chunk.value(QStringLiteral("choices")).toArray().at(0).toObject().value(QStringLiteral("delta")).toObject()
        .value(QStringLiteral("content")).toString().toUtf8();
}

} // namespace

class TestFleetServer final : public QObject {
    Q_OBJECT

private slots:
    void promptRendersAsTheGatewayHashesIt();
    void answersWithExactlyMaxTokens();
    void sharedPrefixHitsTheCacheAndShortensTtft();
    void requestsBeyondMaxNumSeqsWait();
    void clientDisconnectFreesTheBlocks();
    void gatewayKeepsEachPrefixWhereItIsCached();

private:
    std::unique_ptr<FleetServer> start(const FleetServerConfig &config);
    QByteArray metrics() { return metricsOf(m_server->port()); }
    static QByteArray metricsOf(quint16 port);
    // Streams one request; returns the wall milliseconds to its first token, -1 on failure.
    double streamedTtftMs(const QByteArray &body, QByteArray *tokens = nullptr);

    FleetServer *m_server = nullptr;
};

std::unique_ptr<FleetServer> TestFleetServer::start(const FleetServerConfig &config)
{
    auto server = std::make_unique<FleetServer>(QStringLiteral("gpu-f"), config);
    const auto port = server->listen();
    if (!port) {
        qWarning().noquote() << port.error();
        return nullptr;
    }
    m_server = server.get();
    return server;
}

QByteArray TestFleetServer::metricsOf(quint16 port)
{
    TestHttpClient client {port};
    client.get("/metrics");
    return client.waitForResponses(1) ? client.responses().first().body : QByteArray();
}

double TestFleetServer::streamedTtftMs(const QByteArray &body, QByteArray *tokens)
{
    TestHttpClient client {m_server->port()};
    if (!client.waitForConnected()) {
        return -1;
    }
    QElapsedTimer clock;
    double ttftMs = -1;
    // The headers go out at once; the first body byte is the first token's event.
    QObject::connect(&client, &TestHttpClient::bodyData, &client, [&] {
        if (ttftMs < 0) {
            ttftMs = static_cast<double>(clock.nsecsElapsed()) / 1e6;
        }
    });
    clock.start();
    client.post("/v1/chat/completions", body);
    if (!client.waitForResponses(1) || client.responses().first().status != 200) {
        return -1;
    }
    if (tokens) {
        for (const QByteArray &data : client.responses().first().sseDataLines()) {
            *tokens += deltaContent(data);
        }
    }
    return ttftMs;
}

void TestFleetServer::promptRendersAsTheGatewayHashesIt()
{
    // Roles, plain and part-array content, tool-call arguments and a completions prompt
    // array: every block the server caches must be a block the gateway's index hashed.
    const QByteArray a = words(1, 40);
    const QByteArray b = words(2, 37);
    const QByteArray c = words(3, 51);
    const QList<QPair<Gateway::Runtime::Endpoint, QByteArray>> bodies {
        {Gateway::Runtime::Endpoint::ChatCompletions,
         "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"" + a +
             "\"},{\"content\":[{\"type\":\"text\",\"text\":\"" + b + "\"},{\"type\":\"image_url\",\"image_url\":"
             "{\"url\":\"http://x/y.png\"}}],\"role\":\"user\"},{\"role\":\"assistant\",\"content\":null,"
             "\"tool_calls\":[{\"function\":{\"arguments\":\"" + c + "\"}}]},{\"role\":\"tool\",\"content\":\"" + a +
             "\"}],\"max_tokens\":3}"},
        {Gateway::Runtime::Endpoint::Completions,
         "{\"prompt\":[\"" + b + "\",\"" + c + "\"],\"model\":\"m\"}"},
    };
    Gateway::Proxy::RequestInspector inspector;
    for (const auto &[endpoint, body] : bodies) {
        constexpr int BLOCK_CHARS = Gateway::Routing::PromptBlockHasher::DEFAULT_BLOCK_CHARS;
        const auto inspected = inspector.inspect(endpoint, body, false, BLOCK_CHARS);
        QVERIFY(inspected.hasValue());
        const auto rendered = Gateway::Sim::parseFleetRequest(endpoint == Gateway::Runtime::Endpoint::Completions
                                                                  ? Gateway::Sim::Endpoint::Completions
                                                                  : Gateway::Sim::Endpoint::ChatCompletions,
                                                              body);
        QVERIFY2(rendered.hasValue(), rendered.hasValue() ? "" : rendered.error().constData());
        const auto blocks = Gateway::Routing::PromptBlockHasher::hash("m", rendered->promptText);
        QVERIFY(blocks.size() >= 3);
        QVERIFY(blocks == inspected->promptBlocks);
    }
}

void TestFleetServer::answersWithExactlyMaxTokens()
{
    const auto server = start(FleetServerConfig {});
    QVERIFY(server);

    TestHttpClient client {server->port()};
    client.post("/v1/chat/completions", chatBody(words(7, 30), 7, false));
    QVERIFY(client.waitForResponses(1));
    const auto plain = client.responses().first();
    QCOMPARE(plain.status, 200);
    const QJsonObject answer = QJsonDocument::fromJson(plain.body).object();
    QCOMPARE(answer.value(QStringLiteral("usage")).toObject().value(QStringLiteral("completion_tokens")).toInt(), 7);
    QCOMPARE(answer.value(QStringLiteral("choices")).toArray().at(0).toObject().value(QStringLiteral("message"))
                 .toObject().value(QStringLiteral("content")).toString().toUtf8(),
             Gateway::Sim::ResponseFormat::completionText(7));

    QByteArray streamed;
    QVERIFY(streamedTtftMs(chatBody(words(8, 30), 5, true), &streamed) >= 0);
    QCOMPARE(streamed, Gateway::Sim::ResponseFormat::completionText(5));
    QCOMPARE(server->requestsCompleted(), 2);
    QCOMPARE(server->requestsCancelled(), 0);
}

void TestFleetServer::sharedPrefixHitsTheCacheAndShortensTtft()
{
    const auto server = start(FleetServerConfig {}); // real time: TTFTs are the model's
    QVERIFY(server);
    // 6,000 shared tokens (the rendered prompt starts with the role "user", one more
    // token), then a question of its own: prefill of ~6,100 tokens the first time, ~100
    // the second (about 120 ms against 20 ms with the default step model).
    constexpr int SHARED_TOKENS = 6000;
    const QByteArray shared = words(42, SHARED_TOKENS);
    const double first = streamedTtftMs(chatBody(shared + words(100, 100), 2, true));
    QVERIFY(first > 0);
    QCOMPARE(sample(metrics(), "vllm:prefix_cache_hits_total"), 0.0);

    const double second = streamedTtftMs(chatBody(shared + words(101, 100), 2, true));
    QVERIFY(second > 0);
    const QByteArray after = metrics();
    // The longest cached prefix in whole 16-token blocks: "user" + 6,000 shared tokens
    // fill exactly 375 blocks; the next block already holds the new question.
    QCOMPARE(sample(after, "vllm:prefix_cache_hits_total"), (SHARED_TOKENS + 1) / 16 * 16.0);
    QCOMPARE(sample(after, "vllm:prefix_cache_queries_total"), 2.0 * (1 + SHARED_TOKENS + 100));
    QVERIFY2(second < first, qPrintable(QStringLiteral("TTFT %1 ms with the prefix cached, %2 ms without")
                                            .arg(second)
                                            .arg(first)));
}

void TestFleetServer::requestsBeyondMaxNumSeqsWait()
{
    FleetServerConfig config;
    config.engine.maxNumSeqs = 2;
    const auto server = start(config);
    QVERIFY(server);
    QCOMPARE(sample(metrics(), "vllm:num_requests_waiting"), 0.0);

    // Five streams of 60 tokens, two at a time: about 1 s of (simulated = wall) time.
    constexpr int REQUESTS = 5;
    constexpr int TOKENS = 60;
    std::vector<std::unique_ptr<TestHttpClient>> clients;
    for (int i = 0; i < REQUESTS; ++i) {
        clients.push_back(std::make_unique<TestHttpClient>(server->port()));
        const QByteArray content = words(200 + static_cast<std::uint64_t>(i), 50);
        clients.back()->post("/v1/chat/completions", chatBody(content, TOKENS, true));
    }
    const auto answered = [&] {
        int count = 0;
        for (const auto &client : clients) {
            count += static_cast<int>(client->responses().size());
        }
        return count;
    };
    QByteArray busy;
    const auto queued = [&] {
        busy = metrics();
        return sample(busy, "vllm:num_requests_waiting") > 0;
    };
    QTRY_VERIFY_WITH_TIMEOUT(queued(), 5000);
    QCOMPARE(sample(busy, "vllm:num_requests_running"), 2.0);
    QVERIFY2(answered() < REQUESTS, "the queue was observed only after every request had finished");

    for (const auto &client : clients) {
        QVERIFY(client->waitForResponses(1));
        QByteArray tokens;
        for (const QByteArray &data : client->responses().first().sseDataLines()) {
            tokens += deltaContent(data);
        }
        QCOMPARE(tokens, Gateway::Sim::ResponseFormat::completionText(TOKENS));
    }
    QCOMPARE(server->requestsCompleted(), REQUESTS);
    const QByteArray idle = metrics();
    QCOMPARE(sample(idle, "vllm:num_requests_waiting"), 0.0);
    QCOMPARE(sample(idle, "vllm:num_requests_running"), 0.0);
}

void TestFleetServer::clientDisconnectFreesTheBlocks()
{
    const FleetServerConfig config;
    const auto server = start(config);
    QVERIFY(server);
    QCOMPARE(sample(metrics(), "vllm:kv_cache_usage_perc"), 0.0);

    // 4,000 prompt tokens and an answer that would take minutes: it holds 250+ blocks.
    TestHttpClient client {server->port()};
    QSignalSpy firstBytes(&client, &TestHttpClient::bodyData);
    client.post("/v1/chat/completions", chatBody(words(300, 4000), 50000, true));
    QVERIFY(firstBytes.wait(5000));
    const QByteArray running = metrics();
    QCOMPARE(sample(running, "vllm:num_requests_running"), 1.0);
    QVERIFY(sample(running, "vllm:kv_cache_usage_perc") * config.engine.numGpuBlocks >= 4000.0 / 16);

    client.close();
    QTRY_COMPARE(server->requestsCancelled(), 1);
    // The model frees the blocks at the end of the step the request was part of.
    QTRY_COMPARE(sample(metrics(), "vllm:kv_cache_usage_perc"), 0.0);
    QCOMPARE(sample(metrics(), "vllm:num_requests_running"), 0.0);
    QCOMPARE(server->requestsCompleted(), 0);
}

void TestFleetServer::gatewayKeepsEachPrefixWhereItIsCached()
{
    // Three fleet-mode servers behind the gateway's prefix_aware route, as
    // switchyard-fleet-e2e and the demo run them; requests one at a time, so load never
    // outweighs a cached prefix.
    std::vector<std::unique_ptr<FleetServer>> servers;
    QByteArray providers;
    QByteArray targets;
    for (int i = 0; i < 3; ++i) {
        const QByteArray name = "gpu-" + QByteArray::number(i);
        servers.push_back(std::make_unique<FleetServer>(QString::fromLatin1(name), FleetServerConfig {}));
        QVERIFY(servers.back()->listen().hasValue());
        providers += "  - {name: " + name + ", type: vllm, base_url: " + servers.back()->baseUrl() +
                     ", metrics_url: " + servers.back()->metricsUrl() + "}\n";
        targets += (i > 0 ? ", " : "") + QByteArray("{provider: ") + name + ", model: " + MODEL + '}';
    }
    const auto gateway = TestSupport::startGateway("routing:\n  metrics_interval_ms: 50\nproviders:\n" + providers +
                                                   "routes:\n  - model: chat\n    strategy: prefix_aware\n"
                                                   "    targets: [" + targets + "]\n");
    QVERIFY(gateway);

    constexpr int GROUPS = 4;
    constexpr int ROUNDS = 3;
    constexpr int SHARED_TOKENS = 1000;
    std::map<int, std::map<QByteArray, int>> servedBy; // group -> backend -> requests
    for (int round = 0; round < ROUNDS; ++round) {
        for (int group = 0; group < GROUPS; ++group) {
            const QByteArray content = words(500 + static_cast<std::uint64_t>(group), SHARED_TOKENS) +
                                       words(600 + static_cast<std::uint64_t>(round * GROUPS + group), 50);
            TestHttpClient client {gateway->port()};
            client.post("/v1/chat/completions", chatBody(content, 2, false, "chat"));
            QVERIFY(client.waitForResponses(1));
            QCOMPARE(client.responses().first().status, 200);
            ++servedBy[group][client.responses().first().header("x-switchyard-backend")];
        }
    }
    for (const auto &[group, backends] : servedBy) {
        QVERIFY2(backends.size() == 1,
                 qPrintable(QStringLiteral("group %1 went to %2 servers").arg(group).arg(backends.size())));
    }
    // Every repeat found its group's whole shared prefix ("user" + 1,000 tokens: 62 full
    // blocks) in the server's cache, and nothing else was ever cached twice.
    double hits = 0;
    for (const auto &server : servers) {
        hits += sample(metricsOf(server->port()), "vllm:prefix_cache_hits_total");
    }
    QCOMPARE(hits, double {GROUPS * (ROUNDS - 1) * ((SHARED_TOKENS + 1) / 16 * 16)});
}

QTEST_GUILESS_MAIN(TestFleetServer)
#include "testfleetserver.moc"
