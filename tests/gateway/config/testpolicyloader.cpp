#include "config/policyloader.h"
#include "policyroundtrip.h"

#include <QHash>
#include <QTest>

#include <optional>

using Gateway::Config::ConfigError;
using Gateway::Config::EnvLookup;
using Gateway::Config::parsePolicy;
using Gateway::Config::Policy;
using Gateway::Config::ProviderType;
using Gateway::Config::WireFormat;

namespace {

const QString SOURCE = QStringLiteral("policy.yaml");

const QByteArray EXAMPLE = QByteArrayLiteral(R"yaml(gateway:
  listen: 127.0.0.1:8420
  threads: 0
  admin_token: ${SWITCHYARD_ADMIN_TOKEN}
providers:
  - name: gpu-1
    type: vllm
    base_url: http://127.0.0.1:9001/v1
    metrics_url: http://127.0.0.1:9001/metrics
  - name: openai
    type: openai
    base_url: https://api.openai.com/v1
    keys:
      - {name: primary, secret: "${OPENAI_API_KEY}", rpm: 500, tpm: 200000}
    timeouts: {connect_ms: 2000, first_token_ms: 30000, idle_ms: 60000}
  - name: claude
    type: anthropic
    base_url: https://api.anthropic.com/v1
    keys:
      - {name: primary, secret: "${ANTHROPIC_API_KEY}"}
routes:
  - model: chat
    strategy: weighted
    targets:
      - {provider: gpu-1, model: llama-3.1-8b, weight: 3}
      - {provider: openai, model: gpt-4o-mini, weight: 1}
    fallbacks: [chat-cloud]
  - model: chat-cloud
    targets:
      - {provider: openai, model: gpt-4o-mini}
virtual_keys:
  - {name: team-a, key: "${TEAM_A_KEY}", routes: [chat]}
)yaml");

QHash<QString, QByteArray> defaultEnv()
{
    return {
        {QStringLiteral("SWITCHYARD_ADMIN_TOKEN"), QByteArrayLiteral("admin-token-1")},
        {QStringLiteral("OPENAI_API_KEY"), QByteArrayLiteral("sk-openai-secret")},
        {QStringLiteral("ANTHROPIC_API_KEY"), QByteArrayLiteral("sk-ant-secret")},
        {QStringLiteral("TEAM_A_KEY"), QByteArrayLiteral("sy-team-a-0123456789")},
    };
}

EnvLookup envFrom(QHash<QString, QByteArray> values)
{
    return [values = std::move(values)](const QString &name) -> std::optional<QByteArray> {
        const auto it = values.constFind(name);
        if (it == values.constEnd()) {
            return std::nullopt;
        }
        return *it;
    };
}

// `from` must occur exactly once in `document`, so a typo in a test cannot go unnoticed.
QByteArray replaced(const QByteArray &document, const QByteArray &from, const QByteArray &to)
{
    const qsizetype at = document.indexOf(from);
    if (at < 0 || document.indexOf(from, at + 1) >= 0) {
        qFatal("test document does not contain exactly one '%s'", from.constData());
    }
    QByteArray result = document;
    result.replace(at, from.size(), to);
    return result;
}

int lineOf(const QByteArray &document, const QByteArray &needle)
{
    const qsizetype at = document.indexOf(needle);
    Q_ASSERT(at >= 0);
    return static_cast<int>(document.left(at).count('\n')) + 1;
}

int columnOf(const QByteArray &document, const QByteArray &needle)
{
    const qsizetype at = document.indexOf(needle);
    Q_ASSERT(at >= 0);
    return static_cast<int>(at - document.lastIndexOf('\n', at));
}

ConfigError expectError(const QByteArray &document, const QHash<QString, QByteArray> &env = defaultEnv())
{
    const auto result = parsePolicy(document, SOURCE, envFrom(env));
    if (result.hasValue()) {
        return ConfigError {QStringLiteral("<parsed without error>"), -1, -1, {}, {}};
    }
    return result.error();
}

} // namespace

class TestPolicyLoader final : public QObject {
    Q_OBJECT

private slots:
    void exampleDocumentParsesCompletely();
    void variablesExpand();
    void defaultsApplyOnlyWhenUnset();
    void unsetVariableWithoutDefaultNamesFieldAndVariable();
    void unknownTopLevelKey();
    void listenerSecurityKeysAreRead();
    void halfATlsConfigurationIsRefused();
    void unknownProviderKey();
    void unknownTargetKey();
    void http2PriorKnowledge();
    void routingErrorsNameTheField_data();
    void routingErrorsNameTheField();
    void routingOptionsAreRead();
    void prefillDecodePoolsAreRead();
    void rulesAndSplitAreRead();
    void ruleErrorsNameTheField_data();
    void ruleErrorsNameTheField();
    void nonPositiveWeight_data();
    void nonPositiveWeight();
    void unknownProviderType();
    void baseUrlMustBeHttp_data();
    void baseUrlMustBeHttp();
    void targetNamesUnknownProvider();
    void fallbackToUnknownRoute();
    void fallbackToItself();
    void fallbackCycle();
    void duplicateProviderName();
    void duplicateRoute();
    void badListen_data();
    void badListen();
    void threadsOutOfRange_data();
    void threadsOutOfRange();
    void yamlSyntaxErrorReportsLine();
    void emptyDocumentGivesDefaults();
    void shortVirtualKey();
    void configErrorToString();
    void admissionKeysAreRead();
    void admissionDefaultsApplyWhenUnset();
    void admissionErrorsNameTheField_data();
    void admissionErrorsNameTheField();
};

