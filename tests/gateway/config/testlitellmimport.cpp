#include "config/litellmimport.h"
#include "config/policyloader.h"
#include "config/policywriter.h"

#include <QFile>
#include <QTest>

using Gateway::Config::importLiteLlmConfig;
using Gateway::Config::LiteLlmImport;
using Gateway::Config::parsePolicy;
using Gateway::Config::Policy;
using Gateway::Config::ProviderType;
using Gateway::Config::SecretRendering;
using Gateway::Config::toYaml;

namespace {

QByteArray readData(const QString &name)
{
    QFile file {QStringLiteral(CONFIG_TEST_DATA_DIR "/") + name};
    if (!file.open(QIODevice::ReadOnly)) {
        qFatal("cannot read test data %s", qPrintable(name));
    }
    return file.readAll();
}

LiteLlmImport importData(const QString &name)
{
    const auto result = importLiteLlmConfig(readData(name), name);
    if (!result) {
        qFatal("import of %s failed: %s", qPrintable(name), qPrintable(result.error().toString()));
    }
    return result.value();
}

// The expected policies keep ${VAR} references literally, as the import does.
Policy parseKeepingReferences(const QByteArray &yaml)
{
    const auto parsed = parsePolicy(yaml, QStringLiteral("expected.yaml"), [](const QString &name) {
        return std::optional<QByteArray> {"${" + name.toUtf8() + '}'};
    });
    if (!parsed) {
        qFatal("expected policy does not parse: %s", qPrintable(parsed.error().toString()));
    }
    return parsed.value();
}

QStringList lines(std::initializer_list<const char *> texts)
{
    QStringList list;
    for (const char *text : texts) {
        list << QString::fromUtf8(text);
    }
    return list;
}

} // namespace

class TestLiteLlmImport final : public QObject {
    Q_OBJECT

private slots:
    void openAiAndAzureDeploymentsOfOneModel() const
    {
        const LiteLlmImport result = importData(QStringLiteral("litellm-openai-azure.yaml"));
        const QByteArray expected = readData(QStringLiteral("litellm-openai-azure.policy.yaml"));
        QCOMPARE(toYaml(result.policy, SecretRendering::Included), expected);
        QVERIFY(result.policy == parseKeepingReferences(expected));

        const auto &route = result.policy.routes.front();
        QCOMPARE(route.model, QByteArrayLiteral("gpt-4o"));
        QCOMPARE(route.targets.size(), std::size_t {3});
        QCOMPARE(route.targets[2].weight, 1.5);
        QCOMPARE(result.policy.providers[0].type, ProviderType::AzureOpenAi);
        QCOMPARE(result.policy.providers[0].keys[0].secret, QByteArrayLiteral("${AZURE_EASTUS_API_KEY}"));

        QCOMPARE(result.mapped,
                 lines({
                     "model_list[0] -> provider azure-contoso-eastus: type azure-openai, base_url "
                     "https://contoso-eastus.openai.azure.com, key ${AZURE_EASTUS_API_KEY}",
                     "model_list[0].litellm_params.api_version 2024-08-01-preview -> provider azure-contoso-eastus "
                     "api_version 2024-08-01-preview",
                     "model_list[0] gpt-4o -> route gpt-4o target azure-contoso-eastus/gpt-4o-eastus weight 3",
                     "model_list[0].litellm_params.rpm 900 -> provider azure-contoso-eastus key key-1 rpm 900",
                     "model_list[0].litellm_params.tpm 150000 -> provider azure-contoso-eastus key key-1 tpm 150000",
                     "model_list[1] -> provider azure-contoso-sweden: type azure-openai, base_url "
                     "https://contoso-sweden.openai.azure.com, key ${AZURE_SWEDEN_API_KEY}",
                     "model_list[1].litellm_params.api_version 2024-08-01-preview -> provider azure-contoso-sweden "
                     "api_version 2024-08-01-preview",
                     "model_list[1] gpt-4o -> route gpt-4o target azure-contoso-sweden/gpt-4o-sweden weight 2",
                     "model_list[1].litellm_params.rpm 600 -> provider azure-contoso-sweden key key-1 rpm 600",
                     "model_list[2] -> provider openai: type openai, base_url https://api.openai.com/v1, key "
                     "${OPENAI_API_KEY}",
                     "model_list[2] gpt-4o -> route gpt-4o target openai/gpt-4o weight 1.5",
                     "model_list[2].litellm_params.rpm 500 -> provider openai key key-1 rpm 500",
                     "model_list[2].litellm_params.tpm 200000 -> provider openai key key-1 tpm 200000",
                     "model_list[3] gpt-4o-mini -> route gpt-4o-mini target openai/gpt-4o-mini weight 1",
                     "model_list[3].litellm_params.rpm 500 -> provider openai key key-1 rpm 500",
                     "model_list[4] text-embedding-3-small -> route text-embedding-3-small target "
                     "azure-contoso-eastus/text-embedding-3-small weight 1",
                     "router_settings.routing_strategy simple-shuffle -> every route strategy weighted",
                 }));
        QCOMPARE(result.unmapped, QStringList {});
    }

