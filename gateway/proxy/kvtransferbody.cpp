#include "kvtransferbody.h"

#include "util/jsonwriter.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <initializer_list>
#include <vector>

namespace Gateway::Proxy {

namespace {

// What the prefill server is told: decode happens elsewhere, nothing to pull itself.
constexpr const char *REMOTE_DECODE_PARAMS =
    "{\"do_remote_decode\":true,\"do_remote_prefill\":false,\"remote_engine_id\":null,\"remote_block_ids\":null,"
    "\"remote_host\":null,\"remote_port\":null}";

// One member of the top-level object: its key (unescaped bytes between the quotes) and
// the byte range of "key": value.
struct Member {
    QByteArrayView key;
    qsizetype begin = 0;
    qsizetype valueBegin = 0;
    qsizetype end = 0;
};

qsizetype skipSpace(const QByteArray &text, qsizetype at)
{
    while (at < text.size() && (text[at] == ' ' || text[at] == '\t' || text[at] == '\n' || text[at] == '\r')) {
        ++at;
    }
    return at;
}

// Past the string starting at `at` (its opening quote).
qsizetype skipString(const QByteArray &text, qsizetype at)
{
    for (++at; at < text.size(); ++at) {
        if (text[at] == '\\') {
            ++at;
        } else if (text[at] == '"') {
            return at + 1;
        }
    }
    return at;
}

// Past the value starting at `at`: strings, nested objects and arrays, or a scalar.
qsizetype skipValue(const QByteArray &text, qsizetype at)
{
    if (at >= text.size()) {
        return at;
    }
    if (text[at] == '"') {
        return skipString(text, at);
    }
    if (text[at] == '{' || text[at] == '[') {
        int depth = 0;
        for (; at < text.size(); ++at) {
            const char c = text[at];
            if (c == '"') {
                at = skipString(text, at) - 1;
            } else if (c == '{' || c == '[') {
                ++depth;
            } else if ((c == '}' || c == ']') && --depth == 0) {
                return at + 1;
            }
        }
        return at;
    }
    while (at < text.size() && text[at] != ',' && text[at] != '}' && text[at] != ']' && text[at] != ' ' &&
           text[at] != '\n' && text[at] != '\r' && text[at] != '\t') {
        ++at;
    }
    return at;
}

// The members of a JSON object's text (already validated by the request inspector);
// empty when it is not an object.
std::vector<Member> topLevelMembers(const QByteArray &text)
{
    std::vector<Member> members;
    qsizetype at = skipSpace(text, 0);
    if (at >= text.size() || text[at] != '{') {
        return members;
    }
    at = skipSpace(text, at + 1);
    while (at < text.size() && text[at] == '"') {
        Member member;
        member.begin = at;
        const qsizetype keyEnd = skipString(text, at);
        member.key = QByteArrayView(text).sliced(at + 1, keyEnd - at - 2);
        at = skipSpace(text, keyEnd);
        if (at >= text.size() || text[at] != ':') {
            return {};
        }
        member.valueBegin = skipSpace(text, at + 1);
        member.end = skipValue(text, member.valueBegin);
        members.push_back(member);
        at = skipSpace(text, member.end);
        if (at < text.size() && text[at] == ',') {
            at = skipSpace(text, at + 1);
        }
    }
    return members;
}

bool isOneOf(QByteArrayView key, std::initializer_list<const char *> names)
{
    for (const char *name : names) {
        if (key == QByteArrayView(name)) {
            return true;
        }
    }
    return false;
}

// `{` + `first` members + the original members except `dropped` (with `replaced` values
// swapped in) + `}`.
QByteArray rebuilt(const QByteArray &body, const std::vector<Member> &members, const QByteArray &first,
                   std::initializer_list<const char *> dropped,
                   const std::vector<std::pair<const char *, QByteArray>> &replaced)
{
    QByteArray out;
    out.reserve(body.size() + first.size() + 16);
    out += '{';
    out += first;
    for (const Member &member : members) {
        if (isOneOf(member.key, dropped)) {
            continue;
        }
        out += ',';
        bool swapped = false;
        for (const auto &[name, value] : replaced) {
            if (member.key == QByteArrayView(name)) {
                out.append(body.constData() + member.begin, member.valueBegin - member.begin);
                out += value;
                swapped = true;
                break;
            }
        }
        if (!swapped) {
            out.append(body.constData() + member.begin, member.end - member.begin);
        }
    }
    out += '}';
    return out;
}

} // namespace

QByteArray prefillRequestBody(const QByteArray &body, const QByteArray &upstreamModel)
{
    const std::vector<Member> members = topLevelMembers(body);
    bool hasCompletionTokens = false;
    for (const Member &member : members) {
        hasCompletionTokens = hasCompletionTokens || member.key == QByteArrayView("max_completion_tokens");
    }
    QByteArray first = "\"kv_transfer_params\":" + QByteArray(REMOTE_DECODE_PARAMS) + ",\"stream\":false,\"max_tokens\":1";
    if (hasCompletionTokens) {
        first += ",\"max_completion_tokens\":1";
    }
    // min_tokens would make a one-token prefill invalid; the decode step keeps them.
    return rebuilt(body, members, first,
                   {"kv_transfer_params", "stream", "stream_options", "max_tokens", "max_completion_tokens", "min_tokens",
                    "min_completion_tokens"},
                   {{"model", Json::quoted(upstreamModel)}});
}

QByteArray withKvTransferParams(const QByteArray &body, const QByteArray &params)
{
    const std::vector<Member> members = topLevelMembers(body);
    return rebuilt(body, members, "\"kv_transfer_params\":" + params, {"kv_transfer_params"}, {});
}

std::optional<QByteArray> kvTransferParamsOf(const QByteArray &responseBody)
{
    const QJsonDocument document = QJsonDocument::fromJson(responseBody);
    if (!document.isObject()) {
        return std::nullopt;
    }
    const QJsonValue params = document.object().value(QLatin1String("kv_transfer_params"));
    if (!params.isObject() || params.toObject().isEmpty()) {
        return std::nullopt;
    }
    return QJsonDocument(params.toObject()).toJson(QJsonDocument::Compact);
}

} // namespace Gateway::Proxy