void TestPolicyLoader::exampleDocumentParsesCompletely()
{
    const auto result = parsePolicy(EXAMPLE, SOURCE, envFrom(defaultEnv()));
    QVERIFY2(result.hasValue(), result.hasValue() ? "" : qPrintable(result.error().toString()));
    const Policy &policy = result.value();

    QCOMPARE(policy.gateway.listenHost, QStringLiteral("127.0.0.1"));
    QCOMPARE(policy.gateway.listenPort, quint16 {8420});
    QCOMPARE(policy.gateway.threads, 0);
    QCOMPARE(policy.gateway.adminToken, QByteArrayLiteral("admin-token-1"));
    QCOMPARE(policy.gateway.maxBodyBytes, Gateway::Config::DEFAULT_MAX_BODY_BYTES);
    QCOMPARE(policy.gateway.headerTimeoutMs, 10000);
    QCOMPARE(policy.gateway.idleTimeoutMs, 60000);
    QCOMPARE(policy.gateway.maxConnections, 10000);

    QCOMPARE(policy.providers.size(), std::size_t {3});
    const auto &gpu = policy.providers[0];
    QCOMPARE(gpu.name, QStringLiteral("gpu-1"));
    QCOMPARE(gpu.type, ProviderType::Vllm);
    QCOMPARE(gpu.baseUrl, QByteArrayLiteral("http://127.0.0.1:9001/v1"));
    QCOMPARE(gpu.metricsUrl, QByteArrayLiteral("http://127.0.0.1:9001/metrics"));
    QVERIFY(gpu.apiVersion.isEmpty());
    QVERIFY(gpu.keys.empty());
    QVERIFY(gpu.headers.empty());
    QCOMPARE(gpu.timeouts.connectMs, 2000);
    QCOMPARE(gpu.timeouts.firstTokenMs, 30000);
    QCOMPARE(gpu.timeouts.idleMs, 60000);

    const auto &openai = policy.providers[1];
    QCOMPARE(openai.name, QStringLiteral("openai"));
    QCOMPARE(openai.type, ProviderType::OpenAi);
    QCOMPARE(openai.baseUrl, QByteArrayLiteral("https://api.openai.com/v1"));
    QVERIFY(openai.metricsUrl.isEmpty());
    QCOMPARE(openai.keys.size(), std::size_t {1});
    QCOMPARE(openai.keys[0].name, QStringLiteral("primary"));
    QCOMPARE(openai.keys[0].secret, QByteArrayLiteral("sk-openai-secret"));
    QCOMPARE(openai.keys[0].rpm, 500);
    QCOMPARE(openai.keys[0].tpm, 200000);
    QCOMPARE(openai.timeouts.connectMs, 2000);
    QCOMPARE(openai.timeouts.firstTokenMs, 30000);
    QCOMPARE(openai.timeouts.idleMs, 60000);

    const auto &claude = policy.providers[2];
    QCOMPARE(claude.name, QStringLiteral("claude"));
    QCOMPARE(claude.type, ProviderType::Anthropic);
    QCOMPARE(Gateway::Config::wireFormatOf(claude.type), WireFormat::Anthropic);
    QCOMPARE(Gateway::Config::wireFormatOf(gpu.type), WireFormat::OpenAi);
    QCOMPARE(claude.baseUrl, QByteArrayLiteral("https://api.anthropic.com/v1"));
    QCOMPARE(claude.keys.size(), std::size_t {1});
    QCOMPARE(claude.keys[0].name, QStringLiteral("primary"));
    QCOMPARE(claude.keys[0].secret, QByteArrayLiteral("sk-ant-secret"));
    QCOMPARE(claude.keys[0].rpm, 0);
    QCOMPARE(claude.keys[0].tpm, 0);

    QCOMPARE(policy.routes.size(), std::size_t {2});
    const auto &chat = policy.routes[0];
    QCOMPARE(chat.model, QByteArrayLiteral("chat"));
    QCOMPARE(chat.strategy, QStringLiteral("weighted"));
    QCOMPARE(chat.targets.size(), std::size_t {2});
    QCOMPARE(chat.targets[0].provider, QStringLiteral("gpu-1"));
    QCOMPARE(chat.targets[0].model, QByteArrayLiteral("llama-3.1-8b"));
    QCOMPARE(chat.targets[0].weight, 3.0);
    QCOMPARE(chat.targets[1].provider, QStringLiteral("openai"));
    QCOMPARE(chat.targets[1].model, QByteArrayLiteral("gpt-4o-mini"));
    QCOMPARE(chat.targets[1].weight, 1.0);
    QCOMPARE(chat.fallbacks, QStringList {QStringLiteral("chat-cloud")});

    const auto &cloud = policy.routes[1];
    QCOMPARE(cloud.model, QByteArrayLiteral("chat-cloud"));
    QCOMPARE(cloud.strategy, QStringLiteral("weighted"));
    QCOMPARE(cloud.targets.size(), std::size_t {1});
    QCOMPARE(cloud.targets[0].provider, QStringLiteral("openai"));
    QCOMPARE(cloud.targets[0].model, QByteArrayLiteral("gpt-4o-mini"));
    QCOMPARE(cloud.targets[0].weight, 1.0);
    QVERIFY(cloud.fallbacks.isEmpty());

    QCOMPARE(policy.virtualKeys.size(), std::size_t {1});
    QCOMPARE(policy.virtualKeys[0].name, QStringLiteral("team-a"));
    QCOMPARE(policy.virtualKeys[0].key, QByteArrayLiteral("sy-team-a-0123456789"));
    QCOMPARE(policy.virtualKeys[0].routes, QStringList {QStringLiteral("chat")});

    QCOMPARE(policy.findProvider(QStringLiteral("claude")), &policy.providers[2]);
    QCOMPARE(policy.findProvider(QStringLiteral("nobody")), nullptr);
    QCOMPARE(policy.findRoute(QByteArrayLiteral("chat-cloud")), &policy.routes[1]);
    QCOMPARE(policy.findRoute(QByteArrayLiteral("chat-clou")), nullptr);
}

void TestPolicyLoader::variablesExpand()
{
    QByteArray document = replaced(EXAMPLE, QByteArrayLiteral("base_url: http://127.0.0.1:9001/v1"),
                                   QByteArrayLiteral("base_url: http://${GPU_HOST}:${GPU_PORT}/v1/"));
    document = replaced(document, QByteArrayLiteral("timeouts: {connect_ms: 2000,"),
                        QByteArrayLiteral("timeouts: {connect_ms: \"${CONNECT_MS}\","));
    auto env = defaultEnv();
    env.insert(QStringLiteral("GPU_HOST"), QByteArrayLiteral("10.0.0.7"));
    env.insert(QStringLiteral("GPU_PORT"), QByteArrayLiteral("9100"));
    env.insert(QStringLiteral("CONNECT_MS"), QByteArrayLiteral("750"));

    const auto result = parsePolicy(document, SOURCE, envFrom(env));
    QVERIFY2(result.hasValue(), result.hasValue() ? "" : qPrintable(result.error().toString()));
    // Expanded, then the trailing slash is dropped.
    QCOMPARE(result->providers[0].baseUrl, QByteArrayLiteral("http://10.0.0.7:9100/v1"));
    QCOMPARE(result->providers[1].timeouts.connectMs, 750);
    QCOMPARE(result->providers[1].keys[0].secret, QByteArrayLiteral("sk-openai-secret"));
    QCOMPARE(result->gateway.adminToken, QByteArrayLiteral("admin-token-1"));
}

void TestPolicyLoader::defaultsApplyOnlyWhenUnset()
{
    QByteArray document = replaced(EXAMPLE, QByteArrayLiteral("admin_token: ${SWITCHYARD_ADMIN_TOKEN}"),
                                   QByteArrayLiteral("admin_token: ${ADMIN_UNSET:-fallback-token}"));
    document = replaced(document, QByteArrayLiteral("secret: \"${ANTHROPIC_API_KEY}\""),
                        QByteArrayLiteral("secret: \"${ANTHROPIC_API_KEY:-unused-default}\""));
    document = replaced(document, QByteArrayLiteral("listen: 127.0.0.1:8420"),
                        QByteArrayLiteral("listen: ${LISTEN_HOST:-0.0.0.0}:${LISTEN_PORT:-9999}"));
    document = replaced(document, QByteArrayLiteral("metrics_url: http://127.0.0.1:9001/metrics"),
                        QByteArrayLiteral("metrics_url: \"${METRICS_URL:-}\""));
    auto env = defaultEnv();
    env.insert(QStringLiteral("LISTEN_PORT"), QByteArrayLiteral("8500"));

    const auto result = parsePolicy(document, SOURCE, envFrom(env));
    QVERIFY2(result.hasValue(), result.hasValue() ? "" : qPrintable(result.error().toString()));
    QCOMPARE(result->gateway.adminToken, QByteArrayLiteral("fallback-token"));
    QCOMPARE(result->providers[2].keys[0].secret, QByteArrayLiteral("sk-ant-secret"));
    QCOMPARE(result->gateway.listenHost, QStringLiteral("0.0.0.0"));
    QCOMPARE(result->gateway.listenPort, quint16 {8500});
    QVERIFY(result->providers[0].metricsUrl.isEmpty());
}

void TestPolicyLoader::unsetVariableWithoutDefaultNamesFieldAndVariable()
{
    auto env = defaultEnv();
    env.remove(QStringLiteral("OPENAI_API_KEY"));
    const ConfigError error = expectError(EXAMPLE, env);
    QCOMPARE(error.source, SOURCE);
    QCOMPARE(error.field, QStringLiteral("providers[1].keys[0].secret"));
    QVERIFY2(error.message.contains(QStringLiteral("OPENAI_API_KEY")), qPrintable(error.message));
    QVERIFY2(error.message.contains(QStringLiteral("not set")), qPrintable(error.message));
    QCOMPARE(error.line, lineOf(EXAMPLE, QByteArrayLiteral("${OPENAI_API_KEY}")));
    QCOMPARE(error.line, 14);
    QCOMPARE(error.column, columnOf(EXAMPLE, QByteArrayLiteral("\"${OPENAI_API_KEY}\"")));

    env = defaultEnv();
    env.remove(QStringLiteral("SWITCHYARD_ADMIN_TOKEN"));
    const ConfigError adminError = expectError(EXAMPLE, env);
    QCOMPARE(adminError.field, QStringLiteral("gateway.admin_token"));
    QCOMPARE(adminError.line, 4);
    QVERIFY(adminError.message.contains(QStringLiteral("SWITCHYARD_ADMIN_TOKEN")));
}

