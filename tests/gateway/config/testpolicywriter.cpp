#include "config/policyloader.h"
#include "config/policywriter.h"
#include "config/secretmerge.h"

#include <QCryptographicHash>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <optional>

using Gateway::Config::ConfigError;
using Gateway::Config::parsePolicy;
using Gateway::Config::Policy;
using Gateway::Config::Provider;
using Gateway::Config::ProviderKey;
using Gateway::Config::ProviderType;
using Gateway::Config::resolveRedactedSecrets;
using Gateway::Config::Route;
using Gateway::Config::SecretRendering;
using Gateway::Config::Target;
using Gateway::Config::toJson;
using Gateway::Config::toYaml;
using Gateway::Config::VirtualKey;

namespace {

// Documents written by toYaml/toJson hold no ${...}, so nothing may need the environment.
std::optional<QByteArray> noEnvironment(const QString &)
{
    return std::nullopt;
}

Policy parse(const QByteArray &document)
{
    const auto parsed = parsePolicy(document, QStringLiteral("written.yaml"), noEnvironment);
    if (!parsed) {
        qFatal("document does not parse: %s\n%s", qPrintable(parsed.error().toString()), document.constData());
    }
    return parsed.value();
}

Policy completePolicy()
{
    QFile file {QStringLiteral(CONFIG_TEST_DATA_DIR "/policy-complete.yaml")};
    if (!file.open(QIODevice::ReadOnly)) {
        qFatal("cannot read policy-complete.yaml");
    }
    return parse(file.readAll());
}

const QList<QByteArray> COMPLETE_SECRETS {
    "admin-token-secret-1",   "sk-openai-primary-secret", "sk-openai-backup-secret", "azure-east-secret",
    "sk-ant-secret",          "sy-team-a-plaintext-key",
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", // a digest is kept from view as well
};

Policy smallPolicy()
{
    Policy policy;
    Provider provider;
    provider.name = QStringLiteral("openai");
    provider.type = ProviderType::OpenAi;
    provider.baseUrl = "https://api.openai.com/v1";
    provider.keys.push_back(ProviderKey {QStringLiteral("primary"), "sk-1", 5, 0});
    policy.providers.push_back(provider);
    Route route;
    route.model = "chat";
    route.targets.push_back(Target {QStringLiteral("openai"), "gpt-4o-mini", 1.0});
    policy.routes.push_back(route);
    policy.virtualKeys.push_back(VirtualKey {QStringLiteral("team-a"), "sy-key-0123456789", {}, {QStringLiteral("chat")}});
    return policy;
}

} // namespace

class TestPolicyWriter final : public QObject {
    Q_OBJECT

private slots:
    void yamlRoundTripIsLossless() const
    {
        const Policy policy = completePolicy();
        QCOMPARE(policy.gateway.listenHost, QStringLiteral("::1"));
        QCOMPARE(policy.providers.size(), std::size_t {9});
        const QByteArray yaml = toYaml(policy, SecretRendering::Included);
        const Policy reparsed = parse(yaml);
        QVERIFY(reparsed == policy);
        QCOMPARE(toYaml(reparsed, SecretRendering::Included), yaml);
        QVERIFY(yaml.contains("listen: \"[::1]:9000\"\n"));
        QVERIFY(yaml.contains("key_sha256: \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\""));
        QVERIFY(!yaml.contains("${"));
        // Conditional routing survives too: every condition, both actions, the split.
        const auto &chat = policy.routes[0];
        QCOMPARE(chat.rules.size(), std::size_t {2});
        QCOMPARE(chat.rules[0].name, QStringLiteral("vision"));
        QCOMPARE(chat.rules[0].action.route, QByteArrayLiteral("chat-cloud"));
        QVERIFY(chat.rules[1].name.isEmpty());
        QCOMPARE(chat.rules[1].when.hasTools, std::optional<bool> {false});
        QCOMPARE(chat.rules[1].when.headers.size(), std::size_t {2});
        QCOMPARE(chat.rules[1].action.targets.size(), 2);
        QCOMPARE(chat.split.sticky, QStringLiteral("user"));
        QCOMPARE(chat.split.arms.size(), std::size_t {2});
        QCOMPARE(chat.split.arms[1].share, 0.1);
        QVERIFY2(yaml.contains("    rules:\n      - name: vision\n        when: {has_images: true}\n        route: chat-cloud\n"),
                 yaml.constData());
        QVERIFY(yaml.contains("    split:\n      sticky: user\n      arms:\n"
                              "        - {name: control, share: 0.9, route: chat-last}\n"
                              "        - {name: canary, share: 0.1, targets: [openai/gpt-4o-mini]}\n"));
    }

