#include "streamcontinuation.h"

#include "sseeventsplitter.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace Gateway::Proxy {

StreamContinuation::StreamContinuation(Format format)
    : m_format {format}
{
}

void StreamContinuation::observe(QByteArrayView event)
{
    if (m_overflowed) {
        return;
    }
    if (m_kept.size() + event.size() > MAX_KEPT_BYTES) {
        m_overflowed = true;
        m_kept = QByteArray();
        return;
    }
    m_kept.append(event.data(), event.size());
}

QByteArray StreamContinuation::partialText() const
{
    QByteArray partial;
    SseEventSplitter splitter;
    splitter.feed(m_kept, [this, &partial](QByteArrayView event) {
        const SseEventFields fields = parseSseEvent(event);
        if (fields.data.isEmpty() || fields.data == "[DONE]") {
            return;
        }
        const QJsonObject object = QJsonDocument::fromJson(fields.data).object();
        if (m_format == Format::Anthropic) {
            if (object.value(QStringLiteral("type")).toString() == u"content_block_delta") {
                partial += object.value(QStringLiteral("delta")).toObject().value(QStringLiteral("text")).toString().toUtf8();
            }
            return;
        }
        const QJsonObject choice = object.value(QStringLiteral("choices")).toArray().at(0).toObject();
        const QJsonValue delta = choice.value(QStringLiteral("delta"));
        if (delta.isObject()) {
            partial += delta.toObject().value(QStringLiteral("content")).toString().toUtf8();
        } else {
            partial += choice.value(QStringLiteral("text")).toString().toUtf8(); // legacy completions
        }
    });
    return partial;
}

QByteArray StreamContinuation::continuationBody(QByteArrayView body, bool continueFinalMessage) const
{
    QJsonObject request = QJsonDocument::fromJson(body.toByteArray()).object();
    QJsonArray messages = request.value(QStringLiteral("messages")).toArray();
    messages.append(QJsonObject {{QStringLiteral("role"), QStringLiteral("assistant")},
                                 {QStringLiteral("content"), QString::fromUtf8(partialText())}});
    request.insert(QStringLiteral("messages"), messages);
    if (m_format == Format::OpenAi && continueFinalMessage) {
        request.insert(QStringLiteral("continue_final_message"), true);
        request.insert(QStringLiteral("add_generation_prompt"), false);
    }
    return QJsonDocument(request).toJson(QJsonDocument::Compact);
}

bool StreamContinuation::isPreamble(QByteArrayView event) const
{
    if (m_format != Format::Anthropic) {
        return false;
    }
    const QByteArray name = parseSseEvent(event).name;
    return name == "message_start" || name == "content_block_start" || name == "ping";
}

} // namespace Gateway::Proxy