    void selfHostedWithFallbacks() const
    {
        const LiteLlmImport result = importData(QStringLiteral("litellm-selfhosted.yaml"));
        const QByteArray expected = readData(QStringLiteral("litellm-selfhosted.policy.yaml"));
        QCOMPARE(toYaml(result.policy, SecretRendering::Included), expected);
        QVERIFY(result.policy == parseKeepingReferences(expected));

        QStringList names;
        for (const auto &provider : result.policy.providers) {
            names << provider.name;
        }
        QCOMPARE(names, lines({"vllm-1", "vllm-2", "openai-compatible-1", "anthropic", "openai"}));
        QCOMPARE(result.policy.providers[2].timeouts.firstTokenMs, 120000);
        QCOMPARE(result.policy.providers[2].timeouts.idleMs, 30000);
        QCOMPARE(result.policy.routes[0].fallbacks, lines({"gpt-4o-mini", "claude-sonnet"}));

        QCOMPARE(result.mapped.size(), 16);
        QVERIFY(result.mapped.contains(QStringLiteral(
            "model_list[2] -> provider openai-compatible-1: type openai-compatible, base_url "
            "http://sglang.internal:30000/v1, key copied from a literal api_key")));
        QVERIFY(result.mapped.contains(QStringLiteral(
            "model_list[4] -> provider openai: type openai, base_url https://api.openai.com/v1, key ${OPENAI_API_KEY} "
            "(LiteLLM's default variable)")));
        QVERIFY(result.mapped.contains(QStringLiteral(
            "litellm_settings.fallbacks[0].llama-3.1-8b -> route llama-3.1-8b fallbacks gpt-4o-mini, claude-sonnet")));
        QVERIFY(result.mapped.contains(QStringLiteral(
            "model_list[2].litellm_params.stream_timeout 30 -> provider openai-compatible-1 timeouts.idle_ms 30000")));
        QCOMPARE(result.unmapped,
                 lines({
                     "router_settings.num_retries: retries are not configurable; a failed target is retried on the "
                     "route's next target, then its fallbacks",
                     "router_settings.timeout: no global request timeout; set timeouts per provider",
                     "router_settings.allowed_fails: deployment cooldowns are not supported by Switchyard",
                     "router_settings.cooldown_time: deployment cooldowns are not supported by Switchyard",
                     "litellm_settings.num_retries: not supported by Switchyard",
                 }));
    }