    void jsonRoundTripIsLossless() const
    {
        const Policy policy = completePolicy();
        const QByteArray json = toJson(policy, SecretRendering::Included);
        QJsonParseError error;
        const QJsonDocument document = QJsonDocument::fromJson(json, &error);
        QCOMPARE(error.error, QJsonParseError::NoError);
        QVERIFY(document.isObject());
        QCOMPARE(document.object().keys(),
                 (QStringList {QStringLiteral("gateway"), QStringLiteral("providers"), QStringLiteral("request_log"),
                               QStringLiteral("routes"), QStringLiteral("routing"), QStringLiteral("virtual_keys")}));
        QCOMPARE(document.object().value(QStringLiteral("routes")).toArray().at(0).toObject().value(
                     QStringLiteral("targets")).toArray().at(1).toObject().value(QStringLiteral("weight")).toDouble(),
                 0.25);
        // JSON is YAML 1.2: the loader reads it as is.
        const Policy reparsed = parse(json);
        QVERIFY(reparsed == policy);
        QCOMPARE(toJson(reparsed, SecretRendering::Included), json);
    }

    void yamlAndJsonHaveTheSameKeysInDocumentedOrder() const
    {
        const QByteArray yaml = toYaml(smallPolicy(), SecretRendering::Included);
        QCOMPARE(yaml,
                 QByteArray("gateway:\n"
                            "  listen: \"127.0.0.1:8420\"\n"
                            "  threads: 0\n"
                            "  admin_token: \"\"\n"
                            "  max_body_bytes: 33554432\n"
                            "  header_timeout_ms: 10000\n"
                            "  body_timeout_ms: 60000\n"
                            "  idle_timeout_ms: 60000\n"
                            "  max_connections: 10000\n"
                            "  drain_timeout_ms: 10000\n"
                            "  admin_allow_remote: false\n"
                            "  tls_cert_file: \"\"\n"
                            "  tls_key_file: \"\"\n"
                            "request_log:\n"
                            "  enabled: true\n"
                            "  retention_days: 30\n"
                            "  max_rows: 1000000\n"
                            "routing:\n"
                            "  retry_budget: 0.2\n"
                            "  retry_min_concurrency: 3\n"
                            "  session_key_sources: [x-session-id, x-conversation-id, mcp-session-id, user, metadata.user_id]\n"
                            "  metrics_interval_ms: 250\n"
                            "  health:\n"
                            "    window_ms: 10000\n"
                            "    min_requests: 10\n"
                            "    degraded_error_rate: 0.2\n"
                            "    failed_error_rate: 0.5\n"
                            "    consecutive_failures: 5\n"
                            "    open_ms: 5000\n"
                            "    max_open_ms: 60000\n"
                            "    half_open_probes: 1\n"
                            "    half_open_successes: 3\n"
                            "    slow_start_ms: 10000\n"
                            "    latency_outlier_factor: 3\n"
                            "providers:\n"
                            "  - name: openai\n"
                            "    type: openai\n"
                            "    base_url: https://api.openai.com/v1\n"
                            "    metrics_url: \"\"\n"
                            "    api_version: \"\"\n"
                            "    keys:\n"
                            "      - {name: primary, secret: sk-1, rpm: 5, tpm: 0}\n"
                            "    headers: {}\n"
                            "    timeouts: {connect_ms: 2000, first_token_ms: 30000, idle_ms: 60000}\n"
                            "routes:\n"
                            "  - model: chat\n"
                            "    strategy: weighted\n"
                            "    retry: {attempts: 3, on: [connect_error, timeout, rate_limited, server_error, context_length]}\n"
                            "    hedge: {enabled: false, percentile: 0.95, min_delay_ms: 10, budget: 0.05}\n"
                            "    stream_resumption: false\n"
                            "    targets:\n"
                            "      - {provider: openai, model: gpt-4o-mini, weight: 1}\n"
                            "    fallbacks: []\n"
                            "virtual_keys:\n"
                            "  - {name: team-a, key: sy-key-0123456789, routes: [chat]}\n"));
        const QByteArray json = toJson(smallPolicy(), SecretRendering::Included);
        QCOMPARE(json,
                 QByteArray("{\n"
                            "  \"gateway\": {\n"
                            "    \"listen\": \"127.0.0.1:8420\",\n"
                            "    \"threads\": 0,\n"
                            "    \"admin_token\": \"\",\n"
                            "    \"max_body_bytes\": 33554432,\n"
                            "    \"header_timeout_ms\": 10000,\n"
                            "    \"body_timeout_ms\": 60000,\n"
                            "    \"idle_timeout_ms\": 60000,\n"
                            "    \"max_connections\": 10000,\n"
                            "    \"drain_timeout_ms\": 10000,\n"
                            "    \"admin_allow_remote\": false,\n"
                            "    \"tls_cert_file\": \"\",\n"
                            "    \"tls_key_file\": \"\"\n"
                            "  },\n"
                            "  \"request_log\": {\n"
                            "    \"enabled\": true,\n"
                            "    \"retention_days\": 30,\n"
                            "    \"max_rows\": 1000000\n"
                            "  },\n"
                            "  \"routing\": {\n"
                            "    \"retry_budget\": 0.2,\n"
                            "    \"retry_min_concurrency\": 3,\n"
                            "    \"session_key_sources\": [\"x-session-id\", \"x-conversation-id\", \"mcp-session-id\", \"user\", \"metadata.user_id\"],\n"
                            "    \"metrics_interval_ms\": 250,\n"
                            "    \"health\": {\n"
                            "      \"window_ms\": 10000,\n"
                            "      \"min_requests\": 10,\n"
                            "      \"degraded_error_rate\": 0.2,\n"
                            "      \"failed_error_rate\": 0.5,\n"
                            "      \"consecutive_failures\": 5,\n"
                            "      \"open_ms\": 5000,\n"
                            "      \"max_open_ms\": 60000,\n"
                            "      \"half_open_probes\": 1,\n"
                            "      \"half_open_successes\": 3,\n"
                            "      \"slow_start_ms\": 10000,\n"
                            "      \"latency_outlier_factor\": 3\n"
                            "    }\n"
                            "  },\n"
                            "  \"providers\": [\n"
                            "    {\n"
                            "      \"name\": \"openai\",\n"
                            "      \"type\": \"openai\",\n"
                            "      \"base_url\": \"https://api.openai.com/v1\",\n"
                            "      \"metrics_url\": \"\",\n"
                            "      \"api_version\": \"\",\n"
                            "      \"keys\": [\n"
                            "        {\"name\": \"primary\", \"secret\": \"sk-1\", \"rpm\": 5, \"tpm\": 0}\n"
                            "      ],\n"
                            "      \"headers\": {},\n"
                            "      \"timeouts\": {\"connect_ms\": 2000, \"first_token_ms\": 30000, \"idle_ms\": 60000}\n"
                            "    }\n"
                            "  ],\n"
                            "  \"routes\": [\n"
                            "    {\n"
                            "      \"model\": \"chat\",\n"
                            "      \"strategy\": \"weighted\",\n"
                            "      \"retry\": {\"attempts\": 3, \"on\": [\"connect_error\", \"timeout\", \"rate_limited\", \"server_error\", \"context_length\"]},\n"
                            "      \"hedge\": {\"enabled\": false, \"percentile\": 0.95, \"min_delay_ms\": 10, \"budget\": 0.05},\n"
                            "      \"stream_resumption\": false,\n"
                            "      \"targets\": [\n"
                            "        {\"provider\": \"openai\", \"model\": \"gpt-4o-mini\", \"weight\": 1}\n"
                            "      ],\n"
                            "      \"fallbacks\": []\n"
                            "    }\n"
                            "  ],\n"
                            "  \"virtual_keys\": [\n"
                            "    {\"name\": \"team-a\", \"key\": \"sy-key-0123456789\", \"routes\": [\"chat\"]}\n"
                            "  ]\n"
                            "}\n"));
    }

