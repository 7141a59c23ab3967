#include "demo.h"

#include "sim/simulatedupstream.h"

namespace App {

namespace {

using Gateway::Sim::Behaviour;
using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;

Behaviour gpuBehaviour(int ttftBaseMs, int interTokenMs, double errorRate)
{
    Behaviour behaviour;
    behaviour.ttftBaseMs = ttftBaseMs;
    behaviour.ttftPerPromptTokenMs = 0.05; // prefill cost grows with the prompt
    behaviour.interTokenMs = interTokenMs;
    behaviour.defaultMaxTokens = 48;
    behaviour.capacityTokens = 65536;
    behaviour.maxRunningRequests = 16;
    behaviour.errorRate = errorRate; // an occasional 500 shows failover to the cloud route
    return behaviour;
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
    const std::vector<Spec> specs {
        {"gpu-1", Flavor::OpenAi, gpuBehaviour(40, 15, 0.0), "llama-3.1-8b"},
        {"gpu-2", Flavor::OpenAi, gpuBehaviour(70, 22, 0.02), "llama-3.1-8b"},
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
    auto gpu1 = provider(QStringLiteral("gpu-1"), ProviderType::Vllm, m_upstreams[0]->baseUrl());
    gpu1.metricsUrl = "http://127.0.0.1:" + QByteArray::number(m_upstreams[0]->port()) + "/metrics";
    auto gpu2 = provider(QStringLiteral("gpu-2"), ProviderType::Vllm, m_upstreams[1]->baseUrl());
    gpu2.metricsUrl = "http://127.0.0.1:" + QByteArray::number(m_upstreams[1]->port()) + "/metrics";
    auto cloudProvider = provider(QStringLiteral("cloud"), ProviderType::OpenAiCompatible, m_upstreams[2]->baseUrl());
    cloudProvider.keys.push_back({QStringLiteral("primary"), "sk-demo-primary", 500, 200000});
    cloudProvider.keys.push_back({QStringLiteral("secondary"), "sk-demo-secondary", 500, 200000});
    cloudProvider.timeouts.firstTokenMs = 10000;
    auto claude = provider(QStringLiteral("claude"), ProviderType::Anthropic, m_upstreams[3]->baseUrl());
    claude.keys.push_back({QStringLiteral("primary"), "sk-ant-demo", 0, 0});
    policy.providers = {gpu1, gpu2, cloudProvider, claude};

    Gateway::Config::Route chat;
    chat.model = "chat";
    // The GPU pair is balanced adaptively: errors, token-normalised latency and in-flight
    // tokens move the weights, which the console and /metrics show.
    chat.strategy = QStringLiteral("adaptive");
    chat.targets = {{QStringLiteral("gpu-1"), "llama-3.1-8b", 3}, {QStringLiteral("gpu-2"), "llama-3.1-8b", 2}};
    chat.fallbacks = {QStringLiteral("chat-cloud")};
    Gateway::Config::Route chatCloud;
    chatCloud.model = "chat-cloud";
    chatCloud.targets = {{QStringLiteral("cloud"), "gpt-4o-mini", 1, 0.15, 0.6, 128000}};
    Gateway::Config::Route sonnet;
    sonnet.model = "claude-sonnet";
    sonnet.targets = {{QStringLiteral("claude"), "claude-sonnet-4", 1}};
    policy.routes = {chat, chatCloud, sonnet};
    return policy;
}

QString Demo::instructions(const QString &baseUrl)
{
    return QStringLiteral(
               "Switchyard demo is running. Base URL for OpenAI/Anthropic SDKs: %1\n"
               "Try:\n"
               "  curl -s %1/chat/completions -H 'Content-Type: application/json' \\\n"
               "    -d '{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'\n"
               "  curl -sN %1/chat/completions -H 'Content-Type: application/json' \\\n"
               "    -d '{\"model\":\"chat\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'\n"
               "  curl -s %1/messages -H 'Content-Type: application/json' -H 'anthropic-version: 2023-06-01' \\\n"
               "    -d '{\"model\":\"claude-sonnet\",\"max_tokens\":32,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}'\n")
        .arg(baseUrl);
}

} // namespace App
