// Governance end to end over real sockets: virtual keys authenticate with either SDK's
// header; every limit dimension (rpm, tpm, concurrency, team limits, team routes, dollar
// budgets) refuses with a 429 naming the limit, its value and its reset time, in the
// client's error shape; reservations are settled with the real usage for non-streamed,
// streamed and cancelled requests, priced from the price table; a soft limit raises one
// alert event; a spent budget refuses with budget_exceeded.

#include "sim/simulatedupstream.h"
#include "testhttpclient.h"

#include "config/policyloader.h"
#include "governance/price.h"
#include "runtime/gatewayruntime.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>
#include <QTimeZone>

#include <memory>
#include <mutex>
#include <vector>

using Gateway::Sim::Behaviour;
using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;
using TestSupport::TestHttpClient;
namespace Governance = Gateway::Governance;

namespace {

// What the gateway journals, kept for the test to inspect (any thread writes).
class RecordingJournal final : public Governance::SpendJournal {
public:
    void reserved(Governance::ReservationRecord &&record) override
    {
        const std::lock_guard lock {m_mutex};
        m_reservations.push_back(std::move(record));
    }
    void settled(Governance::SettlementRecord &&record) override
    {
        const std::lock_guard lock {m_mutex};
        m_settlements.push_back(std::move(record));
    }
    int reservations() const
    {
        const std::lock_guard lock {m_mutex};
        return static_cast<int>(m_reservations.size());
    }
    int settlements() const
    {
        const std::lock_guard lock {m_mutex};
        return static_cast<int>(m_settlements.size());
    }
    Governance::SettlementRecord settlement(int index) const
    {
        const std::lock_guard lock {m_mutex};
        return m_settlements.at(static_cast<std::size_t>(index));
    }

private:
    mutable std::mutex m_mutex;
    std::vector<Governance::ReservationRecord> m_reservations;
    std::vector<Governance::SettlementRecord> m_settlements;
};

class RecordingLog final : public Gateway::RequestLogSink {
public:
    void record(Gateway::RequestLogEntry &&entry) override
    {
        const std::lock_guard lock {m_mutex};
        m_entries.push_back(std::move(entry));
    }
    void recordEvent(QString kind, QString subject, QByteArray detailJson) override
    {
        const std::lock_guard lock {m_mutex};
        m_events.push_back({std::move(kind), std::move(subject), std::move(detailJson)});
    }
    quint64 writtenRows() const override { return 0; }
    quint64 droppedRows() const override { return 0; }

    struct Event {
        QString kind;
        QString subject;
        QByteArray detail;
    };
    std::vector<Event> events(const QString &kind) const
    {
        const std::lock_guard lock {m_mutex};
        std::vector<Event> out;
        for (const auto &event : m_events) {
            if (event.kind == kind) {
                out.push_back(event);
            }
        }
        return out;
    }
    std::vector<Gateway::RequestLogEntry> entries() const
    {
        const std::lock_guard lock {m_mutex};
        return m_entries;
    }

private:
    mutable std::mutex m_mutex;
    std::vector<Gateway::RequestLogEntry> m_entries;
    std::vector<Event> m_events;
};

struct Gateway_ {
    RecordingJournal journal;
    RecordingLog log;
    std::unique_ptr<Gateway::GatewayRuntime> runtime;
    quint16 port = 0;
};

std::unique_ptr<Gateway_> startGateway(const QByteArray &yaml)
{
    const auto noEnvironment = [](const QString &) -> std::optional<QByteArray> { return std::nullopt; };
    auto policy = Gateway::Config::parsePolicy(yaml, QStringLiteral("test.yaml"), noEnvironment);
    if (!policy) {
        qWarning().noquote() << "test policy is invalid:" << policy.error().toString();
        return nullptr;
    }
    policy->gateway.listenHost = QStringLiteral("127.0.0.1");
    policy->gateway.listenPort = 0;
    policy->gateway.threads = 2;
    auto gateway = std::make_unique<Gateway_>();
    gateway->runtime = std::make_unique<Gateway::GatewayRuntime>(policy.value());
    gateway->runtime->setRequestLog(&gateway->log);
    gateway->runtime->setSpendJournal(&gateway->journal);
    const auto port = gateway->runtime->start();
    if (!port) {
        qWarning().noquote() << "gateway did not start:" << port.error();
        return nullptr;
    }
    gateway->port = port.value();
    return gateway;
}

std::unique_ptr<SimulatedUpstream> startSim(const Behaviour &behaviour = {}, Flavor flavor = Flavor::OpenAi)
{
    auto sim = std::make_unique<SimulatedUpstream>(QStringLiteral("sim"), flavor);
    sim->setBehaviour(behaviour);
    if (!sim->listen().hasValue()) {
        return nullptr;
    }
    return sim;
}

// One provider `sim`, routes chat and other over model m, and what the test adds.
QByteArray policyFor(const SimulatedUpstream &sim, const QByteArray &governance)
{
    return "providers:\n  - {name: sim, type: vllm, base_url: " + sim.baseUrl() + "}\n" + R"(
routes:
  - model: chat
    targets: [{provider: sim, model: m}]
  - model: other
    targets: [{provider: sim, model: m}]
)" + governance;
}