void TestPolicyLoader::listenerSecurityKeysAreRead()
{
    const QByteArray document =
        replaced(EXAMPLE, QByteArrayLiteral("  threads: 0\n"),
                 QByteArrayLiteral("  threads: 0\n  admin_allow_remote: true\n  tls_cert_file: /etc/sy/cert.pem\n"
                                   "  tls_key_file: /etc/sy/key.pem\n"));
    const auto policy = parsePolicy(document, SOURCE, envFrom(defaultEnv()));
    QVERIFY2(policy.hasValue(), policy ? "" : qPrintable(policy.error().toString()));
    QVERIFY(policy->gateway.adminAllowRemote);
    QCOMPARE(policy->gateway.tlsCertFile, QStringLiteral("/etc/sy/cert.pem"));
    QCOMPARE(policy->gateway.tlsKeyFile, QStringLiteral("/etc/sy/key.pem"));
    const auto defaults = parsePolicy(EXAMPLE, SOURCE, envFrom(defaultEnv()));
    QVERIFY(defaults.hasValue());
    QVERIFY(!defaults->gateway.adminAllowRemote);
    QVERIFY(defaults->gateway.tlsCertFile.isEmpty());
}

void TestPolicyLoader::halfATlsConfigurationIsRefused()
{
    // A certificate without its key would silently serve clear text.
    const QByteArray document = replaced(EXAMPLE, QByteArrayLiteral("  threads: 0\n"),
                                         QByteArrayLiteral("  threads: 0\n  tls_cert_file: /etc/sy/cert.pem\n"));
    const ConfigError error = expectError(document);
    QCOMPARE(error.field, QStringLiteral("gateway.tls_key_file"));
    QVERIFY2(error.message.contains(QStringLiteral("set together")), qPrintable(error.message));
}

void TestPolicyLoader::unknownTopLevelKey()
{
    const QByteArray document = EXAMPLE + "telemetry: true\n";
    const ConfigError error = expectError(document);
    QCOMPARE(error.source, SOURCE);
    QCOMPARE(error.field, QStringLiteral("telemetry"));
    QCOMPARE(error.line, 33);
    QCOMPARE(error.column, 1);
    QVERIFY2(error.message.contains(QStringLiteral("unknown key 'telemetry'")), qPrintable(error.message));
}

void TestPolicyLoader::unknownProviderKey()
{
    const QByteArray document = replaced(EXAMPLE, QByteArrayLiteral("    base_url: https://api.openai.com/v1\n"),
                                         QByteArrayLiteral("    base_url: https://api.openai.com/v1\n    region: us\n"));
    const ConfigError error = expectError(document);
    QCOMPARE(error.source, SOURCE);
    QCOMPARE(error.field, QStringLiteral("providers[1].region"));
    QCOMPARE(error.line, 13);
    QCOMPARE(error.column, 5);
    QVERIFY2(error.message.contains(QStringLiteral("unknown key 'region'")), qPrintable(error.message));
}

void TestPolicyLoader::unknownTargetKey()
{
    const QByteArray document = replaced(EXAMPLE, QByteArrayLiteral("weight: 1}"),
                                         QByteArrayLiteral("weight: 1, priority: 2}"));
    const ConfigError error = expectError(document);
    QCOMPARE(error.source, SOURCE);
    QCOMPARE(error.field, QStringLiteral("routes[0].targets[1].priority"));
    QCOMPARE(error.line, 26);
    QCOMPARE(error.column, columnOf(document, QByteArrayLiteral("priority")));
    QVERIFY2(error.message.contains(QStringLiteral("unknown key 'priority'")), qPrintable(error.message));
}

void TestPolicyLoader::http2PriorKnowledge()
{
    const auto document = [](const QByteArray &url, const QByteArray &value) -> QByteArray {
        return "providers:\n  - {name: a, type: vllm, base_url: " + url + "}\n  - {name: b, type: tgi, base_url: " + url +
               ", http2_prior_knowledge: " + value + "}\nroutes:\n  - model: m\n    targets: [{provider: b, model: x}]\n";
    };
    const auto policy = TestSupport::loadPolicy(document("http://127.0.0.1:8000/v1", "true"));
    QVERIFY2(policy, policy ? "" : qPrintable(policy.error().toString()));
    QCOMPARE(policy->providers[0].http2PriorKnowledge, false); // the default
    QCOMPARE(policy->providers[1].http2PriorKnowledge, true);
    TestSupport::verifyPolicyRoundTrip(policy.value(), false);
    TestSupport::verifyPolicyRoundTrip(policy.value(), true);
    // The default is left out of a rendered document, so GET /admin/v1/policy is unchanged.
    QVERIFY(!Gateway::Config::toYaml(TestSupport::loadPolicy(document("http://127.0.0.1:8000/v1", "false")).value(),
                                     Gateway::Config::SecretRendering::Included)
                 .contains("http2_prior_knowledge"));

    const ConfigError notBoolean = expectError(document("http://127.0.0.1:8000/v1", "yes please"));
    QCOMPARE(notBoolean.field, QStringLiteral("providers[1].http2_prior_knowledge"));
    const ConfigError overTls = expectError(document("https://example.com/v1", "true"));
    QCOMPARE(overTls.field, QStringLiteral("providers[1].http2_prior_knowledge"));
    QVERIFY2(overTls.message.contains(QStringLiteral("http://")), qPrintable(overTls.message));
}

