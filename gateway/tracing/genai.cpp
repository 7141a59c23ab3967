#include "genai.h"

#include <algorithm>
#include <cctype>

namespace Gateway::Tracing {

namespace {

// The string value after `key` (`"key":"value"`, spaces allowed), or empty when the
// value is null or not a string. `from` is moved past the match.
QByteArray stringValueAfter(QByteArrayView json, QByteArrayView key, qsizetype &from)
{
    const qsizetype at = json.indexOf(key, from);
    if (at < 0) {
        from = json.size();
        return {};
    }
    qsizetype i = at + key.size();
    from = i;
    while (i < json.size() && (json[i] == ' ' || json[i] == '\t' || json[i] == ':')) {
        ++i;
    }
    if (i >= json.size() || json[i] != '"') {
        return {};
    }
    const qsizetype end = json.indexOf('"', i + 1);
    if (end < 0) {
        return {};
    }
    from = end + 1;
    return json.sliced(i + 1, end - i - 1).toByteArray();
}

// The value of ` name=` in `segment`, up to the next " <word>=" or the end.
QByteArray fieldOf(QByteArrayView segment, QByteArrayView name)
{
    const QByteArray key = ' ' + name.toByteArray() + '=';
    const qsizetype at = segment.indexOf(key);
    if (at < 0) {
        return {};
    }
    const qsizetype start = at + key.size();
    qsizetype end = start;
    // A value runs to the next " key=" (values may hold spaces: "moved from x (...)").
    for (qsizetype next = segment.indexOf(' ', start); next >= 0; next = segment.indexOf(' ', next + 1)) {
        qsizetype word = next + 1;
        while (word < segment.size() && (std::isalpha(static_cast<unsigned char>(segment[word])) || segment[word] == '_')) {
            ++word;
        }
        if (word < segment.size() && word > next + 1 && segment[word] == '=') {
            end = next;
            break;
        }
    }
    if (end == start) {
        end = segment.size();
    }
    return segment.sliced(start, end - start).trimmed().toByteArray();
}

} // namespace

QByteArray genAiSystem(Config::ProviderType type)
{
    switch (type) {
    case Config::ProviderType::OpenAi:
        return QByteArrayLiteral("openai");
    case Config::ProviderType::AzureOpenAi:
        return QByteArrayLiteral("az.ai.openai");
    case Config::ProviderType::Anthropic:
        return QByteArrayLiteral("anthropic");
    case Config::ProviderType::OpenAiCompatible:
    case Config::ProviderType::Vllm:
    case Config::ProviderType::Sglang:
    case Config::ProviderType::Tgi:
    case Config::ProviderType::LlamaCpp:
        break;
    }
    return Config::providerTypeName(type).toUtf8();
}

QByteArray genAiOperation(Runtime::Endpoint endpoint)
{
    switch (endpoint) {
    case Runtime::Endpoint::Completions:
        return QByteArrayLiteral("text_completion");
    case Runtime::Endpoint::Embeddings:
        return QByteArrayLiteral("embeddings");
    case Runtime::Endpoint::ChatCompletions:
    case Runtime::Endpoint::Messages:
        break;
    }
    return QByteArrayLiteral("chat");
}

ServerAddress serverAddressOf(QByteArrayView url)
{
    ServerAddress address;
    const qsizetype scheme = url.indexOf("://");
    if (scheme < 0) {
        return address;
    }
    const bool https = url.first(scheme).compare("https", Qt::CaseInsensitive) == 0;
    QByteArrayView authority = url.sliced(scheme + 3);
    const qsizetype slash = authority.indexOf('/');
    if (slash >= 0) {
        authority = authority.first(slash);
    }
    if (const qsizetype at = authority.lastIndexOf('@'); at >= 0) {
        authority = authority.sliced(at + 1);
    }
    qsizetype portColon = -1;
    if (authority.startsWith('[')) {
        const qsizetype close = authority.indexOf(']');
        address.host = authority.sliced(1, close < 0 ? authority.size() - 1 : close - 1).toByteArray();
        portColon = close >= 0 && close + 1 < authority.size() && authority[close + 1] == ':' ? close + 1 : -1;
    } else {
        portColon = authority.lastIndexOf(':');
        address.host = (portColon < 0 ? authority : authority.first(portColon)).toByteArray();
    }
    bool ok = false;
    const qint64 port = portColon < 0 ? 0 : authority.sliced(portColon + 1).toLongLong(&ok);
    address.port = ok ? port : (https ? 443 : 80);
    return address;
}

void collectFinishReasons(QByteArrayView json, std::vector<QByteArray> &reasons)
{
    for (const QByteArrayView key : {QByteArrayView {"\"finish_reason\""}, QByteArrayView {"\"stop_reason\""}}) {
        qsizetype from = 0;
        while (from < json.size()) {
            const QByteArray reason = stringValueAfter(json, key, from);
            if (!reason.isEmpty() && std::find(reasons.begin(), reasons.end(), reason) == reasons.end()) {
                reasons.push_back(reason);
            }
        }
    }
}

RouteReasonFields routeReasonFields(QByteArrayView reason)
{
    // The planner's own segment starts with "route="; a rule's reason may come first.
    qsizetype start = reason.startsWith("route=") ? 0 : reason.indexOf("; route=");
    if (start < 0) {
        return {};
    }
    start = reason.indexOf("route=", start);
    qsizetype end = reason.indexOf(';', start);
    if (end < 0) {
        end = reason.size();
    }
    const QByteArray segment = ' ' + reason.sliced(start, end - start).toByteArray();
    return {fieldOf(segment, "strategy"), fieldOf(segment, "scores"), fieldOf(segment, "order"), fieldOf(segment, "session")};
}

} // namespace Gateway::Tracing