QByteArray chat(int maxTokens, bool stream = false, const QByteArray &model = "chat")
{
    return "{\"model\":\"" + model + "\",\"max_tokens\":" + QByteArray::number(maxTokens) +
           (stream ? ",\"stream\":true,\"stream_options\":{\"include_usage\":true}" : "") +
           ",\"messages\":[{\"role\":\"user\",\"content\":\"Hello there, how are you today?\"}]}";
}

TestHttpClient::Response send(quint16 port, const QByteArray &body, const QByteArray &key = "key-alpha-123",
                              const QByteArray &path = "/v1/chat/completions", bool xApiKey = false)
{
    TestHttpClient client {port};
    client.post(path, body, {{xApiKey ? "x-api-key" : "authorization", xApiKey ? key : "Bearer " + key}});
    if (!client.waitForResponses(1, 10000)) {
        return {};
    }
    return client.responses().constFirst();
}

using TestSupport::errorOf;

// The usage object of a non-streamed answer, or of the usage chunk of a stream.
QJsonObject usageOf(const TestHttpClient::Response &response)
{
    if (response.header("content-type").contains("event-stream")) {
        for (const QByteArray &data : response.sseDataLines()) {
            const QJsonObject usage = QJsonDocument::fromJson(data).object().value(QStringLiteral("usage")).toObject();
            if (!usage.isEmpty()) {
                return usage;
            }
        }
        return {};
    }
    return QJsonDocument::fromJson(response.body).object().value(QStringLiteral("usage")).toObject();
}

constexpr double INPUT_PRICE = 1000;  // $ per million tokens: large, so costs are visible
constexpr double OUTPUT_PRICE = 3000;
const QByteArray PRICES = "prices:\n  - {model: m, input_per_mtok: 1000, output_per_mtok: 3000}\n";
const QByteArray ONE_KEY = "virtual_keys:\n  - {name: alpha, key: key-alpha-123";

} // namespace

class TestGovernance final : public QObject {
    Q_OBJECT

private slots:
    void bothSdkAuthHeadersAuthenticate();
    void rpmRefusesNamingTheLimitInEitherShape();
    void tpmRefusesOnTheEstimate();
    void concurrencyRefusesWhileARequestIsInFlight();
    void teamLimitsAndRoutesBindEveryKey();
    void nonStreamedSpendIsUsageTimesPrice();
    void streamedSpendIsUsageTimesPrice();
    void cancelledStreamIsChargedWhatWasStreamed();
    void cancelledStreamOfAnOpenAiModelSettlesExactTokens();
    void abandonedRequestIsChargedItsPrompt();
    void tokenBudgetsRefuseWithBudgetExceeded();
    void softLimitAlertsOnceAndHardLimitStops();
    void spendAppearsInMetrics();
};

void TestGovernance::bothSdkAuthHeadersAuthenticate()
{
    auto sim = startSim();
    QVERIFY(sim);
    auto gateway = startGateway(policyFor(*sim, ONE_KEY + "}\n"));
    QVERIFY(gateway);
    QCOMPARE(send(gateway->port, chat(2)).status, 200);
    QCOMPARE(send(gateway->port, chat(2), "key-alpha-123", "/v1/chat/completions", true).status, 200);
    QCOMPARE(send(gateway->port, chat(2), "key-wrong-123").status, 401);
    QCOMPARE(send(gateway->port, chat(2), "key-wrong-123", "/v1/chat/completions", true).status, 401);
}