void TestPolicyLoader::routingErrorsNameTheField_data()
{
    QTest::addColumn<QByteArray>("from");
    QTest::addColumn<QByteArray>("to");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("message");
    const QByteArray strategy = QByteArrayLiteral("    strategy: weighted\n");
    QTest::newRow("unknown strategy") << strategy << QByteArrayLiteral("    strategy: fastest\n")
                                      << QStringLiteral("routes[0].strategy") << QStringLiteral("unknown strategy 'fastest'");
    QTest::newRow("option of another strategy")
        << strategy << QByteArrayLiteral("    strategy: p2c\n    strategy_options: {load_factor: 2}\n")
        << QStringLiteral("routes[0].strategy_options.load_factor") << QStringLiteral("unknown key 'load_factor'");
    QTest::newRow("bad load metric")
        << strategy << QByteArrayLiteral("    strategy: least_request\n    strategy_options: {load_metric: bytes}\n")
        << QStringLiteral("routes[0].strategy_options.load_metric") << QStringLiteral("unknown load metric 'bytes'");
    QTest::newRow("load factor below 1")
        << strategy << QByteArrayLiteral("    strategy: session_hash\n    strategy_options: {load_factor: 0.5}\n")
        << QStringLiteral("routes[0].strategy_options.load_factor") << QStringLiteral("must be between 1 and 100");
    QTest::newRow("exploration above 1")
        << strategy << QByteArrayLiteral("    strategy: adaptive\n    strategy_options: {exploration: 1.5}\n")
        << QStringLiteral("routes[0].strategy_options.exploration") << QStringLiteral("must be between 0 and 1");
    QTest::newRow("kv miss start of 1")
        << strategy << QByteArrayLiteral("    strategy: prefix_aware\n    strategy_options: {kv_miss_start: 1}\n")
        << QStringLiteral("routes[0].strategy_options.kv_miss_start") << QStringLiteral("must be between 0 and 0.99");
    QTest::newRow("unknown retry class")
        << strategy << QByteArrayLiteral("    retry: {attempts: 2, on: [timeout, teapot]}\n")
        << QStringLiteral("routes[0].retry.on[1]") << QStringLiteral("unknown failure class 'teapot'");
    QTest::newRow("class fallback of an unknown class")
        << strategy << QByteArrayLiteral("    retry: {fallbacks: {teapot: [chat-cloud]}}\n")
        << QStringLiteral("routes[0].retry.fallbacks.teapot") << QStringLiteral("unknown failure class 'teapot'");
    QTest::newRow("class fallback to an unknown route")
        << strategy << QByteArrayLiteral("    retry: {fallbacks: {context_length: [chat-huge]}}\n")
        << QStringLiteral("routes[0].retry.fallbacks.context_length[0]") << QStringLiteral("unknown route 'chat-huge'");
    QTest::newRow("zero attempts") << strategy << QByteArrayLiteral("    retry: {attempts: 0}\n")
                                   << QStringLiteral("routes[0].retry.attempts") << QStringLiteral("must be between 1 and 10");
    QTest::newRow("negative price")
        << QByteArrayLiteral("model: gpt-4o-mini, weight: 1}") << QByteArrayLiteral("model: gpt-4o-mini, weight: 1, input_cost_per_mtok: -1}")
        << QStringLiteral("routes[0].targets[1].input_cost_per_mtok") << QStringLiteral("must be between 0 and");
    QTest::newRow("retry budget above 1")
        << QByteArrayLiteral("routes:\n") << QByteArrayLiteral("routing: {retry_budget: 2}\nroutes:\n")
        << QStringLiteral("routing.retry_budget") << QStringLiteral("must be between 0 and 1");
    QTest::newRow("failed below degraded")
        << QByteArrayLiteral("routes:\n")
        << QByteArrayLiteral("routing:\n  health: {degraded_error_rate: 0.5, failed_error_rate: 0.3}\nroutes:\n")
        << QStringLiteral("routing.health.failed_error_rate") << QStringLiteral("must not be below degraded_error_rate");
    const QByteArray gpuTarget = QByteArrayLiteral("      - {provider: gpu-1, model: llama-3.1-8b, weight: 3}\n");
    QTest::newRow("unknown pool")
        << gpuTarget << QByteArrayLiteral("      - {provider: gpu-1, model: llama-3.1-8b, weight: 3, pool: both}\n")
        << QStringLiteral("routes[0].targets[0].pool") << QStringLiteral("unknown pool 'both' (allowed: prefill, decode");
    QTest::newRow("pool on a cloud provider")
        << QByteArrayLiteral("model: gpt-4o-mini, weight: 1}") << QByteArrayLiteral("model: gpt-4o-mini, weight: 1, pool: decode}")
        << QStringLiteral("routes[0].targets[1].pool") << QStringLiteral("provider 'openai' is of type openai");
    QTest::newRow("only prefill targets")
        << QByteArrayLiteral("  - model: chat-cloud\n    targets:\n      - {provider: openai, model: gpt-4o-mini}\n")
        << QByteArrayLiteral("  - model: chat-cloud\n    targets:\n      - {provider: gpu-1, model: llama-p, pool: prefill}\n")
        << QStringLiteral("routes[1].targets") << QStringLiteral("every target is in the prefill pool");
    QTest::newRow("cap on a prefill target")
        << QByteArrayLiteral("  - model: chat-cloud\n    targets:\n      - {provider: openai, model: gpt-4o-mini}\n")
        << QByteArrayLiteral("  - model: chat-cloud\n    targets:\n      - {provider: gpu-1, model: llama-p, pool: prefill, max_concurrency: 2}\n"
                             "      - {provider: gpu-1, model: llama-d, pool: decode, max_concurrency: 2}\n")
        << QStringLiteral("routes[1].targets[0].max_concurrency") << QStringLiteral("a prefill-pool target takes no cap");
    QTest::newRow("pd without a prefill pool")
        << strategy << QByteArrayLiteral("    strategy: weighted\n    pd: {uncached_tokens_threshold: 8}\n")
        << QStringLiteral("routes[0].pd") << QStringLiteral("no target with pool: prefill");
    QTest::newRow("negative pd threshold")
        << strategy << QByteArrayLiteral("    strategy: weighted\n    pd: {uncached_tokens_threshold: -1}\n")
        << QStringLiteral("routes[0].pd.uncached_tokens_threshold") << QStringLiteral("must be between 0 and");
    QTest::newRow("negative pd work ratio")
        << strategy << QByteArrayLiteral("    strategy: weighted\n    pd: {max_prefill_work_ratio: -0.5}\n")
        << QStringLiteral("routes[0].pd.max_prefill_work_ratio") << QStringLiteral("must be between 0 and");
    QTest::newRow("unknown pd key")
        << strategy << QByteArrayLiteral("    strategy: weighted\n    pd: {threshold: 8}\n")
        << QStringLiteral("routes[0].pd.threshold") << QStringLiteral("unknown key 'threshold'");
    QTest::newRow("session source with a colon")
        << QByteArrayLiteral("routes:\n") << QByteArrayLiteral("routing: {session_key_sources: [\"x-a: b\"]}\nroutes:\n")
        << QStringLiteral("routing.session_key_sources[0]") << QStringLiteral("expected a lower-case header name");
}

void TestPolicyLoader::routingErrorsNameTheField()
{
    QFETCH(QByteArray, from);
    QFETCH(QByteArray, to);
    QFETCH(QString, field);
    QFETCH(QString, message);
    const QByteArray document = replaced(EXAMPLE, from, to);
    const ConfigError error = expectError(document);
    QCOMPARE(error.field, field);
    QVERIFY2(error.message.contains(message), qPrintable(error.message));
    QVERIFY(error.line > 0);
}

void TestPolicyLoader::prefillDecodePoolsAreRead()
{
    using Gateway::Routing::TargetPool;
    const QByteArray document = replaced(
        EXAMPLE, QByteArrayLiteral("      - {provider: gpu-1, model: llama-3.1-8b, weight: 3}\n"),
        QByteArrayLiteral("      - {provider: gpu-1, model: llama-p, pool: prefill}\n"
                          "      - {provider: gpu-1, model: llama-3.1-8b, weight: 3, pool: decode}\n"));
    const auto withDefaults = parsePolicy(document, SOURCE, envFrom(defaultEnv()));
    QVERIFY2(withDefaults, qPrintable(withDefaults ? QString() : withDefaults.error().toString()));
    const auto &route = withDefaults.value().routes[0];
    QCOMPARE(route.targets[0].pool, TargetPool::Prefill);
    QCOMPARE(route.targets[1].pool, TargetPool::Decode);
    QCOMPARE(route.targets[2].pool, TargetPool::Both);
    QCOMPARE(route.pd.uncachedTokensThreshold, 16);
    QVERIFY(route.pd.enabled);
    QCOMPARE(route.pd.maxPrefillWorkRatio, 1.0);
    const auto tuned = parsePolicy(replaced(document, QByteArrayLiteral("    strategy: weighted\n"),
                                            QByteArrayLiteral("    strategy: weighted\n    pd: {uncached_tokens_threshold: 0, enabled: false, "
                                                              "max_prefill_work_ratio: 0}\n")),
                                   SOURCE, envFrom(defaultEnv()));
    QVERIFY2(tuned, qPrintable(tuned ? QString() : tuned.error().toString()));
    QCOMPARE(tuned.value().routes[0].pd.uncachedTokensThreshold, 0);
    QVERIFY(!tuned.value().routes[0].pd.enabled);
    QCOMPARE(tuned.value().routes[0].pd.maxPrefillWorkRatio, 0.0);
    // Admission control caps the decode targets only: an uncapped prefill target is fine.
    const auto capped = parsePolicy(
        replaced(EXAMPLE, QByteArrayLiteral("  - model: chat-cloud\n    targets:\n      - {provider: openai, model: gpt-4o-mini}\n"),
                 QByteArrayLiteral("  - model: chat-cloud\n    targets:\n      - {provider: gpu-1, model: llama-p, pool: prefill}\n"
                                   "      - {provider: gpu-1, model: llama-d, pool: decode, max_concurrency: 3}\n")),
        SOURCE, envFrom(defaultEnv()));
    QVERIFY2(capped, qPrintable(capped ? QString() : capped.error().toString()));
}