    void messyConfigReportsEverythingItDrops() const
    {
        const LiteLlmImport result = importData(QStringLiteral("litellm-messy.yaml"));
        QCOMPARE(toYaml(result.policy, SecretRendering::Included), readData(QStringLiteral("litellm-messy.policy.yaml")));
        QCOMPARE(result.policy.providers[1].baseUrl, QByteArrayLiteral("${AZURE_API_BASE}"));
        QCOMPARE(result.policy.providers[1].apiVersion, QByteArrayLiteral("2024-10-21"));

        QCOMPARE(result.mapped,
                 lines({
                     "model_list[0] -> provider openai: type openai, base_url https://api.openai.com/v1, key "
                     "${OPENAI_API_KEY}",
                     "model_list[0] gpt-4o -> route gpt-4o target openai/gpt-4o weight 1",
                     "model_list[0].litellm_params.rpm 500 -> provider openai key key-1 rpm 500",
                     "model_list[1] gpt-4o -> route gpt-4o target openai/gpt-4o-2024-08-06 weight 1",
                     "model_list[4] -> provider azure: type azure-openai, base_url ${AZURE_API_BASE}, key "
                     "${AZURE_API_KEY}",
                     "model_list[4].litellm_params.api_version (none) -> provider azure api_version 2024-10-21",
                     "model_list[4] azure-gpt-35 -> route azure-gpt-35 target azure/gpt-35-turbo weight 1",
                     "litellm_settings.fallbacks[0].gpt-4o -> route gpt-4o fallbacks azure-gpt-35",
                 }));
        QCOMPARE(result.unmapped,
                 lines({
                     "model_list[0].model_info: model metadata (costs, context window, mode) is not used",
                     "model_list[0].litellm_params.max_tokens: LiteLLM parameter not supported by Switchyard",
                     "model_list[0].litellm_params.organization: LiteLLM parameter not supported by Switchyard",
                     "model_list[1].description: unknown key, not imported",
                     "model_list[1].litellm_params.rpm: provider openai key key-1 already has rpm 500 (from "
                     "model_list[0]); limits are per key, not per deployment",
                     "model_list[2].litellm_params.aws_region_name: LiteLLM parameter not supported by Switchyard",
                     "model_list[2].litellm_params.model: provider 'bedrock' (model "
                     "'bedrock/anthropic.claude-3-sonnet-20240229-v1:0') is not supported (supported: openai, azure, "
                     "anthropic, hosted_vllm, openai with api_base); deployment skipped",
                     "model_list[3]: wildcard model_name '*' is not supported; routes name exact models; deployment "
                     "skipped",
                     "model_list[4].litellm_params.weight: must be greater than 0; weight 1 used",
                     "model_list[5]: hosted_vllm/mistralai/Mistral-7B-Instruct-v0.3 needs api_base; deployment skipped",
                     "environment_variables: set these in Switchyard's environment; ${VAR} in the policy reads them",
                     "guardrails: unknown LiteLLM setting, not imported",
                     "router_settings.routing_strategy: 'usage-based-routing-v2' is not supported; routes use weighted "
                     "(random by weight, then the other targets in order)",
                     "router_settings.redis_host: not supported by Switchyard",
                     "router_settings.redis_port: not supported by Switchyard",
                     "litellm_settings.drop_params: not supported by Switchyard",
                     "litellm_settings.success_callback: not supported by Switchyard",
                     "litellm_settings.fallbacks[0].gpt-4o[0]: no route 'bedrock-claude' was imported",
                     "litellm_settings.fallbacks[1].azure-gpt-35[0]: 'gpt-4o' would make the fallbacks of route "
                     "'azure-gpt-35' a cycle",
                     "litellm_settings.context_window_fallbacks: only plain fallbacks are imported; fallbacks by error "
                     "kind are not supported by Switchyard",
                     "general_settings.master_key: not imported; set gateway.admin_token and create virtual keys",
                     "general_settings.database_url: not imported; Switchyard keeps its own store in --data-dir",
                     "general_settings.alerting: not supported by Switchyard",
                 }));
    }

