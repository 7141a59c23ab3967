// providers[].discovery in the policy document: defaults, every key round-tripping
// through the writer (YAML and JSON, as GET/PUT /admin/v1/policy and export/import use
// it), and validation errors naming the field.

#include "config/policyloader.h"
#include "config/policywriter.h"

#include <QTest>

using Gateway::Config::Discovery;
using Gateway::Config::Policy;

namespace {

const Gateway::Config::EnvLookup noEnvironment = [](const QString &) { return std::optional<QByteArray> {}; };

QByteArray document(const QByteArray &provider)
{
    return "providers:\n  - " + provider + "\nroutes:\n  - {model: chat, targets: [{provider: vllm, model: m}]}\n";
}

Gateway::Expected<Policy, Gateway::Config::ConfigError> parse(const QByteArray &yaml)
{
    return Gateway::Config::parsePolicy(yaml, QStringLiteral("test.yaml"), noEnvironment);
}

} // namespace

class TestDiscoveryConfig final : public QObject {
    Q_OBJECT

private slots:
    void defaults();
    void roundTripsThroughYamlAndJson();
    void validationErrorsNameTheField_data();
    void validationErrorsNameTheField();
};

void TestDiscoveryConfig::defaults()
{
    const auto parsed = parse(document(
        "{name: vllm, type: vllm, base_url: \"http://vllm.ml.svc.cluster.local:8000/v1\", discovery: {type: a}}"));
    QVERIFY2(parsed, parsed ? "" : qPrintable(parsed.error().toString()));
    const auto &discovery = parsed->providers.front().discovery;
    QVERIFY(discovery.has_value());
    QCOMPARE(discovery->type, Discovery::Type::A);
    QCOMPARE(discovery->intervalMs, 5000);
    QCOMPARE(discovery->slowStartMs, 30000);
    QCOMPARE(discovery->drainMs, 30000);
    QVERIFY(discovery->nameserver.isEmpty());
    // A provider without the key has no discovery.
    const auto plain = parse(document("{name: vllm, type: vllm, base_url: \"http://10.0.0.1:8000/v1\"}"));
    QVERIFY(plain);
    QVERIFY(!plain->providers.front().discovery.has_value());
}

void TestDiscoveryConfig::roundTripsThroughYamlAndJson()
{
    const auto parsed = parse(document(
        "{name: vllm, type: vllm, base_url: \"http://vllm.ml.svc.cluster.local:8000/v1\", discovery: {type: srv, "
        "name: _http._tcp.vllm.ml.svc.cluster.local, interval_ms: 2500, slow_start_ms: 12000, drain_ms: 45000, "
        "nameserver: \"127.0.0.1:5353\"}}"));
    QVERIFY2(parsed, parsed ? "" : qPrintable(parsed.error().toString()));
    const Discovery &discovery = *parsed->providers.front().discovery;
    QCOMPARE(discovery.type, Discovery::Type::Srv);
    QCOMPARE(discovery.name, QStringLiteral("_http._tcp.vllm.ml.svc.cluster.local"));
    QCOMPARE(discovery.intervalMs, 2500);
    QCOMPARE(discovery.slowStartMs, 12000);
    QCOMPARE(discovery.drainMs, 45000);
    QCOMPARE(discovery.nameserver, QStringLiteral("127.0.0.1:5353"));
    for (const QByteArray &written : {Gateway::Config::toYaml(*parsed, Gateway::Config::SecretRendering::Included),
                                      Gateway::Config::toJson(*parsed, Gateway::Config::SecretRendering::Included)}) {
        QVERIFY2(written.contains("discovery"), written.constData());
        const auto reread = parse(written);
        QVERIFY2(reread, reread ? "" : qPrintable(reread.error().toString()));
        QCOMPARE(reread->providers.front().discovery, parsed->providers.front().discovery);
        QVERIFY(reread->providers == parsed->providers);
    }
    // `a` has no name and the default nameserver: neither is written.
    const auto a = parse(document(
        "{name: vllm, type: vllm, base_url: \"http://vllm.ml.svc.cluster.local:8000/v1\", discovery: {type: a}}"));
    QVERIFY(a);
    const QByteArray yaml = Gateway::Config::toYaml(*a, Gateway::Config::SecretRendering::Included);
    QVERIFY2(!yaml.contains("nameserver"), yaml.constData());
    const auto reread = parse(yaml);
    QVERIFY(reread);
    QCOMPARE(reread->providers.front().discovery, a->providers.front().discovery);
}

void TestDiscoveryConfig::validationErrorsNameTheField_data()
{
    QTest::addColumn<QByteArray>("provider");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("message");
    const QByteArray srvBase = "{name: vllm, type: vllm, base_url: \"http://vllm.local:8000/v1\", discovery: ";
    QTest::newRow("unknown type") << srvBase + "{type: mdns}}" << "providers[0].discovery.type" << "allowed: a, srv";
    QTest::newRow("type missing") << srvBase + "{interval_ms: 100}}" << "providers[0].discovery.type" << "required";
    QTest::newRow("srv without name") << srvBase + "{type: srv}}" << "providers[0].discovery.name" << "required";
    QTest::newRow("a with name") << srvBase + "{type: a, name: x.local}}" << "providers[0].discovery.name"
                                 << "srv only";
    QTest::newRow("a on an address")
        << QByteArray("{name: vllm, type: vllm, base_url: \"http://10.0.0.1:8000/v1\", discovery: {type: a}}")
        << "providers[0].discovery.type" << "not a name";
    QTest::newRow("interval too short") << srvBase + "{type: a, interval_ms: 5}}" << "providers[0].discovery.interval_ms"
                                        << "";
    QTest::newRow("negative slow start") << srvBase + "{type: a, slow_start_ms: -1}}"
                                         << "providers[0].discovery.slow_start_ms" << "";
    QTest::newRow("drain too long") << srvBase + "{type: a, drain_ms: 99999999}}" << "providers[0].discovery.drain_ms"
                                    << "";
    QTest::newRow("nameserver without port") << srvBase + "{type: a, nameserver: 127.0.0.1}}"
                                             << "providers[0].discovery.nameserver" << "IPV4_ADDRESS:PORT";
    QTest::newRow("nameserver by name") << srvBase + "{type: a, nameserver: \"dns.local:53\"}}"
                                        << "providers[0].discovery.nameserver" << "IPV4_ADDRESS:PORT";
    QTest::newRow("unknown key") << srvBase + "{type: a, ttl_ms: 5}}" << "providers[0].discovery.ttl_ms" << "";
    QTest::newRow("@ in the name")
        << QByteArray("{name: \"v@1\", type: vllm, base_url: \"http://vllm.local:8000/v1\", discovery: {type: a}}")
        << "providers[0].name" << "'@'";
}

void TestDiscoveryConfig::validationErrorsNameTheField()
{
    QFETCH(QByteArray, provider);
    QFETCH(QString, field);
    QFETCH(QString, message);
    QByteArray yaml = document(provider);
    yaml.replace("provider: vllm,", provider.contains("v@1") ? "provider: \"v@1\"," : "provider: vllm,");
    const auto parsed = parse(yaml);
    QVERIFY2(!parsed, "the document was accepted");
    QVERIFY2(parsed.error().field.startsWith(field), qPrintable(parsed.error().toString()));
    QVERIFY2(parsed.error().message.contains(message), qPrintable(parsed.error().toString()));
}

QTEST_APPLESS_MAIN(TestDiscoveryConfig)
#include "testdiscoveryconfig.moc"