    void redactedRenderingHidesEverySecret_data() const
    {
        QTest::addColumn<bool>("json");
        QTest::newRow("yaml") << false;
        QTest::newRow("json") << true;
    }

    void redactedRenderingHidesEverySecret() const
    {
        QFETCH(bool, json);
        const Policy policy = completePolicy();
        const QByteArray document =
            json ? toJson(policy, SecretRendering::Redacted) : toYaml(policy, SecretRendering::Redacted);
        for (const QByteArray &secret : COMPLETE_SECRETS) {
            QVERIFY2(!document.contains(secret), secret.constData());
        }
        QVERIFY(!document.contains("key_sha256"));
        // admin_token, four non-empty provider secrets, two virtual keys; the empty secret stays empty.
        QCOMPARE(document.count("\"***\""), 7);
        const Policy redacted = parse(document);
        QCOMPARE(redacted.gateway.adminToken, QByteArrayLiteral("***"));
        QCOMPARE(redacted.providers[3].keys[0].secret, QByteArray());
        QCOMPARE(redacted.virtualKeys[1].key, QByteArrayLiteral("***"));
        QVERIFY(redacted.virtualKeys[1].keySha256.isEmpty());
    }

    void getThenPutUnchangedIsANoOp_data() const
    {
        QTest::addColumn<bool>("json");
        QTest::newRow("yaml") << false;
        QTest::newRow("json") << true;
    }