void TestGovernance::rpmRefusesNamingTheLimitInEitherShape()
{
    auto sim = startSim();
    QVERIFY(sim);
    auto gateway = startGateway(policyFor(*sim, ONE_KEY + ", limits: {rpm: 2}}\n"));
    QVERIFY(gateway);
    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    QCOMPARE(send(gateway->port, chat(2)).status, 200);
    QCOMPARE(send(gateway->port, chat(2)).status, 200);
    const auto refused = send(gateway->port, chat(2));
    QCOMPARE(refused.status, 429);
    const QJsonObject error = errorOf(refused);
    QCOMPARE(error[u"type"_qs].toString(), u"rate_limit_error"_qs);
    QCOMPARE(error[u"code"_qs].toString(), u"rate_limited"_qs);
    QCOMPARE(error[u"limit"_qs].toString(), u"rpm"_qs);
    QCOMPARE(error[u"limit_value"_qs].toInt(), 2);
    QCOMPARE(error[u"limit_scope"_qs].toString(), u"key"_qs);
    QVERIFY(error[u"param"_qs].isNull());
    QVERIFY2(error[u"message"_qs].toString().contains(u"2 requests per minute"), qPrintable(error[u"message"_qs].toString()));
    // Two per minute refill one every 30 s.
    const qint64 resetAt = static_cast<qint64>(error[u"reset_at_ms"_qs].toDouble());
    QVERIFY(resetAt >= before + 29'000 && resetAt <= QDateTime::currentMSecsSinceEpoch() + 30'000);
    QCOMPARE(refused.header("retry-after"), QByteArray("30"));
    QCOMPARE(gateway->journal.reservations(), 2); // a refusal reserves nothing

    // The Anthropic SDK gets its own shape, with the same limit fields.
    const auto anthropic = send(gateway->port,
                                "{\"model\":\"chat\",\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}",
                                "key-alpha-123", "/v1/messages", true);
    QCOMPARE(anthropic.status, 429);
    const QJsonObject body = QJsonDocument::fromJson(anthropic.body).object();
    QCOMPARE(body[u"type"_qs].toString(), u"error"_qs);
    QCOMPARE(body[u"error"_qs].toObject()[u"type"_qs].toString(), u"rate_limit_error"_qs);
    QCOMPARE(body[u"error"_qs].toObject()[u"limit"_qs].toString(), u"rpm"_qs);
    QVERIFY(!anthropic.header("retry-after").isEmpty());
}

void TestGovernance::tpmRefusesOnTheEstimate()
{
    auto sim = startSim();
    QVERIFY(sim);
    auto gateway = startGateway(policyFor(*sim, ONE_KEY + ", limits: {tpm: 300}}\n"));
    QVERIFY(gateway);
    // Prompt estimate + max_tokens 200 fits once in 300, not twice.
    QCOMPARE(send(gateway->port, chat(200)).status, 200);
    // Settled with the real usage (the sim answers 200 completion tokens), so the next
    // request of the same size no longer fits.
    const auto refused = send(gateway->port, chat(200));
    QCOMPARE(refused.status, 429);
    QCOMPARE(errorOf(refused)[u"limit"_qs].toString(), u"tpm"_qs);
    QCOMPARE(errorOf(refused)[u"limit_value"_qs].toInt(), 300);
    QCOMPARE(errorOf(refused)[u"code"_qs].toString(), u"rate_limited"_qs);
    // A small request still fits in what is left.
    QCOMPARE(send(gateway->port, chat(2)).status, 200);
}

