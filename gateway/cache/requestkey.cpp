#include "requestkey.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace Gateway::Cache {

namespace {

// Fields that change nothing in the answer's content. `stream` and `stream_options`
// are keyed as flags instead (see RequestKey).
constexpr const char *IGNORED_FIELDS[] = {"stream", "stream_options", "user", "metadata", "store"};

QByteArray endpointName(Runtime::Endpoint endpoint)
{
    switch (endpoint) {
    case Runtime::Endpoint::ChatCompletions:
        return QByteArrayLiteral("chat");
    case Runtime::Endpoint::Completions:
        return QByteArrayLiteral("completions");
    case Runtime::Endpoint::Embeddings:
        return QByteArrayLiteral("embeddings");
    case Runtime::Endpoint::Messages:
        return QByteArrayLiteral("messages");
    }
    return {};
}

// A message's text: a string, or its text parts joined by '\n'.
QString contentText(const QJsonValue &content)
{
    if (content.isString()) {
        return content.toString();
    }
    QString text;
    const QJsonArray parts = content.toArray();
    for (const QJsonValue &part : parts) {
        const QJsonValue value = part.isString() ? part : part.toObject().value(QLatin1String("text"));
        if (value.isString()) {
            if (!text.isEmpty()) {
                text += u'\n';
            }
            text += value.toString();
        }
    }
    return text;
}

// Finds the last user message (chat/messages) or the prompt (completions), returns its
// text and blanks it in `object`.
QString takeLastUserText(Runtime::Endpoint endpoint, QJsonObject &object)
{
    if (endpoint == Runtime::Endpoint::Completions) {
        const QJsonValue prompt = object.value(QLatin1String("prompt"));
        if (!prompt.isString()) {
            return {};
        }
        object.insert(QLatin1String("prompt"), QString());
        return prompt.toString();
    }
    if (endpoint != Runtime::Endpoint::ChatCompletions && endpoint != Runtime::Endpoint::Messages) {
        return {};
    }
    QJsonArray messages = object.value(QLatin1String("messages")).toArray();
    for (qsizetype i = messages.size() - 1; i >= 0; --i) {
        QJsonObject message = messages.at(i).toObject();
        if (message.value(QLatin1String("role")).toString() != u"user") {
            continue;
        }
        const QString text = contentText(message.value(QLatin1String("content")));
        message.insert(QLatin1String("content"), QString());
        messages.replace(i, message);
        object.insert(QLatin1String("messages"), messages);
        return text;
    }
    return {};
}

QByteArray digest(const QByteArray &prefix, const QJsonObject &object)
{
    QCryptographicHash hash {QCryptographicHash::Sha256};
    hash.addData(prefix);
    hash.addData(QJsonDocument(object).toJson(QJsonDocument::Compact));
    return hash.result();
}

} // namespace

QByteArray canonicalBody(QByteArrayView body)
{
    QJsonObject object = QJsonDocument::fromJson(body.toByteArray()).object();
    for (const char *field : IGNORED_FIELDS) {
        object.remove(QLatin1String(field));
    }
    // QJsonObject keeps its keys sorted and the compact writer adds no whitespace.
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

RequestKey buildRequestKey(Runtime::Endpoint endpoint, QByteArrayView body, QByteArrayView route, QByteArrayView scope)
{
    RequestKey key;
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(body.toByteArray(), &error);
    if (error.error != QJsonParseError::NoError || !document.isObject()) {
        return key;
    }
    QJsonObject object = document.object();
    key.valid = true;
    key.stream = object.value(QLatin1String("stream")).toBool(false);
    key.includeUsage =
        key.stream && object.value(QLatin1String("stream_options")).toObject().value(QLatin1String("include_usage")).toBool(false);
    for (const char *field : IGNORED_FIELDS) {
        object.remove(QLatin1String(field));
    }
    // Length-prefixed parts: no two different (route, scope) pairs spell the same prefix.
    QByteArray prefix = "switchyard-cache-v1\n" + endpointName(endpoint) + '\n' + QByteArray::number(route.size()) + ':' +
                        route.toByteArray() + '\n' + QByteArray::number(scope.size()) + ':' + scope.toByteArray() + '\n' +
                        (key.stream ? "stream" : "whole") + (key.includeUsage ? "+usage" : "") + '\n';
    key.exact = digest(prefix, object);
    key.lastUserText = takeLastUserText(endpoint, object);
    key.context = digest("context\n" + prefix, object);
    return key;
}

} // namespace Gateway::Cache