    void getThenPutUnchangedIsANoOp() const
    {
        QFETCH(bool, json);
        const Policy stored = completePolicy();
        const QByteArray fetched =
            json ? toJson(stored, SecretRendering::Redacted) : toYaml(stored, SecretRendering::Redacted);
        const auto resolved = resolveRedactedSecrets(parse(fetched), stored);
        QVERIFY2(resolved, qPrintable(resolved ? QString() : resolved.error().toString()));
        QVERIFY(resolved.value() == stored);
    }

    void awkwardStringsSurviveTheRoundTrip_data() const
    {
        QTest::addColumn<QString>("text");
        const char *const texts[] = {
            "a: b", "#x", "true", "false", "null", "~", "yes", "no", "on", "- x", "'single'", "\"double\"", "[x]",
            "{x}", "x #y", "x,y", "123", "-1", "1.5", "1e3", ".inf", "0x1F", "2024-10-21", "12:30", "@at", "`tick",
            "%pct", "!bang", "&anchor", "*star", "|pipe", ">fold", "?q", " leading", "trailing ", "tab\tinside",
            "back\\slash", "\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", "***", "a\x01" "b",
        };
        for (const char *text : texts) {
            QTest::newRow(text) << QString::fromUtf8(text);
        }
    }

    void awkwardStringsSurviveTheRoundTrip() const
    {
        QFETCH(QString, text);
        const QByteArray bytes = text.toUtf8();
        Policy policy = smallPolicy();
        policy.gateway.adminToken = bytes;
        Provider &provider = policy.providers[0];
        provider.name = text;
        provider.apiVersion = bytes;
        provider.keys[0].name = text;
        provider.keys[0].secret = bytes;
        provider.headers.emplace_back("x-awkward", bytes);
        Route &route = policy.routes[0];
        route.model = bytes;
        route.targets[0].provider = text;
        route.targets[0].model = bytes;
        Route second;
        second.model = "second";
        second.targets.push_back(Target {text, bytes, 2.5});
        second.fallbacks << text;
        policy.routes.push_back(second);
        VirtualKey &key = policy.virtualKeys[0];
        key.name = text;
        key.key = bytes + "-long-enough";
        key.routes = QStringList {text, QStringLiteral("second")};

        QVERIFY(parse(toYaml(policy, SecretRendering::Included)) == policy);
        QVERIFY(parse(toJson(policy, SecretRendering::Included)) == policy);
    }