    void reportsNeverEchoLiteralSecrets() const
    {
        const LiteLlmImport messy = importData(QStringLiteral("litellm-messy.yaml"));
        const LiteLlmImport selfHosted = importData(QStringLiteral("litellm-selfhosted.yaml"));
        for (const auto &line : messy.mapped + messy.unmapped + selfHosted.mapped + selfHosted.unmapped) {
            QVERIFY2(!line.contains(QLatin1String("sk-1234")) && !line.contains(QLatin1String("secret@db"))
                         && !line.contains(QLatin1String("EMPTY")),
                     qPrintable(line));
        }
    }

    void providersAreSharedByKindBaseAndKey() const
    {
        const QByteArray yaml =
            "model_list:\n"
            "  - model_name: a\n"
            "    litellm_params: {model: openai/gpt-4o, api_key: os.environ/KEY_ONE}\n"
            "  - model_name: b\n"
            "    litellm_params: {model: openai/gpt-4o-mini, api_key: os.environ/KEY_ONE}\n"
            "  - model_name: c\n"
            "    litellm_params: {model: openai/gpt-4o, api_key: os.environ/KEY_TWO}\n"
            "  - model_name: d\n"
            "    litellm_params: {model: openai/llama, api_base: \"http://10.1.1.1:8000/v1\"}\n"
            "  - model_name: e\n"
            "    litellm_params: {model: openai/gpt-4o, api_base: \"https://api.openai.com/v1/\", api_key: os.environ/KEY_ONE}\n";
        const auto result = importLiteLlmConfig(yaml, QStringLiteral("config.yaml"));
        QVERIFY2(result, qPrintable(result ? QString() : result.error().toString()));
        QStringList names;
        for (const auto &provider : result->policy.providers) {
            names << provider.name;
        }
        QCOMPARE(names, lines({"openai", "openai-2", "openai-compatible-1"}));
        QCOMPARE(result->policy.routes[4].targets[0].provider, QStringLiteral("openai"));
    }

    void structuralErrorsNameFileLineAndField_data() const
    {
        QTest::addColumn<QByteArray>("yaml");
        QTest::addColumn<int>("line");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("message");
        QTest::newRow("not a mapping") << QByteArray("- a\n- b\n") << 1 << QString() << QStringLiteral("expected a mapping");
        QTest::newRow("model_list not a list")
            << QByteArray("model_list: {a: 1}\n") << 1 << QStringLiteral("model_list") << QStringLiteral("expected a list");
        QTest::newRow("missing model_name")
            << QByteArray("model_list:\n  - litellm_params: {model: openai/gpt-4o}\n") << 2
            << QStringLiteral("model_list[0].model_name") << QStringLiteral("required field is missing");
        QTest::newRow("missing model")
            << QByteArray("model_list:\n  - model_name: x\n    litellm_params:\n      api_key: k\n") << 4
            << QStringLiteral("model_list[0].litellm_params.model") << QStringLiteral("required field is missing");
        QTest::newRow("bad yaml") << QByteArray("model_list: [\n") << 2 << QString()
                                  << QStringLiteral("end of sequence flow not found");
    }

    void structuralErrorsNameFileLineAndField() const
    {
        QFETCH(QByteArray, yaml);
        QFETCH(int, line);
        QFETCH(QString, field);
        QFETCH(QString, message);
        const auto result = importLiteLlmConfig(yaml, QStringLiteral("config.yaml"));
        QVERIFY(!result);
        QCOMPARE(result.error().source, QStringLiteral("config.yaml"));
        QCOMPARE(result.error().line, line);
        QCOMPARE(result.error().field, field);
        QCOMPARE(result.error().message, message);
    }

    void emptyDocumentGivesEmptyPolicy() const
    {
        const auto result = importLiteLlmConfig(QByteArray(), QStringLiteral("config.yaml"));
        QVERIFY(result);
        QVERIFY(result->policy == Policy {});
        QVERIFY(result->mapped.isEmpty());
        QVERIFY(result->unmapped.isEmpty());
    }
};

QTEST_APPLESS_MAIN(TestLiteLlmImport)
#include "testlitellmimport.moc"