void TestPolicyLoader::routingOptionsAreRead()
{
    const QByteArray document = replaced(
        EXAMPLE, QByteArrayLiteral("    strategy: weighted\n"),
        QByteArrayLiteral("    strategy: session_hash\n    strategy_options: {load_factor: 1.5}\n"
                          "    retry: {attempts: 5, on: [timeout]}\n"));
    const auto policy = parsePolicy(document, QStringLiteral("test.yaml"), envFrom(defaultEnv()));
    QVERIFY(policy.hasValue());
    const auto &route = policy->routes.front();
    QCOMPARE(route.strategy, QStringLiteral("session_hash"));
    QCOMPARE(route.options.loadFactor, 1.5);
    QCOMPARE(route.retry.attempts, 5);
    QCOMPARE(route.retry.on, QStringList {QStringLiteral("timeout")});
    // Untouched sections keep their documented defaults.
    QCOMPARE(policy->routing.retryBudget, 0.2);
    QCOMPARE(policy->routing.health.openMs, 5000);
}

namespace {

// The example with conditional routing added to its first route (targets gpu-1/llama-3.1-8b
// and openai/gpt-4o-mini; the other route is chat-cloud).
QByteArray withRules(const QByteArray &rules)
{
    return replaced(EXAMPLE, QByteArrayLiteral("    fallbacks: [chat-cloud]\n"), "    fallbacks: [chat-cloud]\n" + rules);
}

} // namespace

