// The `tracing:` section of the policy document: it loads, is validated with errors
// naming the field, survives YAML and JSON round trips, keeps its collector headers
// secret (redacted on GET/export, "***" on PUT keeps the stored value), and its
// absence means no tracing and no section written.

#include "config/policyloader.h"
#include "config/policywriter.h"
#include "config/secretmerge.h"

#include <QTest>

#include <optional>

using namespace Gateway::Config;

namespace {

std::optional<QByteArray> noEnvironment(const QString &)
{
    return std::nullopt;
}

Gateway::Expected<Policy, ConfigError> load(const QByteArray &yaml)
{
    return parsePolicy(yaml, QStringLiteral("test.yaml"), noEnvironment);
}

const QByteArray BASE = R"(
providers:
  - {name: local, type: vllm, base_url: http://127.0.0.1:8000/v1}
routes:
  - model: chat
    targets: [{provider: local, model: m}]
)";

const QByteArray TRACED = BASE + R"(
tracing:
  otlp_endpoint: http://127.0.0.1:4318/v1/traces
  service_name: gateway-eu
  sample_ratio: 0.25
  export_interval_ms: 500
  max_queue_spans: 1000
  headers:
    authorization: Bearer collector-token
    x-scope-orgid: tenant-1
)";

} // namespace

class TestTracingConfig final : public QObject {
    Q_OBJECT

private slots:
    void everyKeyLoads() const
    {
        const auto policy = load(TRACED);
        QVERIFY2(policy, policy ? "" : qPrintable(policy.error().toString()));
        QVERIFY(policy->tracing);
        const TracingSettings &tracing = *policy->tracing;
        QCOMPARE(tracing.otlpEndpoint, QByteArray("http://127.0.0.1:4318/v1/traces"));
        QCOMPARE(tracing.serviceName, QByteArray("gateway-eu"));
        QCOMPARE(tracing.sampleRatio, 0.25);
        QCOMPARE(tracing.exportIntervalMs, 500);
        QCOMPARE(tracing.maxQueueSpans, 1000);
        QCOMPARE(tracing.headers.size(), std::size_t {2});
        QCOMPARE(tracing.headers[0].first, QByteArray("authorization"));
        QCOMPARE(tracing.headers[0].second, QByteArray("Bearer collector-token"));
        QCOMPARE(tracing.headers[1].first, QByteArray("x-scope-orgid"));
    }

    void defaultsNeedOnlyTheEndpoint() const
    {
        const auto policy = load(BASE + "tracing: {otlp_endpoint: \"https://otel.example:4318/v1/traces\"}\n");
        QVERIFY2(policy, policy ? "" : qPrintable(policy.error().toString()));
        QCOMPARE(policy->tracing->serviceName, QByteArray("switchyard"));
        QCOMPARE(policy->tracing->sampleRatio, 1.0);
        QCOMPARE(policy->tracing->exportIntervalMs, 1000);
        QCOMPARE(policy->tracing->maxQueueSpans, 8192);
        QVERIFY(policy->tracing->headers.empty());
    }

    void absentSectionIsNoTracingAndIsNotWritten() const
    {
        const auto policy = load(BASE);
        QVERIFY(policy);
        QVERIFY(!policy->tracing);
        QVERIFY(!toYaml(*policy, SecretRendering::Included).contains("tracing"));
        QVERIFY(!toJson(*policy, SecretRendering::Included).contains("tracing"));
    }

    void roundTripsAreLossless_data() const
    {
        QTest::addColumn<bool>("json");
        QTest::newRow("yaml") << false;
        QTest::newRow("json") << true;
    }

    void roundTripsAreLossless() const
    {
        QFETCH(bool, json);
        const auto policy = load(TRACED);
        QVERIFY(policy);
        const QByteArray text = json ? toJson(*policy, SecretRendering::Included) : toYaml(*policy, SecretRendering::Included);
        QVERIFY(text.contains("otlp_endpoint"));
        QVERIFY(text.contains("Bearer collector-token"));
        const auto reparsed = load(text);
        QVERIFY2(reparsed, reparsed ? "" : qPrintable(reparsed.error().toString()));
        QVERIFY(reparsed.value() == policy.value());
        QCOMPARE(json ? toJson(*reparsed, SecretRendering::Included) : toYaml(*reparsed, SecretRendering::Included), text);
    }