void TestGovernance::concurrencyRefusesWhileARequestIsInFlight()
{
    Behaviour behaviour;
    behaviour.holdStreamAfterChunks = 1;
    auto sim = startSim(behaviour);
    QVERIFY(sim);
    auto gateway = startGateway(policyFor(*sim, ONE_KEY + ", limits: {max_concurrent_requests: 1}}\n"));
    QVERIFY(gateway);
    TestHttpClient held {gateway->port};
    held.post("/v1/chat/completions", chat(4, true), {{"authorization", "Bearer key-alpha-123"}});
    QTRY_VERIFY_WITH_TIMEOUT(!held.bodySoFar().isEmpty(), 10000);
    const auto refused = send(gateway->port, chat(2));
    QCOMPARE(refused.status, 429);
    QCOMPARE(errorOf(refused)[u"limit"_qs].toString(), u"max_concurrent_requests"_qs);
    QCOMPARE(errorOf(refused)[u"limit_value"_qs].toInt(), 1);
    sim->releaseHeldStreams();
    QVERIFY(held.waitForResponses(1, 10000));
    QTRY_COMPARE(gateway->journal.settlements(), 1);
    QCOMPARE(send(gateway->port, chat(2)).status, 200);
}

void TestGovernance::teamLimitsAndRoutesBindEveryKey()
{
    auto sim = startSim();
    QVERIFY(sim);
    auto gateway = startGateway(policyFor(*sim, R"(
teams:
  - {name: research, routes: [chat], limits: {rpm: 1}}
virtual_keys:
  - {name: alpha, key: key-alpha-123, team: research}
  - {name: beta, key: key-beta-1234, team: research}
)"));
    QVERIFY(gateway);
    // The team allows only chat.
    const auto forbidden = send(gateway->port, chat(2, false, "other"));
    QCOMPARE(forbidden.status, 403);
    QCOMPARE(errorOf(forbidden)[u"code"_qs].toString(), u"model_not_allowed"_qs);
    QCOMPARE(send(gateway->port, chat(2)).status, 200);
    // Another key of the team shares the team's minute.
    const auto refused = send(gateway->port, chat(2), "key-beta-1234");
    QCOMPARE(refused.status, 429);
    QCOMPARE(errorOf(refused)[u"limit"_qs].toString(), u"rpm"_qs);
    QCOMPARE(errorOf(refused)[u"limit_scope"_qs].toString(), u"team"_qs);
    QVERIFY(errorOf(refused)[u"message"_qs].toString().contains(u"team 'research'"));
}

void TestGovernance::nonStreamedSpendIsUsageTimesPrice()
{
    auto sim = startSim();
    QVERIFY(sim);
    auto gateway = startGateway(policyFor(*sim, PRICES + ONE_KEY + "}\n"));
    QVERIFY(gateway);
    const auto response = send(gateway->port, chat(7));
    QCOMPARE(response.status, 200);
    const QJsonObject usage = usageOf(response);
    const qint64 in = usage[u"prompt_tokens"_qs].toInteger();
    const qint64 out = usage[u"completion_tokens"_qs].toInteger();
    QVERIFY(in > 0 && out == 7);
    const qint64 expected = Governance::costNanos({INPUT_PRICE, OUTPUT_PRICE, -1}, {in, 0, out});
    QTRY_COMPARE(gateway->journal.settlements(), 1);
    const auto settled = gateway->journal.settlement(0);
    QCOMPARE(settled.inputTokens, in);
    QCOMPARE(settled.outputTokens, out);
    QCOMPARE(settled.costNanos, expected);
    QVERIFY(!settled.estimated);
    QCOMPARE(settled.key, u"alpha"_qs);
    QCOMPARE(settled.route, QByteArray("chat"));
    QCOMPARE(settled.backend, QByteArray("sim/m"));
    QTRY_COMPARE(gateway->log.entries().size(), std::size_t {1});
    QCOMPARE(gateway->log.entries().front().costUsd, Governance::nanosToUsd(expected));
    // The key's budget window holds the real cost, not the estimate.
    const auto snapshots = gateway->runtime->limitStore().snapshots(QDateTime::currentMSecsSinceEpoch());
    QCOMPARE(snapshots.size(), std::size_t {1});
    QCOMPARE(snapshots.front().usage.dayNanos, expected);
    QCOMPARE(snapshots.front().usage.dayTokens, in + out);
    QCOMPARE(snapshots.front().usage.reservedNanos, 0);
}

void TestGovernance::streamedSpendIsUsageTimesPrice()
{
    auto sim = startSim();
    QVERIFY(sim);
    auto gateway = startGateway(policyFor(*sim, PRICES + ONE_KEY + "}\n"));
    QVERIFY(gateway);
    const auto response = send(gateway->port, chat(5, true));
    QCOMPARE(response.status, 200);
    const QJsonObject usage = usageOf(response);
    const qint64 in = usage[u"prompt_tokens"_qs].toInteger();
    const qint64 out = usage[u"completion_tokens"_qs].toInteger();
    QVERIFY(in > 0 && out == 5);
    QTRY_COMPARE(gateway->journal.settlements(), 1);
    const auto settled = gateway->journal.settlement(0);
    QCOMPARE(settled.inputTokens, in);
    QCOMPARE(settled.outputTokens, out);
    QCOMPARE(settled.costNanos, Governance::costNanos({INPUT_PRICE, OUTPUT_PRICE, -1}, {in, 0, out}));
    QVERIFY(!settled.estimated);
}

void TestGovernance::cancelledStreamIsChargedWhatWasStreamed()
{
    Behaviour behaviour;
    behaviour.holdStreamAfterChunks = 3;
    auto sim = startSim(behaviour);
    QVERIFY(sim);
    auto gateway = startGateway(policyFor(*sim, PRICES + ONE_KEY + ", limits: {max_concurrent_requests: 1}}\n"));
    QVERIFY(gateway);
    // Model m is not an OpenAI family: the calibrated estimator counts what was streamed.
    QTRY_VERIFY_WITH_TIMEOUT(gateway->runtime->tokenCounter() != nullptr, 30000);
    QByteArray delivered;
    {
        TestHttpClient client {gateway->port};
        client.post("/v1/chat/completions", chat(50, true), {{"authorization", "Bearer key-alpha-123"}});
        QTRY_COMPARE_WITH_TIMEOUT(client.currentResponse().sseDataLines().size(), 3, 10000);
        for (const QByteArray &data : client.currentResponse().sseDataLines()) {
            delivered += QJsonDocument::fromJson(data)
                             .object()[u"choices"_qs]
                             .toArray()
                             .at(0)
                             .toObject()[u"delta"_qs]
                             .toObject()[u"content"_qs]
                             .toString()
                             .toUtf8();
        }
        client.close(); // the client gives up mid-stream
    }
    QTRY_COMPARE(gateway->journal.settlements(), 1);
    const auto settled = gateway->journal.settlement(0);
    // No usage was reported: the prompt and the delivered text, counted.
    QVERIFY(settled.estimated);
    QVERIFY(settled.inputTokens > 0);
    const auto estimated = gateway->runtime->tokenCounter()->count(u"m", delivered);
    QVERIFY(!estimated.exact);
    QCOMPARE(settled.outputTokens, qint64 {estimated.tokens});
    QCOMPARE(settled.costNanos,
             Governance::costNanos({INPUT_PRICE, OUTPUT_PRICE, -1}, {settled.inputTokens, 0, settled.outputTokens}));
    // The reservation is released: the concurrency slot is free again.
    sim->releaseHeldStreams();
    QCOMPARE(send(gateway->port, chat(2)).status, 200);
}

void TestGovernance::cancelledStreamOfAnOpenAiModelSettlesExactTokens()
{
    // Without usage from the provider, an OpenAI-family target's stream is settled at the
    // exact o200k count of the prompt's text and of the text the client received: the
    // simulator's "tok1 tok2 ..." words are two tokens each, so one-per-event would differ.
    Behaviour behaviour;
    behaviour.holdStreamAfterChunks = 4;
    auto sim = startSim(behaviour);
    QVERIFY(sim);
    auto gateway = startGateway(R"(
providers:
  - {name: sim, type: vllm, base_url: )" + sim->baseUrl() + R"(}
routes:
  - model: chat
    targets: [{provider: sim, model: gpt-4o-mini}]
prices:
  - {model: gpt-4o-mini, input_per_mtok: 1000, output_per_mtok: 3000}
)" + ONE_KEY + "}\n");
    QVERIFY(gateway);
    QTRY_VERIFY_WITH_TIMEOUT(gateway->runtime->tokenCounter() != nullptr, 30000);
    const auto counter = gateway->runtime->tokenCounter();
    QByteArray delivered;
    int events = 0;
    {
        TestHttpClient client {gateway->port};
        client.post("/v1/chat/completions", chat(50, true), {{"authorization", "Bearer key-alpha-123"}});
        QTRY_COMPARE_WITH_TIMEOUT(client.currentResponse().sseDataLines().size(), 4, 10000);
        for (const QByteArray &data : client.currentResponse().sseDataLines()) {
            ++events;
            delivered += QJsonDocument::fromJson(data)
                             .object()[u"choices"_qs]
                             .toArray()
                             .at(0)
                             .toObject()[u"delta"_qs]
                             .toObject()[u"content"_qs]
                             .toString()
                             .toUtf8();
        }
        client.close(); // before the usage chunk
    }
    QTRY_COMPARE(gateway->journal.settlements(), 1);
    const auto settled = gateway->journal.settlement(0);
    const auto exactOut = counter->count(u"gpt-4o-mini", delivered);
    const auto exactIn = counter->count(u"gpt-4o-mini", "Hello there, how are you today?");
    QVERIFY(exactOut.exact);
    QVERIFY2(!delivered.isEmpty(), delivered.constData());
    QVERIFY(settled.estimated); // the provider did not report it
    QCOMPARE(settled.outputTokens, qint64 {exactOut.tokens});
    QVERIFY(settled.outputTokens != events);
    QCOMPARE(settled.inputTokens, qint64 {exactIn.tokens});
    QCOMPARE(settled.costNanos, Governance::costNanos({INPUT_PRICE, OUTPUT_PRICE, -1}, {settled.inputTokens, 0, settled.outputTokens}));
    sim->releaseHeldStreams();
}

