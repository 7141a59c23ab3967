#include "demo.h"

#include "sim/fleetserver.h"
#include "sim/simulatedupstream.h"

namespace App {

namespace {

using Gateway::Sim::Behaviour;
using Gateway::Sim::Flavor;
using Gateway::Sim::FleetServer;
using Gateway::Sim::FleetServerConfig;
using Gateway::Sim::SimulatedUpstream;

const QByteArray GPU_MODEL = QByteArrayLiteral("llama-3.1-8b");

// A GPU server in fleet mode, in real time: continuous batching and a prefix cache, so
// the demo's shared system prompt is cached and its /metrics show real queue depth, KV
// usage and prefix hits. A small card (64K tokens of KV, 16 sequences) so a burst of
// traffic shows up in the console; a prompt that can never fit is refused with vLLM's
// context-length error, which the route retries on the cloud.
FleetServerConfig gpuConfig()
{
    FleetServerConfig config;
    config.engine.numGpuBlocks = 4096;
    config.engine.maxNumSeqs = 16;
    config.model = GPU_MODEL;
    config.defaultMaxTokens = 48;
    return config;
}

Gateway::Config::Provider provider(const QString &name, Gateway::Config::ProviderType type, const QByteArray &baseUrl)
{
    Gateway::Config::Provider provider;
    provider.name = name;
    provider.type = type;
    provider.baseUrl = baseUrl;
    return provider;
}

} // namespace

Demo::Demo() = default;
Demo::~Demo() = default;

Gateway::Expected<Gateway::Config::Policy, QString> Demo::start()
{
    using Gateway::Config::ProviderType;
    struct Spec {
        const char *name;
        Flavor flavor;
        Behaviour behaviour;
        QByteArray model;
    };
    Behaviour cloud;
    cloud.ttftBaseMs = 180;
    cloud.interTokenMs = 8;
    cloud.defaultMaxTokens = 48;
    cloud.errorRate = 0.03;
    cloud.rateLimitRate = 0.05;
    cloud.retryAfterSeconds = 2;
    Behaviour anthropic;
    anthropic.ttftBaseMs = 220;
    anthropic.interTokenMs = 10;
    anthropic.defaultMaxTokens = 48;
    for (const char *name : {"gpu-1", "gpu-2", "gpu-prefill"}) {
        auto server = std::make_unique<FleetServer>(QString::fromLatin1(name), gpuConfig());
        const auto port = server->listen(0);
        if (!port) {
            return Gateway::Unexpected {QStringLiteral("demo GPU server %1: %2").arg(QLatin1String(name), port.error())};
        }
        m_gpuServers.push_back(std::move(server));
    }
    const std::vector<Spec> specs {
        {"cloud", Flavor::OpenAi, cloud, "gpt-4o-mini"},
        {"claude", Flavor::Anthropic, anthropic, "claude-sonnet-4"},
    };
    quint32 seed = 7;
    for (const auto &spec : specs) {
        auto upstream = std::make_unique<SimulatedUpstream>(QString::fromLatin1(spec.name), spec.flavor);
        upstream->setModels({spec.model});
        upstream->setBehaviour(spec.behaviour);
        upstream->setSeed(seed++);
        const auto port = upstream->listen(0);
        if (!port) {
            return Gateway::Unexpected {QStringLiteral("demo upstream %1: %2").arg(QLatin1String(spec.name), port.error())};
        }
        m_upstreams.push_back(std::move(upstream));
    }

    Gateway::Config::Policy policy;
    auto gpu1 = provider(QStringLiteral("gpu-1"), ProviderType::Vllm, m_gpuServers[0]->baseUrl());
    gpu1.metricsUrl = m_gpuServers[0]->metricsUrl();
    auto gpu2 = provider(QStringLiteral("gpu-2"), ProviderType::Vllm, m_gpuServers[1]->baseUrl());
    gpu2.metricsUrl = m_gpuServers[1]->metricsUrl();
    auto cloudProvider = provider(QStringLiteral("cloud"), ProviderType::OpenAiCompatible, m_upstreams[0]->baseUrl());
    cloudProvider.keys.push_back({QStringLiteral("primary"), "sk-demo-primary", 500, 200000});
    cloudProvider.keys.push_back({QStringLiteral("secondary"), "sk-demo-secondary", 500, 200000});
    cloudProvider.timeouts.firstTokenMs = 10000;
    auto claude = provider(QStringLiteral("claude"), ProviderType::Anthropic, m_upstreams[1]->baseUrl());
    claude.keys.push_back({QStringLiteral("primary"), "sk-ant-demo", 0, 0});
    auto gpuPrefill = provider(QStringLiteral("gpu-prefill"), ProviderType::Vllm, m_gpuServers[2]->baseUrl());
    gpuPrefill.metricsUrl = m_gpuServers[2]->metricsUrl();
    policy.providers = {gpu1, gpu2, gpuPrefill, cloudProvider, claude};

    Gateway::Config::Route chat;
    chat.model = "chat";
    // The GPU pair is ranked by prefix_aware: each request goes where its prompt prefix
    // is already cached, as far as the servers' scraped load allows.
    chat.strategy = QStringLiteral("prefix_aware");
    chat.targets = {{QStringLiteral("gpu-1"), GPU_MODEL, 1}, {QStringLiteral("gpu-2"), GPU_MODEL, 1}};
    chat.fallbacks = {QStringLiteral("chat-cloud")};
    // Long documents: the same two GPUs decode, a third prefills the prompts neither of
    // them holds (prefill/decode disaggregation), unless it is the busier side.
    Gateway::Config::Route documents;
    documents.model = "documents";
    documents.strategy = QStringLiteral("prefix_aware");
    documents.pd.uncachedTokensThreshold = 256;
    documents.targets = {{QStringLiteral("gpu-prefill"), GPU_MODEL, 1}, {QStringLiteral("gpu-1"), GPU_MODEL, 1},
                         {QStringLiteral("gpu-2"), GPU_MODEL, 1}};
    documents.targets[0].pool = Gateway::Routing::TargetPool::Prefill;
    documents.targets[1].pool = Gateway::Routing::TargetPool::Decode;
    documents.targets[2].pool = Gateway::Routing::TargetPool::Decode;
    documents.fallbacks = {QStringLiteral("chat-cloud")};
    Gateway::Config::Route chatCloud;
    chatCloud.model = "chat-cloud";
    chatCloud.targets = {{QStringLiteral("cloud"), "gpt-4o-mini", 1, 0.15, 0.6, 128000}};
    Gateway::Config::Route sonnet;
    sonnet.model = "claude-sonnet";
    sonnet.targets = {{QStringLiteral("claude"), "claude-sonnet-4", 1}};
    policy.routes = {chat, documents, chatCloud, sonnet};

    Gateway::Config::Team research;
    research.name = QStringLiteral("research");
    research.budgets.usdPerDay = 5;
    research.budgets.tokensPerDay = 2'000'000;
    auto key = [](const char *name, const char *secret) {
        Gateway::Config::VirtualKey virtualKey;
        virtualKey.name = QString::fromLatin1(name);
        virtualKey.key = secret;
        return virtualKey;
    };
    Gateway::Config::VirtualKey researchAgent = key("research-agent", "sk-demo-research-agent");
    researchAgent.team = research.name;
    researchAgent.budgets.tokensPerDay = 500'000;
    Gateway::Config::VirtualKey supportBot = key("support-bot", "sk-demo-support-bot");
    supportBot.budgets.usdPerMonth = 20;
    policy.teams = {research};
    policy.virtualKeys = {researchAgent, supportBot, key("playground", PlaygroundKey)};
    return policy;
}

QList<QByteArray> Demo::trafficKeys()
{
    return {"sk-demo-research-agent", "sk-demo-support-bot"};
}

QString Demo::instructions(const QString &baseUrl)
{
    return QStringLiteral(
               "Switchyard demo is running. Base URL for OpenAI/Anthropic SDKs: %1\n"
               "Try:\n"
               "  curl -s %1/chat/completions -H 'Content-Type: application/json' -H 'Authorization: Bearer %2' \\\n"
               "    -d '{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'\n"
               "  curl -sN %1/chat/completions -H 'Content-Type: application/json' -H 'Authorization: Bearer %2' \\\n"
               "    -d '{\"model\":\"chat\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'\n"
               "  curl -s %1/messages -H 'Content-Type: application/json' -H 'anthropic-version: 2023-06-01' -H 'x-api-key: %2' \\\n"
               "    -d '{\"model\":\"claude-sonnet\",\"max_tokens\":32,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}'\n")
        .arg(baseUrl, QLatin1String(PlaygroundKey));
}

} // namespace App