    void headersAreSecretsOnGetAndKeptOnPut_data() const
    {
        QTest::addColumn<bool>("json");
        QTest::newRow("yaml") << false;
        QTest::newRow("json") << true;
    }

    void headersAreSecretsOnGetAndKeptOnPut() const
    {
        QFETCH(bool, json);
        const auto stored = load(TRACED);
        QVERIFY(stored);
        const QByteArray fetched =
            json ? toJson(*stored, SecretRendering::Redacted) : toYaml(*stored, SecretRendering::Redacted);
        QVERIFY(!fetched.contains("collector-token"));
        QVERIFY(!fetched.contains("tenant-1"));
        QVERIFY(fetched.contains("***"));
        const auto parsed = load(fetched);
        QVERIFY2(parsed, parsed ? "" : qPrintable(parsed.error().toString()));
        QCOMPARE(parsed->tracing->headers[0].second, QByteArray("***"));
        const auto resolved = resolveRedactedSecrets(parsed.value(), stored.value());
        QVERIFY2(resolved, resolved ? "" : qPrintable(resolved.error().toString()));
        QVERIFY(resolved.value() == stored.value());
    }

    void placeholderWithNothingStoredNamesTheHeader() const
    {
        const auto incoming = load(BASE + "tracing:\n  otlp_endpoint: http://127.0.0.1:4318/v1/traces\n"
                                          "  headers: {authorization: \"***\"}\n");
        QVERIFY(incoming);
        const auto resolved = resolveRedactedSecrets(incoming.value(), Policy {});
        QVERIFY(!resolved);
        QCOMPARE(resolved.error().field, QStringLiteral("tracing.headers.authorization"));
    }

    void invalidValuesNameTheField_data() const
    {
        QTest::addColumn<QByteArray>("section");
        QTest::addColumn<QString>("field");
        QTest::newRow("missing endpoint") << QByteArray("tracing: {service_name: x}") << QStringLiteral("tracing.otlp_endpoint");
        QTest::newRow("not http") << QByteArray("tracing: {otlp_endpoint: \"grpc://127.0.0.1:4317\"}")
                                  << QStringLiteral("tracing.otlp_endpoint");
        QTest::newRow("ratio above 1") << QByteArray("tracing: {otlp_endpoint: \"http://c:4318/v1/traces\", sample_ratio: 1.5}")
                                       << QStringLiteral("tracing.sample_ratio");
        QTest::newRow("ratio negative") << QByteArray("tracing: {otlp_endpoint: \"http://c:4318/v1/traces\", sample_ratio: -0.1}")
                                        << QStringLiteral("tracing.sample_ratio");
        QTest::newRow("interval zero") << QByteArray("tracing: {otlp_endpoint: \"http://c:4318/v1/traces\", export_interval_ms: 0}")
                                       << QStringLiteral("tracing.export_interval_ms");
        QTest::newRow("queue zero") << QByteArray("tracing: {otlp_endpoint: \"http://c:4318/v1/traces\", max_queue_spans: 0}")
                                    << QStringLiteral("tracing.max_queue_spans");
        QTest::newRow("empty service") << QByteArray("tracing: {otlp_endpoint: \"http://c:4318/v1/traces\", service_name: \"\"}")
                                       << QStringLiteral("tracing.service_name");
        QTest::newRow("bad header name") << QByteArray("tracing: {otlp_endpoint: \"http://c:4318/v1/traces\", headers: {\"a b\": x}}")
                                         << QStringLiteral("tracing.headers.a b");
        QTest::newRow("unknown key") << QByteArray("tracing: {otlp_endpoint: \"http://c:4318/v1/traces\", sampling: 1}")
                                     << QStringLiteral("tracing.sampling");
    }

    void invalidValuesNameTheField() const
    {
        QFETCH(QByteArray, section);
        QFETCH(QString, field);
        const auto policy = load(BASE + section + '\n');
        QVERIFY(!policy);
        QCOMPARE(policy.error().field, field);
    }
};

QTEST_APPLESS_MAIN(TestTracingConfig)
#include "testtracingconfig.moc"