void TestGovernance::abandonedRequestIsChargedItsPrompt()
{
    Behaviour behaviour;
    behaviour.headerDelayMs = 60'000; // the answer never comes while the test runs
    auto sim = startSim(behaviour);
    QVERIFY(sim);
    auto gateway = startGateway(policyFor(*sim, PRICES + ONE_KEY + "}\n"));
    QVERIFY(gateway);
    {
        TestHttpClient client {gateway->port};
        client.post("/v1/chat/completions", chat(50), {{"authorization", "Bearer key-alpha-123"}});
        QTRY_COMPARE_WITH_TIMEOUT(sim->requestsReceived(), 1, 10000); // the attempt is upstream
        client.close();
    }
    QTRY_COMPARE(gateway->journal.settlements(), 1);
    const auto settled = gateway->journal.settlement(0);
    QVERIFY(settled.estimated);
    QVERIFY(settled.inputTokens > 0); // the prompt estimate: the provider has the prompt
    QCOMPARE(settled.outputTokens, 0);
    QCOMPARE(settled.costNanos, Governance::costNanos({INPUT_PRICE, OUTPUT_PRICE, -1}, {settled.inputTokens, 0, 0}));
}

void TestGovernance::tokenBudgetsRefuseWithBudgetExceeded()
{
    auto sim = startSim();
    QVERIFY(sim);
    auto gateway = startGateway(policyFor(*sim, R"(
teams:
  - {name: research, budgets: {tokens_per_month: 250}}
virtual_keys:
  - {name: alpha, key: key-alpha-123, team: research, budgets: {tokens_per_day: 1000}}
)"));
    QVERIFY(gateway);
    QCOMPARE(send(gateway->port, chat(100)).status, 200); // ~110 tokens
    QCOMPARE(send(gateway->port, chat(100)).status, 200); // ~220
    const auto refused = send(gateway->port, chat(100));
    QCOMPARE(refused.status, 429);
    const QJsonObject error = errorOf(refused);
    QCOMPARE(error[u"code"_qs].toString(), u"budget_exceeded"_qs);
    QCOMPARE(error[u"limit"_qs].toString(), u"tokens_per_month"_qs);
    QCOMPARE(error[u"limit_scope"_qs].toString(), u"team"_qs);
    QCOMPARE(error[u"limit_value"_qs].toInt(), 250);
    QDateTime nextMonth = QDateTime::currentDateTimeUtc();
    nextMonth = QDateTime(QDate(nextMonth.date().year(), nextMonth.date().month(), 1).addMonths(1), QTime(0, 0), QTimeZone::utc());
    QCOMPARE(static_cast<qint64>(error[u"reset_at_ms"_qs].toDouble()), nextMonth.toMSecsSinceEpoch());
}

void TestGovernance::softLimitAlertsOnceAndHardLimitStops()
{
    auto sim = startSim();
    QVERIFY(sim);
    // $1 per output token and nothing for input: each request of max_tokens 2 costs $2
    // (estimated and real alike). Budget $10 a day, soft limit at 30% = $3.
    auto gateway = startGateway(policyFor(*sim, "prices:\n  - {model: m, input_per_mtok: 0, output_per_mtok: 1000000}\n" +
                                                    ONE_KEY + ", budgets: {usd_per_day: 10, soft_limit_fraction: 0.3}}\n"));
    QVERIFY(gateway);
    QCOMPARE(send(gateway->port, chat(2)).status, 200); // $2
    QTRY_COMPARE(gateway->journal.settlements(), 1);
    QVERIFY(gateway->log.events(u"budget.soft_limit"_qs).empty());
    QCOMPARE(send(gateway->port, chat(2)).status, 200); // $4: crosses $3
    QTRY_COMPARE(gateway->log.events(u"budget.soft_limit"_qs).size(), std::size_t {1});
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(send(gateway->port, chat(2)).status, 200); // $6, $8, $10
    }
    QTRY_COMPARE(gateway->journal.settlements(), 5);
    const auto alerts = gateway->log.events(u"budget.soft_limit"_qs);
    QCOMPARE(alerts.size(), std::size_t {1}); // once per window
    QCOMPARE(alerts.front().subject, u"key:alpha"_qs);
    const QJsonObject detail = QJsonDocument::fromJson(alerts.front().detail).object();
    QCOMPARE(detail[u"budget"_qs].toString(), u"usd_per_day"_qs);
    QCOMPARE(detail[u"limit"_qs].toDouble(), 10.0);
    QCOMPARE(detail[u"spent"_qs].toDouble(), 4.0);

    const auto refused = send(gateway->port, chat(2));
    QCOMPARE(refused.status, 429);
    const QJsonObject error = errorOf(refused);
    QCOMPARE(error[u"code"_qs].toString(), u"budget_exceeded"_qs);
    QCOMPARE(error[u"limit"_qs].toString(), u"usd_per_day"_qs);
    QCOMPARE(error[u"limit_value"_qs].toDouble(), 10.0);
    const qint64 nextDay = (QDateTime::currentMSecsSinceEpoch() / 86'400'000 + 1) * 86'400'000;
    QCOMPARE(static_cast<qint64>(error[u"reset_at_ms"_qs].toDouble()), nextDay);
    QVERIFY(refused.header("retry-after").toLongLong() >= 1);
}

