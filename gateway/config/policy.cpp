#include "policy.h"

#include <array>

namespace Gateway::Config {

namespace {

struct TypeName {
    ProviderType type;
    const char *name;
};

constexpr std::array<TypeName, 8> TYPE_NAMES {{
    {ProviderType::OpenAi, "openai"},
    {ProviderType::Anthropic, "anthropic"},
    {ProviderType::AzureOpenAi, "azure-openai"},
    {ProviderType::OpenAiCompatible, "openai-compatible"},
    {ProviderType::Vllm, "vllm"},
    {ProviderType::Sglang, "sglang"},
    {ProviderType::Tgi, "tgi"},
    {ProviderType::LlamaCpp, "llamacpp"},
}};

} // namespace

const QStringList &strategyNames()
{
    static const QStringList names {QStringLiteral("weighted"),      QStringLiteral("round_robin"),
                                    QStringLiteral("random"),        QStringLiteral("least_request"),
                                    QStringLiteral("p2c"),           QStringLiteral("latency"),
                                    QStringLiteral("cost"),          QStringLiteral("session_hash"),
                                    QStringLiteral("adaptive"),      QStringLiteral("prefix_aware")};
    return names;
}

const QStringList &retryClassNames()
{
    static const QStringList names {QStringLiteral("connect_error"), QStringLiteral("timeout"),
                                    QStringLiteral("rate_limited"),  QStringLiteral("server_error"),
                                    QStringLiteral("context_length"), QStringLiteral("content_filter")};
    return names;
}

const QStringList &splitStickyNames()
{
    static const QStringList names {QStringLiteral("session"), QStringLiteral("user"), QStringLiteral("virtual_key"),
                                    QStringLiteral("none")};
    return names;
}

bool RuleConditions::isEmpty() const
{
    return virtualKeys.isEmpty() && headers.empty() && minPromptTokens < 0 && maxPromptTokens < 0 && !hasImages &&
           !hasTools && lastUserMessageMatches.isEmpty() && lastUserMessageContains.isEmpty() && minMaxTokens < 0 &&
           maxMaxTokens < 0;
}

WireFormat wireFormatOf(ProviderType type)
{
    return type == ProviderType::Anthropic ? WireFormat::Anthropic : WireFormat::OpenAi;
}

QString providerTypeName(ProviderType type)
{
    for (const auto &entry : TYPE_NAMES) {
        if (entry.type == type) {
            return QString::fromLatin1(entry.name);
        }
    }
    return {};
}

bool parseProviderType(const QString &name, ProviderType &out)
{
    for (const auto &entry : TYPE_NAMES) {
        if (name == QLatin1String(entry.name)) {
            out = entry.type;
            return true;
        }
    }
    return false;
}

const Provider *Policy::findProvider(const QString &name) const
{
    for (const auto &provider : providers) {
        if (provider.name == name) {
            return &provider;
        }
    }
    return nullptr;
}

const Team *Policy::findTeam(const QString &name) const
{
    for (const auto &team : teams) {
        if (team.name == name) {
            return &team;
        }
    }
    return nullptr;
}

const Route *Policy::findRoute(const QByteArray &model) const
{
    for (const auto &route : routes) {
        if (route.model == model) {
            return &route;
        }
    }
    return nullptr;
}

const McpServer *Policy::findMcpServer(const QString &name) const
{
    for (const auto &server : mcpServers) {
        if (server.name == name) {
            return &server;
        }
    }
    return nullptr;
}

std::vector<HeaderList *> Policy::secretHeaderLists()
{
    std::vector<HeaderList *> lists;
    if (tracing) {
        lists.push_back(&tracing->headers);
    }
    for (auto &server : mcpServers) {
        lists.push_back(&server.headers);
    }
    return lists;
}

} // namespace Gateway::Config
