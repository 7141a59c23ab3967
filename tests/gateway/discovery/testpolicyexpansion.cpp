// The policy a discovered provider is compiled from: one provider per server, targets
// expanded with the weight shared, rule and split actions naming every server, and a
// provider with no known server left as configured.

#include "discovery/policyexpansion.h"

#include "config/policyloader.h"

#include <QTest>

using Gateway::Discovery::ServerAddress;
using Gateway::Discovery::ServerSets;

namespace {

Gateway::Config::Policy policy()
{
    const QByteArray yaml =
        "providers:\n"
        "  - {name: vllm, type: vllm, base_url: \"http://vllm.ml.svc.cluster.local:8000/v1\", metrics_url: \"http://vllm.ml.svc.cluster.local:9100/metrics\", discovery: {type: srv, name: _http._tcp.vllm.ml.svc.cluster.local}}\n"
        "  - {name: openai, type: openai, base_url: \"https://api.openai.com/v1\"}\n"
        "routes:\n"
        "  - model: chat\n"
        "    targets: [{provider: vllm, model: llama, weight: 3, max_concurrency: 4}, {provider: openai, model: gpt-4o-mini, weight: 1, max_concurrency: 8}]\n"
        "    rules:\n"
        "      - {name: long, when: {min_prompt_tokens: 1000}, targets: [vllm/llama]}\n"
        "    split:\n"
        "      arms:\n"
        "        - {name: a, share: 0.5, targets: [vllm/llama]}\n"
        "        - {name: b, share: 0.5, targets: [openai/gpt-4o-mini]}\n";
    const auto parsed = Gateway::Config::parsePolicy(yaml, QStringLiteral("test.yaml"),
                                                     [](const QString &) { return std::optional<QByteArray> {}; });
    if (!parsed) {
        qFatal("%s", qPrintable(parsed.error().toString()));
    }
    return parsed.value();
}

} // namespace

class TestPolicyExpansion final : public QObject {
    Q_OBJECT

private slots:
    void expandsProvidersTargetsAndActions();
    void providerWithoutServersStaysAsConfigured();
    void urlsKeepSchemePathAndPortRules();
};

void TestPolicyExpansion::expandsProvidersTargetsAndActions()
{
    const ServerSets servers {{QStringLiteral("vllm"), {{QStringLiteral("10.0.0.5"), 8000}, {QStringLiteral("10.0.0.6"), 8001}}}};
    const auto expanded = Gateway::Discovery::expandDiscoveredProviders(policy(), servers);
    QCOMPARE(expanded.providers.size(), std::size_t {3});
    QCOMPARE(expanded.providers[0].name, QStringLiteral("vllm@10.0.0.5:8000"));
    QCOMPARE(expanded.providers[0].baseUrl, QByteArray("http://10.0.0.5:8000/v1"));
    QCOMPARE(expanded.providers[0].metricsUrl, QByteArray("http://10.0.0.5:9100/metrics"));
    QCOMPARE(expanded.providers[1].name, QStringLiteral("vllm@10.0.0.6:8001"));
    QCOMPARE(expanded.providers[1].baseUrl, QByteArray("http://10.0.0.6:8001/v1"));
    QCOMPARE(expanded.providers[2].name, QStringLiteral("openai"));

    const auto &route = expanded.routes.front();
    QCOMPARE(route.targets.size(), std::size_t {3});
    QCOMPARE(route.targets[0].provider, QStringLiteral("vllm@10.0.0.5:8000"));
    QCOMPARE(route.targets[0].weight, 1.5); // 3 shared by two servers
    QCOMPARE(route.targets[0].maxConcurrency, 4); // per server
    QCOMPARE(route.targets[1].weight, 1.5);
    QCOMPARE(route.targets[2].provider, QStringLiteral("openai"));
    QCOMPARE(route.targets[2].weight, 1.0);
    const QStringList both {QStringLiteral("vllm@10.0.0.5:8000/llama"), QStringLiteral("vllm@10.0.0.6:8001/llama")};
    QCOMPARE(route.rules.front().action.targets, both);
    QCOMPARE(route.split.arms[0].action.targets, both);
    QCOMPARE(route.split.arms[1].action.targets, QStringList {QStringLiteral("openai/gpt-4o-mini")});
}

void TestPolicyExpansion::providerWithoutServersStaysAsConfigured()
{
    const auto original = policy();
    QVERIFY(Gateway::Discovery::expandDiscoveredProviders(original, {}) == original);
    // An empty set is "none known", never a route without targets.
    QVERIFY(Gateway::Discovery::expandDiscoveredProviders(original, {{QStringLiteral("vllm"), {}}}) == original);
}

void TestPolicyExpansion::urlsKeepSchemePathAndPortRules()
{
    const ServerAddress v6 {QStringLiteral("fd00::5"), 8443};
    QCOMPARE(Gateway::Discovery::urlOnServer("https://vllm.local/v1", v6, false), QByteArray("https://[fd00::5]:8443/v1"));
    QCOMPARE(Gateway::Discovery::urlOnServer("http://vllm.local:9100/metrics", v6, true),
             QByteArray("http://[fd00::5]:9100/metrics"));
    QCOMPARE(Gateway::Discovery::serverProviderName(QStringLiteral("vllm"), v6), QStringLiteral("vllm@[fd00::5]:8443"));
    QCOMPARE(Gateway::Discovery::discoveredProviderOf(QStringLiteral("vllm@[fd00::5]:8443")), QStringLiteral("vllm"));
}

QTEST_APPLESS_MAIN(TestPolicyExpansion)
#include "testpolicyexpansion.moc"
