// Budgets survive a crash, end to end: a gateway with the real spend journal spends part
// of a key's budget, a stream is in flight (its reservation committed) when the journal is
// killed without flushing; a new journal settles the open reservation at its estimate and
// a new gateway seeded from it refuses what the old one would have allowed.

#include "spendjournalwriter.h"

#include "sim/simulatedupstream.h"
#include "testhttpclient.h"

#include "config/policyloader.h"
#include "governance/limits.h"
#include "runtime/gatewayruntime.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using Gateway::Sim::Behaviour;
using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;
using TestSupport::TestHttpClient;

namespace {

std::unique_ptr<Gateway::GatewayRuntime> startGateway(const QByteArray &yaml, Storage::SpendJournalWriter &journal,
                                                      const Gateway::Governance::RecoveredSpend &recovered)
{
    const auto noEnvironment = [](const QString &) -> std::optional<QByteArray> { return std::nullopt; };
    auto policy = Gateway::Config::parsePolicy(yaml, QStringLiteral("test.yaml"), noEnvironment);
    if (!policy) {
        qWarning().noquote() << policy.error().toString();
        return nullptr;
    }
    policy->gateway.listenHost = QStringLiteral("127.0.0.1");
    policy->gateway.listenPort = 0;
    policy->gateway.threads = 1;
    auto runtime = std::make_unique<Gateway::GatewayRuntime>(policy.value());
    runtime->setSpendJournal(&journal);
    runtime->seedSpend(recovered);
    if (!runtime->start()) {
        return nullptr;
    }
    return runtime;
}

QByteArray chat(bool stream)
{
    return QByteArray("{\"model\":\"chat\",\"max_tokens\":2,") + (stream ? "\"stream\":true," : "") +
           "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}";
}

int send(quint16 port, const QByteArray &body, QByteArray *code = nullptr)
{
    TestHttpClient client {port};
    client.post("/v1/chat/completions", body, {{"authorization", "Bearer key-alpha-123"}});
    if (!client.waitForResponses(1, 10000)) {
        return 0;
    }
    const auto response = client.responses().constFirst();
    if (code) {
        *code = QJsonDocument::fromJson(response.body).object()[u"error"_qs].toObject()[u"code"_qs].toString().toUtf8();
    }
    return response.status;
}

} // namespace

class TestGovernanceRestart final : public QObject {
    Q_OBJECT

private slots:
    void budgetsSurviveACrashWithARequestInFlight()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        Behaviour behaviour;
        behaviour.holdStreamAfterChunks = 1;
        SimulatedUpstream sim {QStringLiteral("sim"), Flavor::OpenAi};
        sim.setBehaviour(behaviour);
        QVERIFY(sim.listen().hasValue());
        // Each request costs $2 (2 output tokens at $1 each), estimated and real alike.
        // Budget $7: $4 spent + the $2 of the interrupted stream leave no room for $2 more.
        const QByteArray yaml = "providers:\n  - {name: sim, type: vllm, base_url: " + sim.baseUrl() + "}\n" + R"(
routes:
  - model: chat
    targets: [{provider: sim, model: m}]
prices:
  - {model: m, input_per_mtok: 0, output_per_mtok: 1000000}
virtual_keys:
  - {name: alpha, key: key-alpha-123, budgets: {usd_per_day: 7}}
)";
        Storage::SpendJournalWriter::Options options;
        options.databasePath = dir.filePath(QStringLiteral("switchyard.db"));
        options.flushInterval = std::chrono::milliseconds {60'000}; // nothing commits unless flushed
        {
            auto journal = Storage::SpendJournalWriter::start(options);
            QVERIFY(journal);
            auto gateway = startGateway(yaml, *journal->writer, journal->recovered);
            QVERIFY(gateway);
            QCOMPARE(send(gateway->port(), chat(false)), 200);
            QCOMPARE(send(gateway->port(), chat(false)), 200);
            TestHttpClient held {gateway->port()};
            held.post("/v1/chat/completions", chat(true), {{"authorization", "Bearer key-alpha-123"}});
            QTRY_VERIFY_WITH_TIMEOUT(!held.bodySoFar().isEmpty(), 10000);
            QVERIFY2(held.currentResponse().status == 200, held.bodySoFar().constData());
            journal->writer->flush(); // two settlements and the stream's reservation are on disk
            journal->writer->discardQueuedForTest(); // the crash: nothing after this is written
            gateway.reset(); // the stream's settlement goes nowhere
        }
        auto journal = Storage::SpendJournalWriter::start(options);
        QVERIFY(journal);
        QCOMPARE(journal->recovered.reconciledReservations, 1);
        QCOMPARE(journal->recovered.totals.size(), std::size_t {1});
        QCOMPARE(journal->recovered.totals.front().dayNanos, 6 * Gateway::Governance::NANOS_PER_USD);
        auto gateway = startGateway(yaml, *journal->writer, journal->recovered);
        QVERIFY(gateway);
        QByteArray code;
        QCOMPARE(send(gateway->port(), chat(false), &code), 429);
        QCOMPARE(code, QByteArray("budget_exceeded"));
    }
};

QTEST_GUILESS_MAIN(TestGovernanceRestart)
#include "testgovernancerestart.moc"