void TestPolicyLoader::rulesAndSplitAreRead()
{
    const QByteArray document = withRules(QByteArrayLiteral(R"(    rules:
      - name: vision
        when: {has_images: true}
        route: chat-cloud
      - when:
          virtual_key: team-a
          header: {x-tier: gold}
          min_prompt_tokens: 4000
          last_user_message_matches: "(?i)\\bdef\\b"
          last_user_message_contains: [python, "stack trace"]
          max_max_tokens: 256
        targets: [gpu-1/llama-3.1-8b]
    split:
      arms:
        - {name: control, share: 0.7, targets: [gpu-1/llama-3.1-8b]}
        - {name: b, share: 0.2, route: chat-cloud}
        - {name: c, share: 0.1, targets: [openai/gpt-4o-mini]}
)"));
    const auto policy = parsePolicy(document, SOURCE, envFrom(defaultEnv()));
    QVERIFY2(policy.hasValue(), policy.hasValue() ? "" : qPrintable(policy.error().toString()));
    const auto &route = policy->routes.front();
    QCOMPARE(route.rules.size(), std::size_t {2});
    QCOMPARE(route.rules[0].name, QStringLiteral("vision"));
    QCOMPARE(route.rules[0].when.hasImages, std::optional<bool> {true});
    QVERIFY(!route.rules[0].when.hasTools);
    QCOMPARE(route.rules[0].action.route, QByteArrayLiteral("chat-cloud"));
    QVERIFY(route.rules[0].action.targets.isEmpty());
    const auto &when = route.rules[1].when;
    QCOMPARE(when.virtualKeys, QStringList {QStringLiteral("team-a")}); // a single name reads as a list
    QCOMPARE(when.headers.size(), std::size_t {1});
    QCOMPARE(when.headers[0].first, QByteArrayLiteral("x-tier"));
    QCOMPARE(when.headers[0].second, QByteArrayLiteral("gold"));
    QCOMPARE(when.minPromptTokens, 4000);
    QCOMPARE(when.maxPromptTokens, -1);
    QCOMPARE(when.lastUserMessageMatches, QStringLiteral("(?i)\\bdef\\b"));
    QCOMPARE(when.lastUserMessageContains, (QStringList {QStringLiteral("python"), QStringLiteral("stack trace")}));
    QCOMPARE(when.minMaxTokens, -1);
    QCOMPARE(when.maxMaxTokens, 256);
    QCOMPARE(route.rules[1].action.targets, QStringList {QStringLiteral("gpu-1/llama-3.1-8b")});
    // Defaults: sticky on the session; shares that sum to 1 within rounding are accepted.
    QCOMPARE(route.split.sticky, QStringLiteral("session"));
    QCOMPARE(route.split.arms.size(), std::size_t {3});
    QCOMPARE(route.split.arms[1].name, QStringLiteral("b"));
    QCOMPARE(route.split.arms[1].share, 0.2);
    QCOMPARE(route.split.arms[1].action.route, QByteArrayLiteral("chat-cloud"));
    // A route without rules has none and no split.
    QVERIFY(policy->routes[1].rules.empty());
    QVERIFY(policy->routes[1].split.arms.empty());
}

void TestPolicyLoader::ruleErrorsNameTheField_data()
{
    QTest::addColumn<QByteArray>("rules");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("message");
    const auto row = [](const char *name, const char *rules, const char *field, const char *message) {
        QTest::newRow(name) << QByteArray(rules) << QString::fromLatin1(field) << QString::fromLatin1(message);
    };
    row("no condition", "    rules:\n      - {when: {}, route: chat-cloud}\n", "routes[0].rules[0].when",
        "a rule needs at least one condition");
    row("no when", "    rules:\n      - {route: chat-cloud}\n", "routes[0].rules[0].when", "required field is missing");
    row("no action", "    rules:\n      - {when: {has_images: true}}\n", "routes[0].rules[0]",
        "needs exactly one action: route (another route) or targets (of this route)");
    row("two actions", "    rules:\n      - {when: {has_images: true}, route: chat-cloud, targets: [gpu-1/llama-3.1-8b]}\n",
        "routes[0].rules[0].targets", "give either route or targets, not both");
    row("unknown route", "    rules:\n      - {when: {has_tools: true}, route: nowhere}\n", "routes[0].rules[0].route",
        "unknown route 'nowhere'");
    row("own route", "    rules:\n      - {when: {has_tools: true}, route: chat}\n", "routes[0].rules[0].route",
        "cannot send to its own route; use targets to narrow it");
    row("target of another route", "    rules:\n      - {when: {has_tools: true}, targets: [gpu-1/llama-3.1-8b, claude/x]}\n",
        "routes[0].rules[0].targets[1]", "'claude/x' is not a target of this route (targets: gpu-1/llama-3.1-8b, openai/gpt-4o-mini)");
    row("target listed twice", "    rules:\n      - {when: {has_tools: true}, targets: [gpu-1/llama-3.1-8b, gpu-1/llama-3.1-8b]}\n",
        "routes[0].rules[0].targets[1]", "'gpu-1/llama-3.1-8b' is listed twice");
    row("empty targets", "    rules:\n      - {when: {has_tools: true}, targets: []}\n", "routes[0].rules[0].targets",
        "must not be empty");
    row("bad regex", "    rules:\n      - {when: {last_user_message_matches: \"(def\"}, route: chat-cloud}\n",
        "routes[0].rules[0].when.last_user_message_matches", "invalid regular expression: missing closing parenthesis at offset 4");
    row("unknown condition", "    rules:\n      - {when: {has_video: true}, route: chat-cloud}\n",
        "routes[0].rules[0].when.has_video", "unknown key 'has_video'");
    row("upper-case header", "    rules:\n      - {when: {header: {X-Tier: gold}}, route: chat-cloud}\n",
        "routes[0].rules[0].when.header.X-Tier", "'X-Tier' is not a lower-case header name");
    row("max below min", "    rules:\n      - {when: {min_prompt_tokens: 10, max_prompt_tokens: 5}, route: chat-cloud}\n",
        "routes[0].rules[0].when.max_prompt_tokens", "must not be below min_prompt_tokens");
    row("zero max_tokens bound", "    rules:\n      - {when: {min_max_tokens: 0}, route: chat-cloud}\n",
        "routes[0].rules[0].when.min_max_tokens", "must be between 1 and 100000000");
    row("not a boolean", "    rules:\n      - {when: {has_images: maybe}, route: chat-cloud}\n",
        "routes[0].rules[0].when.has_images", "expected true or false");
    row("duplicate rule name",
        "    rules:\n      - {name: a, when: {has_tools: true}, route: chat-cloud}\n"
        "      - {name: a, when: {has_images: true}, route: chat-cloud}\n",
        "routes[0].rules[1].name", "duplicate rule name 'a'");
    row("rules not a list", "    rules: {when: {has_tools: true}}\n", "routes[0].rules", "expected a list");
    row("shares below 1",
        "    split:\n      arms:\n        - {name: a, share: 0.5, route: chat-cloud}\n"
        "        - {name: b, share: 0.4, targets: [gpu-1/llama-3.1-8b]}\n",
        "routes[0].split.arms", "arm shares must sum to 1 (they sum to 0.9)");
    row("zero share",
        "    split:\n      arms:\n        - {name: a, share: 0, route: chat-cloud}\n"
        "        - {name: b, share: 1, targets: [gpu-1/llama-3.1-8b]}\n",
        "routes[0].split.arms[0].share", "must be greater than 0 and at most 1");
    row("missing share", "    split:\n      arms:\n        - {name: a, route: chat-cloud}\n",
        "routes[0].split.arms[0].share", "required field is missing");
    row("duplicate arm name",
        "    split:\n      arms:\n        - {name: a, share: 0.5, route: chat-cloud}\n"
        "        - {name: a, share: 0.5, targets: [gpu-1/llama-3.1-8b]}\n",
        "routes[0].split.arms[1].name", "duplicate arm name 'a'");
    row("unknown sticky",
        "    split:\n      sticky: cookie\n      arms:\n        - {name: a, share: 1, route: chat-cloud}\n",
        "routes[0].split.sticky", "unknown sticky key 'cookie' (allowed: session, user, virtual_key, none)");
    row("arm to unknown route",
        "    split:\n      arms:\n        - {name: a, share: 0.5, targets: [openai/gpt-4o-mini]}\n"
        "        - {name: b, share: 0.5, route: chat-v2}\n",
        "routes[0].split.arms[1].route", "unknown route 'chat-v2'");
    row("arm without action", "    split:\n      arms:\n        - {name: a, share: 1}\n", "routes[0].split.arms[0]",
        "needs exactly one action");
    row("arm to its own route", "    split:\n      arms:\n        - {name: a, share: 1, route: chat}\n",
        "routes[0].split.arms[0].route", "cannot send to its own route");
    row("no arms", "    split: {sticky: none, arms: []}\n", "routes[0].split.arms", "a split needs at least one arm");
}

void TestPolicyLoader::ruleErrorsNameTheField()
{
    QFETCH(QByteArray, rules);
    QFETCH(QString, field);
    QFETCH(QString, message);
    const QByteArray document = withRules(rules);
    const ConfigError error = expectError(document);
    QCOMPARE(error.field, field);
    QVERIFY2(error.message.contains(message), qPrintable(error.message));
    // Every error points into the added lines, after the route's fallbacks.
    QVERIFY2(error.line >= lineOf(document, "    fallbacks: [chat-cloud]\n") + 1, qPrintable(error.toString()));
    QCOMPARE(error.source, SOURCE);
}

void TestPolicyLoader::nonPositiveWeight_data()
{
    QTest::addColumn<QByteArray>("weight");
    QTest::newRow("zero") << QByteArrayLiteral("0");
    QTest::newRow("negative") << QByteArrayLiteral("-1");
    QTest::newRow("negative fraction") << QByteArrayLiteral("-0.5");
}

void TestPolicyLoader::nonPositiveWeight()
{
    QFETCH(QByteArray, weight);
    const QByteArray document = replaced(EXAMPLE, QByteArrayLiteral("weight: 1}"), "weight: " + weight + '}');
    const ConfigError error = expectError(document);
    QCOMPARE(error.field, QStringLiteral("routes[0].targets[1].weight"));
    QCOMPARE(error.message, QStringLiteral("must be greater than 0"));
    QCOMPARE(error.line, 26);
    QCOMPARE(error.column, columnOf(document, "weight: " + weight + '}') + 8);
}

void TestPolicyLoader::unknownProviderType()
{
    const QByteArray document = replaced(EXAMPLE, QByteArrayLiteral("type: vllm"), QByteArrayLiteral("type: triton"));
    const ConfigError error = expectError(document);
    QCOMPARE(error.field, QStringLiteral("providers[0].type"));
    QCOMPARE(error.line, 7);
    QCOMPARE(error.column, 11);
    QVERIFY2(error.message.contains(QStringLiteral("unknown provider type 'triton'")), qPrintable(error.message));
}

void TestPolicyLoader::baseUrlMustBeHttp_data()
{
    QTest::addColumn<QByteArray>("url");
    QTest::newRow("ftp") << QByteArrayLiteral("ftp://127.0.0.1:9001/v1");
    QTest::newRow("no scheme") << QByteArrayLiteral("127.0.0.1:9001/v1");
    QTest::newRow("no host") << QByteArrayLiteral("http:///v1");
}

void TestPolicyLoader::baseUrlMustBeHttp()
{
    QFETCH(QByteArray, url);
    const QByteArray document =
        replaced(EXAMPLE, QByteArrayLiteral("base_url: http://127.0.0.1:9001/v1"), "base_url: " + url);
    const ConfigError error = expectError(document);
    QCOMPARE(error.field, QStringLiteral("providers[0].base_url"));
    QCOMPARE(error.line, 8);
    QVERIFY2(error.message.contains(QStringLiteral("is not an http:// or https:// URL")), qPrintable(error.message));
}

void TestPolicyLoader::targetNamesUnknownProvider()
{
    const QByteArray document =
        replaced(EXAMPLE, QByteArrayLiteral("{provider: gpu-1,"), QByteArrayLiteral("{provider: gpu-9,"));
    const ConfigError error = expectError(document);
    QCOMPARE(error.field, QStringLiteral("routes[0].targets[0].provider"));
    QCOMPARE(error.message, QStringLiteral("unknown provider 'gpu-9'"));
    QCOMPARE(error.line, 25);
    QCOMPARE(error.column, columnOf(document, QByteArrayLiteral("gpu-9")));
}

void TestPolicyLoader::fallbackToUnknownRoute()
{
    const QByteArray document =
        replaced(EXAMPLE, QByteArrayLiteral("fallbacks: [chat-cloud]"), QByteArrayLiteral("fallbacks: [chat-cloud, nowhere]"));
    const ConfigError error = expectError(document);
    QCOMPARE(error.field, QStringLiteral("routes[0].fallbacks[1]"));
    QCOMPARE(error.message, QStringLiteral("unknown route 'nowhere'"));
    QCOMPARE(error.line, 27);
    QCOMPARE(error.column, columnOf(document, QByteArrayLiteral("nowhere")));
}

void TestPolicyLoader::fallbackToItself()
{
    const QByteArray document =
        replaced(EXAMPLE, QByteArrayLiteral("fallbacks: [chat-cloud]"), QByteArrayLiteral("fallbacks: [chat]"));
    const ConfigError error = expectError(document);
    QCOMPARE(error.field, QStringLiteral("routes[0].fallbacks[0]"));
    QCOMPARE(error.message, QStringLiteral("a route cannot fall back to itself"));
    QCOMPARE(error.line, 27);
}

void TestPolicyLoader::fallbackCycle()
{
    const QByteArray document = replaced(EXAMPLE, QByteArrayLiteral("      - {provider: openai, model: gpt-4o-mini}\n"),
                                         QByteArrayLiteral("      - {provider: openai, model: gpt-4o-mini}\n"
                                                           "    fallbacks: [chat]\n"));
    const ConfigError error = expectError(document);
    QCOMPARE(error.field, QStringLiteral("routes[0].fallbacks"));
    QVERIFY2(error.message.contains(QStringLiteral("cycle")), qPrintable(error.message));
    QVERIFY2(error.message.contains(QStringLiteral("'chat'")), qPrintable(error.message));
    QCOMPARE(error.line, 27);
}

void TestPolicyLoader::duplicateProviderName()
{
    const QByteArray document =
        replaced(EXAMPLE, QByteArrayLiteral("  - name: claude\n"), QByteArrayLiteral("  - name: openai\n"));
    const ConfigError error = expectError(document);
    QCOMPARE(error.field, QStringLiteral("providers[2].name"));
    QCOMPARE(error.message, QStringLiteral("duplicate provider name 'openai'"));
    QCOMPARE(error.line, 16);
    QCOMPARE(error.column, 11);
}

void TestPolicyLoader::duplicateRoute()
{
    const QByteArray document =
        replaced(EXAMPLE, QByteArrayLiteral("  - model: chat-cloud\n"), QByteArrayLiteral("  - model: chat\n"));
    const ConfigError error = expectError(document);
    QCOMPARE(error.field, QStringLiteral("routes[1].model"));
    QCOMPARE(error.message, QStringLiteral("duplicate route 'chat'"));
    QCOMPARE(error.line, 28);
    QCOMPARE(error.column, 12);
}

void TestPolicyLoader::badListen_data()
{
    QTest::addColumn<QByteArray>("listen");
    QTest::addColumn<QString>("message");
    QTest::newRow("no port") << QByteArrayLiteral("nohost") << QStringLiteral("expected HOST:PORT");
    QTest::newRow("empty host") << QByteArrayLiteral(":8420") << QStringLiteral("expected HOST:PORT");
    QTest::newRow("port too large") << QByteArrayLiteral("127.0.0.1:99999") << QStringLiteral("port must be");
    QTest::newRow("port not a number") << QByteArrayLiteral("127.0.0.1:http") << QStringLiteral("port must be");
    QTest::newRow("host name") << QByteArrayLiteral("example.com:80") << QStringLiteral("host must be an IP address");
}

void TestPolicyLoader::badListen()
{
    QFETCH(QByteArray, listen);
    QFETCH(QString, message);
    const QByteArray document = replaced(EXAMPLE, QByteArrayLiteral("listen: 127.0.0.1:8420"), "listen: " + listen);
    const ConfigError error = expectError(document);
    QCOMPARE(error.field, QStringLiteral("gateway.listen"));
    QCOMPARE(error.line, 2);
    QCOMPARE(error.column, 11);
    QVERIFY2(error.message.startsWith(message), qPrintable(error.message));
}

void TestPolicyLoader::threadsOutOfRange_data()
{
    QTest::addColumn<QByteArray>("threads");
    QTest::addColumn<QString>("message");
    QTest::newRow("negative") << QByteArrayLiteral("-1") << QStringLiteral("must be between 0 and 256");
    QTest::newRow("too many") << QByteArrayLiteral("257") << QStringLiteral("must be between 0 and 256");
    QTest::newRow("not a number") << QByteArrayLiteral("four") << QStringLiteral("expected an integer");
}

void TestPolicyLoader::threadsOutOfRange()
{
    QFETCH(QByteArray, threads);
    QFETCH(QString, message);
    const QByteArray document = replaced(EXAMPLE, QByteArrayLiteral("threads: 0"), "threads: " + threads);
    const ConfigError error = expectError(document);
    QCOMPARE(error.field, QStringLiteral("gateway.threads"));
    QCOMPARE(error.message, message);
    QCOMPARE(error.line, 3);

    // The bounds themselves are fine.
    const auto upper = parsePolicy(replaced(EXAMPLE, QByteArrayLiteral("threads: 0"), QByteArrayLiteral("threads: 256")),
                                   SOURCE, envFrom(defaultEnv()));
    QVERIFY(upper.hasValue());
    QCOMPARE(upper->gateway.threads, 256);
}

void TestPolicyLoader::yamlSyntaxErrorReportsLine()
{
    const QByteArray document = QByteArrayLiteral("gateway:\n  listen: 127.0.0.1:8420\n   threads: 1\n");
    const ConfigError error = expectError(document);
    QCOMPARE(error.source, SOURCE);
    QCOMPARE(error.line, 3);
    QVERIFY(error.column > 0);
    QVERIFY(!error.message.isEmpty());
    QVERIFY(error.toString().startsWith(QStringLiteral("policy.yaml:3:")));

    const ConfigError flowError = expectError(QByteArrayLiteral("routes:\n  - {model: a, targets: [}\n"));
    QCOMPARE(flowError.line, 2);
}

void TestPolicyLoader::emptyDocumentGivesDefaults()
{
    for (const QByteArray &document : {QByteArray(), QByteArrayLiteral("# nothing configured yet\n")}) {
        const auto result = parsePolicy(document, SOURCE, envFrom({}));
        QVERIFY2(result.hasValue(), result.hasValue() ? "" : qPrintable(result.error().toString()));
        QCOMPARE(result->gateway.listenHost, QStringLiteral("127.0.0.1"));
        QCOMPARE(result->gateway.listenPort, quint16 {8420});
        QCOMPARE(result->gateway.threads, 0);
        QVERIFY(result->gateway.adminToken.isEmpty());
        QVERIFY(result->providers.empty());
        QVERIFY(result->routes.empty());
        QVERIFY(result->virtualKeys.empty());
    }
}

void TestPolicyLoader::shortVirtualKey()
{
    auto env = defaultEnv();
    env.insert(QStringLiteral("TEAM_A_KEY"), QByteArrayLiteral("1234567"));
    const ConfigError error = expectError(EXAMPLE, env);
    QCOMPARE(error.field, QStringLiteral("virtual_keys[0].key"));
    QCOMPARE(error.message, QStringLiteral("must be at least 8 characters"));
    QCOMPARE(error.line, 32);

    env.insert(QStringLiteral("TEAM_A_KEY"), QByteArrayLiteral("12345678"));
    QVERIFY(parsePolicy(EXAMPLE, SOURCE, envFrom(env)).hasValue());
}

void TestPolicyLoader::configErrorToString()
{
    const QByteArray document = replaced(EXAMPLE, QByteArrayLiteral("weight: 1}"), QByteArrayLiteral("weight: 0}"));
    const ConfigError error = expectError(document);
    const int column = columnOf(document, QByteArrayLiteral("weight: 0}")) + 8;
    QCOMPARE(error.toString(), QStringLiteral("policy.yaml:26:%1: routes[0].targets[1].weight: must be greater than 0")
                                   .arg(column));

    ConfigError plain;
    plain.source = QStringLiteral("<admin api>");
    plain.message = QStringLiteral("cannot apply");
    QCOMPARE(plain.toString(), QStringLiteral("<admin api>: cannot apply"));
    plain.line = 4;
    plain.field = QStringLiteral("routes");
    QCOMPARE(plain.toString(), QStringLiteral("<admin api>:4: routes: cannot apply"));
    ConfigError bare;
    bare.message = QStringLiteral("oops");
    QCOMPARE(bare.toString(), QStringLiteral("oops"));
}

namespace {

// The example with both targets of `chat` capped (chat-cloud shares openai/gpt-4o-mini,
// so it states the same cap) and an admission section.
QByteArray withAdmission(const QByteArray &admission = {})
{
    QByteArray document = replaced(EXAMPLE, QByteArrayLiteral("weight: 3}"), QByteArrayLiteral("weight: 3, max_concurrency: 2}"));
    document = replaced(document, QByteArrayLiteral("weight: 1}"), QByteArrayLiteral("weight: 1, max_concurrency: 4}"));
    document = replaced(document, QByteArrayLiteral("      - {provider: openai, model: gpt-4o-mini}\n"),
                        QByteArrayLiteral("      - {provider: openai, model: gpt-4o-mini, max_concurrency: 4}\n"));
    return replaced(document, QByteArrayLiteral("routes:\n"), admission + "routes:\n");
}

} // namespace

void TestPolicyLoader::admissionKeysAreRead()
{
    const QByteArray document = replaced(withAdmission(QByteArrayLiteral("admission:\n"
                                                                         "  max_queued: 64\n"
                                                                         "  classes:\n"
                                                                         "    interactive: {ttft_objective_ms: 1500}\n"
                                                                         "    batch: {ttft_objective_ms: 30000, max_queue_wait_ms: 45000, weight: 2.5}\n")),
                                         QByteArrayLiteral("routes: [chat]}"), QByteArrayLiteral("routes: [chat], priority: Batch}"));
    const auto policy = parsePolicy(document, SOURCE, envFrom(defaultEnv()));
    QVERIFY2(policy.hasValue(), policy.hasValue() ? "" : qPrintable(policy.error().toString()));
    QCOMPARE(policy->routes[0].targets[0].maxConcurrency, 2);
    QCOMPARE(policy->routes[0].targets[1].maxConcurrency, 4);
    QCOMPARE(policy->routes[1].targets[0].maxConcurrency, 4);
    QCOMPARE(policy->admission.maxQueued, 64);
    const auto &classes = policy->admission.classes;
    using Gateway::Admission::classIndex;
    using Gateway::Admission::PriorityClass;
    // Set keys are read, unset ones keep the queue's own defaults.
    QCOMPARE(classes[classIndex(PriorityClass::Interactive)].ttftObjectiveMs, qint64 {1500});
    QCOMPARE(classes[classIndex(PriorityClass::Interactive)].maxQueueWaitMs, qint64 {4000});
    QCOMPARE(classes[classIndex(PriorityClass::Standard)].ttftObjectiveMs, qint64 {10000});
    QCOMPARE(classes[classIndex(PriorityClass::Batch)].ttftObjectiveMs, qint64 {30000});
    QCOMPARE(classes[classIndex(PriorityClass::Batch)].maxQueueWaitMs, qint64 {45000});
    QCOMPARE(classes[classIndex(PriorityClass::Batch)].weight, 2.5);
    // Class names are read case-insensitively, as the x-priority header is.
    QVERIFY(policy->virtualKeys[0].priority == PriorityClass::Batch);
}

void TestPolicyLoader::admissionDefaultsApplyWhenUnset()
{
    const auto policy = parsePolicy(EXAMPLE, SOURCE, envFrom(defaultEnv()));
    QVERIFY(policy.hasValue());
    QVERIFY(policy->admission == Gateway::Config::AdmissionPolicy {});
    QCOMPARE(policy->admission.maxQueued, 1024);
    const auto &interactive = policy->admission.classes[Gateway::Admission::classIndex(Gateway::Admission::PriorityClass::Interactive)];
    QCOMPARE(interactive.ttftObjectiveMs, qint64 {2000});
    QCOMPARE(interactive.maxQueueWaitMs, qint64 {4000});
    QCOMPARE(interactive.weight, 1.0);
    QCOMPARE(policy->routes[0].targets[0].maxConcurrency, 0);
    QVERIFY(policy->virtualKeys[0].priority == Gateway::Admission::PriorityClass::Standard);
}

void TestPolicyLoader::admissionErrorsNameTheField_data()
{
    QTest::addColumn<QByteArray>("document");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("message");
    const QByteArray capped = withAdmission();
    QTest::newRow("negative cap") << replaced(capped, QByteArrayLiteral("weight: 1, max_concurrency: 4}"),
                                              QByteArrayLiteral("weight: 1, max_concurrency: -1}"))
                                  << QStringLiteral("routes[0].targets[1].max_concurrency")
                                  << QStringLiteral("must be between 0 and 100000");
    QTest::newRow("cap not a number") << replaced(capped, QByteArrayLiteral("weight: 3, max_concurrency: 2}"),
                                                  QByteArrayLiteral("weight: 3, max_concurrency: many}"))
                                      << QStringLiteral("routes[0].targets[0].max_concurrency")
                                      << QStringLiteral("expected an integer");
    QTest::newRow("one target uncapped")
        << replaced(capped, QByteArrayLiteral("weight: 1, max_concurrency: 4}"), QByteArrayLiteral("weight: 1}"))
        << QStringLiteral("routes[0].targets[1].max_concurrency")
        << QStringLiteral("every target of a route needs a cap once one has (targets[0] has 2)");
    QTest::newRow("one server, two caps")
        << replaced(capped, QByteArrayLiteral("gpt-4o-mini, max_concurrency: 4}\n"), QByteArrayLiteral("gpt-4o-mini, max_concurrency: 3}\n"))
        << QStringLiteral("routes[1].targets[0].max_concurrency")
        << QStringLiteral("3 differs from routes[0].targets[1].max_concurrency (4) for the same server openai/gpt-4o-mini");
    QTest::newRow("one server, capped and not")
        << replaced(capped, QByteArrayLiteral("gpt-4o-mini, max_concurrency: 4}\n"), QByteArrayLiteral("gpt-4o-mini}\n"))
        << QStringLiteral("routes[1].targets[0].max_concurrency") << QStringLiteral("0 differs from routes[0].targets[1]");
    QTest::newRow("unknown admission key") << withAdmission(QByteArrayLiteral("admission: {slots: 4}\n"))
                                           << QStringLiteral("admission.slots") << QStringLiteral("unknown key 'slots'");
    QTest::newRow("max_queued zero") << withAdmission(QByteArrayLiteral("admission: {max_queued: 0}\n"))
                                     << QStringLiteral("admission.max_queued") << QStringLiteral("must be between 1 and");
    QTest::newRow("unknown class") << withAdmission(QByteArrayLiteral("admission:\n  classes: {urgent: {weight: 1}}\n"))
                                   << QStringLiteral("admission.classes.urgent") << QStringLiteral("unknown key 'urgent'");
    QTest::newRow("unknown class key")
        << withAdmission(QByteArrayLiteral("admission:\n  classes: {batch: {deadline_ms: 5}}\n"))
        << QStringLiteral("admission.classes.batch.deadline_ms") << QStringLiteral("unknown key 'deadline_ms'");
    QTest::newRow("zero objective")
        << withAdmission(QByteArrayLiteral("admission:\n  classes: {batch: {ttft_objective_ms: 0}}\n"))
        << QStringLiteral("admission.classes.batch.ttft_objective_ms") << QStringLiteral("must be between 1 and");
    QTest::newRow("zero max wait")
        << withAdmission(QByteArrayLiteral("admission:\n  classes: {interactive: {max_queue_wait_ms: 0}}\n"))
        << QStringLiteral("admission.classes.interactive.max_queue_wait_ms") << QStringLiteral("must be between 1 and");
    QTest::newRow("zero weight")
        << withAdmission(QByteArrayLiteral("admission:\n  classes: {standard: {weight: 0}}\n"))
        << QStringLiteral("admission.classes.standard.weight") << QStringLiteral("must be greater than 0");
    QTest::newRow("unknown key priority")
        << replaced(EXAMPLE, QByteArrayLiteral("routes: [chat]}"), QByteArrayLiteral("routes: [chat], priority: urgent}"))
        << QStringLiteral("virtual_keys[0].priority")
        << QStringLiteral("unknown priority 'urgent' (allowed: interactive, standard, batch)");
}

void TestPolicyLoader::admissionErrorsNameTheField()
{
    QFETCH(QByteArray, document);
    QFETCH(QString, field);
    QFETCH(QString, message);
    const ConfigError error = expectError(document);
    QCOMPARE(error.field, field);
    QVERIFY2(error.message.contains(message), qPrintable(error.message));
    QVERIFY(error.line > 0);
}

QTEST_APPLESS_MAIN(TestPolicyLoader)
#include "testpolicyloader.moc"