    void emptyStringsSurviveTheRoundTrip() const
    {
        Policy policy = smallPolicy();
        policy.providers[0].keys[0].name.clear();
        policy.providers[0].keys[0].secret.clear();
        policy.providers[0].headers.emplace_back("x-empty", QByteArray());
        policy.providers[0].apiVersion.clear();
        QVERIFY(parse(toYaml(policy, SecretRendering::Included)) == policy);
        QVERIFY(parse(toJson(policy, SecretRendering::Included)) == policy);
    }

    void emptyPolicyIsWrittenWithEveryDefault() const
    {
        const QByteArray yaml = toYaml(Policy {}, SecretRendering::Redacted);
        QVERIFY(yaml.contains("providers: []\nroutes: []\nvirtual_keys: []\n"));
        QVERIFY(parse(yaml) == Policy {});
        QVERIFY(parse(toJson(Policy {}, SecretRendering::Redacted)) == Policy {});
    }

    void admissionKeysSurviveTheRoundTrip_data() const
    {
        QTest::addColumn<bool>("json");
        QTest::newRow("yaml") << false;
        QTest::newRow("json") << true;
    }

    void admissionKeysSurviveTheRoundTrip() const
    {
        QFETCH(bool, json);
        using Gateway::Admission::classIndex;
        using Gateway::Admission::PriorityClass;
        Policy policy = smallPolicy();
        policy.routes[0].targets[0].maxConcurrency = 3;
        policy.admission.maxQueued = 64;
        policy.admission.classes[classIndex(PriorityClass::Interactive)].ttftObjectiveMs = 1500;
        policy.admission.classes[classIndex(PriorityClass::Batch)].weight = 0.5;
        policy.virtualKeys[0].priority = PriorityClass::Interactive;
        const QByteArray document = json ? toJson(policy, SecretRendering::Included) : toYaml(policy, SecretRendering::Included);
        const Policy reparsed = parse(document);
        QVERIFY(reparsed == policy);
        QCOMPARE(json ? toJson(reparsed, SecretRendering::Included) : toYaml(reparsed, SecretRendering::Included), document);
        if (!json) {
            // Every class is written once anything in the section differs from the defaults.
            QVERIFY2(document.contains("admission:\n"
                                       "  max_queued: 64\n"
                                       "  classes:\n"
                                       "    interactive: {ttft_objective_ms: 1500, max_queue_wait_ms: 4000, weight: 1}\n"
                                       "    standard: {ttft_objective_ms: 10000, max_queue_wait_ms: 20000, weight: 1}\n"
                                       "    batch: {ttft_objective_ms: 60000, max_queue_wait_ms: 120000, weight: 0.5}\n"
                                       "providers:\n"),
                     document.constData());
            QVERIFY2(document.contains("      - {provider: openai, model: gpt-4o-mini, weight: 1, max_concurrency: 3}\n"),
                     document.constData());
            QVERIFY2(document.contains("  - {name: team-a, key: sy-key-0123456789, routes: [chat], priority: interactive}\n"),
                     document.constData());
        }
        // GET -> PUT of the redacted document keeps every admission setting.
        const QByteArray fetched = json ? toJson(policy, SecretRendering::Redacted) : toYaml(policy, SecretRendering::Redacted);
        const auto resolved = resolveRedactedSecrets(parse(fetched), policy);
        QVERIFY2(resolved, qPrintable(resolved ? QString() : resolved.error().toString()));
        QVERIFY(resolved.value() == policy);
    }

    void prefillDecodePoolsSurviveTheRoundTrip_data() const
    {
        QTest::addColumn<bool>("json");
        QTest::newRow("yaml") << false;
        QTest::newRow("json") << true;
    }

