#include "jsonrpcmessages.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace Gateway::Mcp {

namespace {

RpcMessage messageOf(const QJsonObject &object)
{
    RpcMessage message;
    message.method = object.value(QLatin1String("method")).toString().toUtf8();
    message.id = object.value(QLatin1String("id"));
    if (message.method == "tools/call") {
        message.tool = object.value(QLatin1String("params")).toObject().value(QLatin1String("name")).toString().toUtf8();
    }
    return message;
}

// Every message object of a body that is one message or a batch.
template <typename Visit>
bool forEachMessage(QJsonDocument &document, Visit &&visit)
{
    bool changed = false;
    if (document.isObject()) {
        QJsonObject object = document.object();
        if (visit(object)) {
            document.setObject(object);
            changed = true;
        }
    } else if (document.isArray()) {
        QJsonArray array = document.array();
        for (qsizetype i = 0; i < array.size(); ++i) {
            QJsonObject object = array.at(i).toObject();
            if (visit(object)) {
                array.replace(i, object);
                changed = true;
            }
        }
        if (changed) {
            document.setArray(array);
        }
    }
    return changed;
}

} // namespace

QByteArray InboundBody::methodLabel() const
{
    if (!valid) {
        return QByteArrayLiteral("invalid");
    }
    if (batch) {
        return QByteArrayLiteral("batch");
    }
    const RpcMessage &message = messages.front();
    return message.method.isEmpty() ? QByteArrayLiteral("response") : message.method;
}

InboundBody parseInbound(QByteArrayView body)
{
    InboundBody inbound;
    QJsonParseError error {};
    const QJsonDocument document = QJsonDocument::fromJson(body.toByteArray(), &error);
    if (error.error != QJsonParseError::NoError) {
        return inbound;
    }
    if (document.isObject()) {
        inbound.messages.push_back(messageOf(document.object()));
    } else if (document.isArray()) {
        inbound.batch = true;
        for (const QJsonValue &value : document.array()) {
            if (!value.isObject()) {
                return inbound;
            }
            inbound.messages.push_back(messageOf(value.toObject()));
        }
    }
    inbound.valid = !inbound.messages.empty();
    return inbound;
}

QByteArray rpcError(const QJsonValue &id, int code, const QByteArray &message)
{
    QJsonObject error;
    error.insert(QLatin1String("code"), code);
    error.insert(QLatin1String("message"), QString::fromUtf8(message));
    QJsonObject response;
    response.insert(QLatin1String("jsonrpc"), QLatin1String("2.0"));
    response.insert(QLatin1String("id"), id.isUndefined() ? QJsonValue(QJsonValue::Null) : id);
    response.insert(QLatin1String("error"), error);
    return QJsonDocument(response).toJson(QJsonDocument::Compact);
}

bool filterToolLists(QByteArray &json, const QList<QJsonValue> &listIds, const ToolFilter &filter)
{
    if (filter.all || listIds.isEmpty()) {
        return false;
    }
    QJsonDocument document = QJsonDocument::fromJson(json);
    const bool changed = forEachMessage(document, [&](QJsonObject &message) {
        if (!listIds.contains(message.value(QLatin1String("id"))) || !message.contains(QLatin1String("result"))) {
            return false;
        }
        QJsonObject result = message.value(QLatin1String("result")).toObject();
        const QJsonArray tools = result.value(QLatin1String("tools")).toArray();
        QJsonArray kept;
        for (const QJsonValue &tool : tools) {
            if (filter.allows(tool.toObject().value(QLatin1String("name")).toString().toUtf8())) {
                kept.append(tool);
            }
        }
        if (kept.size() == tools.size()) {
            return false;
        }
        result.insert(QLatin1String("tools"), kept);
        message.insert(QLatin1String("result"), result);
        return true;
    });
    if (changed) {
        json = document.toJson(QJsonDocument::Compact);
    }
    return changed;
}

QByteArray toolCallOutcome(QByteArrayView json, const QJsonValue &id)
{
    QJsonDocument document = QJsonDocument::fromJson(json.toByteArray());
    QByteArray outcome;
    forEachMessage(document, [&](QJsonObject &message) {
        if (message.value(QLatin1String("id")) != id) {
            return false;
        }
        if (message.contains(QLatin1String("error"))) {
            outcome = QByteArrayLiteral("error");
        } else if (message.contains(QLatin1String("result"))) {
            const bool isError = message.value(QLatin1String("result")).toObject().value(QLatin1String("isError")).toBool();
            outcome = isError ? QByteArrayLiteral("error") : QByteArrayLiteral("ok");
        }
        return false;
    });
    return outcome;
}

QByteArray withSseData(QByteArrayView event, const QByteArray &data)
{
    QByteArray out;
    out.reserve(event.size() + data.size());
    bool dataWritten = false;
    qsizetype start = 0;
    while (start < event.size()) {
        qsizetype end = start;
        while (end < event.size() && event[end] != '\n' && event[end] != '\r') {
            ++end;
        }
        const QByteArrayView line = event.sliced(start, end - start);
        // Past the line break (CRLF counts as one).
        start = end + ((end + 1 < event.size() && event[end] == '\r' && event[end + 1] == '\n') ? 2 : 1);
        if (line.isEmpty()) {
            continue;
        }
        if (line == "data" || line.startsWith("data:")) {
            if (!dataWritten) {
                out += "data: " + data + '\n';
                dataWritten = true;
            }
            continue;
        }
        out += line;
        out += '\n';
    }
    if (!dataWritten) {
        out += "data: " + data + '\n';
    }
    out += '\n';
    return out;
}

} // namespace Gateway::Mcp