void TestGovernance::spendAppearsInMetrics()
{
    auto sim = startSim();
    QVERIFY(sim);
    auto gateway = startGateway(policyFor(*sim, PRICES + ONE_KEY + ", limits: {rpm: 1}, budgets: {usd_per_month: 100}}\n"));
    QVERIFY(gateway);
    QCOMPARE(send(gateway->port, chat(3)).status, 200);
    QCOMPARE(send(gateway->port, chat(3)).status, 429);
    QTRY_COMPARE(gateway->journal.settlements(), 1);
    TestHttpClient client {gateway->port};
    client.get("/metrics");
    QVERIFY(client.waitForResponses(1, 5000));
    const QByteArray metrics = client.responses().constFirst().body;
    QVERIFY(metrics.contains("switchyard_spend_usd_total{key=\"alpha\",team=\"\",route=\"chat\"} "));
    QVERIFY(metrics.contains("switchyard_tokens_total{key=\"alpha\",team=\"\",route=\"chat\",direction=\"output\"} 3\n"));
    QVERIFY(metrics.contains("switchyard_limit_refusals_total{limit=\"rpm\",key=\"alpha\",team=\"\"} 1\n"));
    QVERIFY(metrics.contains("switchyard_budget_remaining_usd{scope=\"key\",name=\"alpha\",window=\"month\"} "));
}

QTEST_GUILESS_MAIN(TestGovernance)
#include "testgovernance.moc"