    void prefillDecodePoolsSurviveTheRoundTrip() const
    {
        QFETCH(bool, json);
        using Gateway::Routing::TargetPool;
        Policy policy = smallPolicy();
        Provider gpu;
        gpu.name = QStringLiteral("gpu");
        gpu.type = ProviderType::Vllm;
        gpu.baseUrl = "http://10.0.0.1:8000/v1";
        policy.providers.push_back(gpu);
        Route route;
        route.model = "llama";
        route.strategy = QStringLiteral("prefix_aware");
        route.targets.push_back(Target {QStringLiteral("gpu"), "llama-p", 1.0});
        route.targets.back().pool = TargetPool::Prefill;
        route.targets.push_back(Target {QStringLiteral("gpu"), "llama-d", 1.0});
        route.targets.back().pool = TargetPool::Decode;
        route.targets.push_back(Target {QStringLiteral("gpu"), "llama-any", 1.0});
        route.pd.uncachedTokensThreshold = 256;
        route.pd.enabled = false;
        route.pd.maxPrefillWorkRatio = 0.5;
        policy.routes.push_back(route);
        const QByteArray document = json ? toJson(policy, SecretRendering::Included) : toYaml(policy, SecretRendering::Included);
        const Policy reparsed = parse(document);
        QVERIFY(reparsed == policy);
        QCOMPARE(json ? toJson(reparsed, SecretRendering::Included) : toYaml(reparsed, SecretRendering::Included), document);
        if (!json) {
            QVERIFY2(document.contains("    pd: {uncached_tokens_threshold: 256, enabled: false, max_prefill_work_ratio: 0.5}\n"), document.constData());
            QVERIFY2(document.contains("      - {provider: gpu, model: llama-p, weight: 1, pool: prefill}\n"), document.constData());
            QVERIFY2(document.contains("      - {provider: gpu, model: llama-d, weight: 1, pool: decode}\n"), document.constData());
            QVERIFY2(document.contains("      - {provider: gpu, model: llama-any, weight: 1}\n"), document.constData());
            // Routes without a prefill pool render no pd section.
            QCOMPARE(document.count("pd: "), 1);
        }
        // The defaults are written too, and read back as the defaults.
        policy.routes.back().pd = {};
        const Policy defaults = parse(toYaml(policy, SecretRendering::Included));
        QVERIFY(defaults == policy);
        QCOMPARE(defaults.routes.back().pd.uncachedTokensThreshold, 16);
    }

    void prefixAwareOptionsSurviveTheRoundTrip_data() const
    {
        QTest::addColumn<bool>("json");
        QTest::newRow("yaml") << false;
        QTest::newRow("json") << true;
    }

    void prefixAwareOptionsSurviveTheRoundTrip() const
    {
        QFETCH(bool, json);
        Policy policy = smallPolicy();
        Route &route = policy.routes.front();
        route.strategy = QStringLiteral("prefix_aware");
        route.options.gpu.backlogWeight = 8.0;
        route.options.gpu.kvMissBoost = 7.0;
        route.options.gpu.kvMissStart = 0.6;
        route.options.gpu.kvMissMinMatch = 0.25;
        route.options.gpu.idleMissWeight = 3.0;
        route.options.gpu.engineQueueFadeMs = 0.0;
        route.options.gpu.prefillProgressWeight = 0.5;
        route.options.gpu.widelyHeldShare = 0.25;
        route.options.gpu.replicaPlacementSlack = 0.5;
        const QByteArray document = json ? toJson(policy, SecretRendering::Included) : toYaml(policy, SecretRendering::Included);
        const Policy reparsed = parse(document);
        QVERIFY(reparsed == policy);
        QCOMPARE(reparsed.routes.front().options.gpu.kvMissBoost, std::optional<double> {7.0});
        QCOMPARE(reparsed.routes.front().options.gpu.kvMissStart, std::optional<double> {0.6});
        QCOMPARE(reparsed.routes.front().options.gpu.kvMissMinMatch, std::optional<double> {0.25});
        QCOMPARE(reparsed.routes.front().options.gpu.idleMissWeight, std::optional<double> {3.0});
        QCOMPARE(reparsed.routes.front().options.gpu.engineQueueFadeMs, std::optional<double> {0.0});
        QCOMPARE(reparsed.routes.front().options.gpu.prefillProgressWeight, std::optional<double> {0.5});
        QCOMPARE(reparsed.routes.front().options.gpu.widelyHeldShare, std::optional<double> {0.25});
        QCOMPARE(reparsed.routes.front().options.gpu.replicaPlacementSlack, std::optional<double> {0.5});
        QCOMPARE(json ? toJson(reparsed, SecretRendering::Included) : toYaml(reparsed, SecretRendering::Included), document);
    }

