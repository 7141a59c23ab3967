#include "streamcontinuation.h"

#include "sseeventsplitter.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <simdjson.h>

#include <string_view>

namespace Gateway::Proxy {

StreamContinuation::StreamContinuation(Format format)
    : m_format {format}
{
}

namespace {

// This file's own parser: observe() runs inside the stream's event callback, where a
// translator's document from the shared per-thread parser (translate/domaccess) may
// still be in use.
bool parseEvent(QByteArrayView json, simdjson::dom::element &out)
{
    thread_local simdjson::dom::parser parser;
    return !json.isEmpty() &&
           parser.parse(json.data(), static_cast<std::size_t>(json.size())).get(out) == simdjson::SUCCESS;
}

std::string_view textOf(const simdjson::dom::element &event, StreamContinuation::Format format)
{
    std::string_view text;
    if (format == StreamContinuation::Format::Anthropic) {
        std::string_view type;
        if (event["type"].get_string().get(type) != simdjson::SUCCESS || type != "content_block_delta" ||
            event["delta"]["text"].get_string().get(text) != simdjson::SUCCESS) {
            return {};
        }
        return text;
    }
    simdjson::dom::element choice;
    if (event["choices"].at(0).get(choice) != simdjson::SUCCESS) {
        return {};
    }
    simdjson::dom::element delta;
    if (choice["delta"].get(delta) == simdjson::SUCCESS && delta.is_object()) {
        return delta["content"].get_string().get(text) == simdjson::SUCCESS ? text : std::string_view {};
    }
    return choice["text"].get_string().get(text) == simdjson::SUCCESS ? text : std::string_view {}; // legacy completions
}

} // namespace

void StreamContinuation::observe(QByteArrayView event)
{
    if (m_overflowed) {
        return;
    }
    // Servers send one data line per event: read it in place, and join lines only
    // for events that have several.
    QByteArray joined;
    QByteArrayView data;
    if (const std::optional<QByteArrayView> single = singleSseData(event)) {
        data = *single;
    } else {
        joined = parseSseEvent(event).data;
        data = joined;
    }
    simdjson::dom::element parsed;
    if (data.isEmpty() || data == "[DONE]" || !parseEvent(data, parsed)) {
        return;
    }
    const std::string_view text = textOf(parsed, m_format);
    if (m_text.size() + static_cast<qsizetype>(text.size()) > MAX_KEPT_BYTES) {
        m_overflowed = true;
        m_text = QByteArray();
        return;
    }
    m_text.append(text.data(), static_cast<qsizetype>(text.size()));
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