    void defaultAdmissionIsNotWritten() const
    {
        // An explicit section equal to the defaults reads back as the defaults, and a
        // document without admission control renders none of its keys.
        Policy policy = smallPolicy();
        const QByteArray explicitDefaults = toYaml(policy, SecretRendering::Included)
                                                .replace("providers:\n", "admission:\n  max_queued: 1024\n  classes:\n"
                                                                         "    standard: {ttft_objective_ms: 10000}\n"
                                                                         "providers:\n");
        const Policy reparsed = parse(explicitDefaults);
        QVERIFY(reparsed == policy);
        const QByteArray yaml = toYaml(reparsed, SecretRendering::Included);
        QVERIFY(!yaml.contains("admission"));
        QVERIFY(!yaml.contains("max_concurrency"));
        QVERIFY(!yaml.contains("priority"));
    }

    void virtualKeyDigestsLoad_data() const
    {
        QTest::addColumn<QByteArray>("entries");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("message");
        const QByteArray digest = QCryptographicHash::hash("sy-plaintext-key", QCryptographicHash::Sha256).toHex();
        QTest::newRow("digest") << QByteArray("  - {name: a, key_sha256: " + digest.toUpper() + "}\n") << QString()
                                << QString();
        QTest::newRow("placeholder") << QByteArray("  - {name: a, key: \"***\"}\n  - {name: b, key: \"***\"}\n")
                                     << QString() << QString();
        QTest::newRow("both") << QByteArray("  - {name: a, key: sy-plaintext-key, key_sha256: " + digest + "}\n")
                              << QStringLiteral("virtual_keys[0].key_sha256")
                              << QStringLiteral("give either key or key_sha256, not both");
        QTest::newRow("neither") << QByteArray("  - {name: a}\n") << QStringLiteral("virtual_keys[0].key")
                                 << QStringLiteral("required field is missing");
        QTest::newRow("not hex") << QByteArray("  - {name: a, key_sha256: " + digest.left(63) + "z}\n")
                                 << QStringLiteral("virtual_keys[0].key_sha256")
                                 << QStringLiteral("must be 64 hexadecimal characters (a SHA-256 digest)");
        QTest::newRow("short digest") << QByteArray("  - {name: a, key_sha256: abc}\n")
                                      << QStringLiteral("virtual_keys[0].key_sha256")
                                      << QStringLiteral("must be 64 hexadecimal characters (a SHA-256 digest)");
        QTest::newRow("short key") << QByteArray("  - {name: a, key: \"**\"}\n") << QStringLiteral("virtual_keys[0].key")
                                   << QStringLiteral("must be at least 8 characters");
        QTest::newRow("same key as digest")
            << QByteArray("  - {name: a, key: sy-plaintext-key}\n  - {name: b, key_sha256: " + digest + "}\n")
            << QStringLiteral("virtual_keys[1].key_sha256") << QStringLiteral("the same key value is used twice");
        QTest::newRow("same plaintext")
            << QByteArray("  - {name: a, key: sy-plaintext-key}\n  - {name: b, key: sy-plaintext-key}\n")
            << QStringLiteral("virtual_keys[1].key") << QStringLiteral("the same key value is used twice");
    }

    void virtualKeyDigestsLoad() const
    {
        QFETCH(QByteArray, entries);
        QFETCH(QString, field);
        QFETCH(QString, message);
        const auto parsed = parsePolicy("virtual_keys:\n" + entries, QStringLiteral("policy.yaml"), noEnvironment);
        if (message.isEmpty()) {
            QVERIFY2(parsed, qPrintable(parsed ? QString() : parsed.error().toString()));
            if (parsed->virtualKeys[0].key.isEmpty()) {
                QCOMPARE(parsed->virtualKeys[0].keySha256,
                         QCryptographicHash::hash("sy-plaintext-key", QCryptographicHash::Sha256).toHex());
            }
            return;
        }
        QVERIFY(!parsed);
        QCOMPARE(parsed.error().field, field);
        QCOMPARE(parsed.error().message, message);
    }
};

QTEST_APPLESS_MAIN(TestPolicyWriter)
#include "testpolicywriter.moc"
