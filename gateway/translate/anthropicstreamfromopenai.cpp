#include "anthropicstreamfromopenai.h"

#include "proxy/sseeventsplitter.h"
#include "responsetranslation.h"

namespace Gateway::Translate {

namespace {

using Dom::Array;
using Dom::Element;
using Dom::Object;

void appendEvent(QByteArray &out, QByteArrayView name, QByteArrayView json)
{
    out += "event: ";
    out += name;
    out += "\ndata: ";
    out += json;
    out += "\n\n";
}

} // namespace

void AnthropicStreamFromOpenAi::translateEvent(QByteArrayView event, QByteArray &out)
{
    if (m_done) {
        return;
    }
    const Proxy::SseEventFields fields = Proxy::parseSseEvent(event);
    const QByteArray data = fields.data.trimmed();
    if (data.isEmpty()) {
        return;
    }
    if (data == "[DONE]") {
        endMessage(out);
        return;
    }
    Element document;
    Object chunk;
    if (!Dom::parse(data, document) || document.get_object().get(chunk) != simdjson::SUCCESS) {
        return; // not a chunk: nothing a client could use
    }
    Object error;
    if (Dom::memberObject(chunk, "error", error)) {
        // The upstream failed mid-stream: the client gets Anthropic's error event and no
        // message_stop, so the answer reads as incomplete.
        const TranslatedError translated =
            translateErrorResponse(Config::WireFormat::OpenAi, Config::WireFormat::Anthropic, 500, data);
        appendEvent(out, "error", translated.body);
        m_done = true;
        return;
    }
    if (!m_started) {
        start(Dom::view(Dom::string(chunk, "id")), Dom::view(Dom::string(chunk, "model")), out);
    }
    Array choices;
    Object choice;
    if (Dom::memberArray(chunk, "choices", choices) && choices.begin() != choices.end() &&
        (*choices.begin()).get_object().get(choice) == simdjson::SUCCESS) {
        Object delta;
        if (Dom::memberObject(choice, "delta", delta)) {
            std::string_view text = Dom::string(delta, "content");
            if (text.empty()) {
                text = Dom::string(delta, "refusal");
            }
            if (!text.empty()) {
                if (m_openKind != Block::Text) {
                    openBlock(Block::Text, out);
                }
                QByteArray json = "{\"type\":\"content_block_delta\",\"index\":" + QByteArray::number(m_openBlock) +
                                  ",\"delta\":{\"type\":\"text_delta\",\"text\":";
                JsonBuilder {json}.string(text);
                json += "}}";
                appendEvent(out, "content_block_delta", json);
            }
            Array calls;
            if (Dom::memberArray(delta, "tool_calls", calls)) {
                for (Element call : calls) {
                    Object object;
                    if (call.get_object().get(object) != simdjson::SUCCESS) {
                        continue;
                    }
                    const qint64 index = Dom::integer(object, "index", 0);
                    if (index < 0 || index > 1024) {
                        continue; // no model calls a thousand tools at once; a bound keeps the table small
                    }
                    // A call without a function object still opens its block, with no
                    // name or arguments to add (a default-constructed object is unusable).
                    Object function;
                    const bool hasFunction = Dom::memberObject(object, "function", function);
                    const auto slot = static_cast<std::size_t>(index);
                    if (slot >= m_toolBlocks.size() || m_toolBlocks[slot] < 0) {
                        m_toolBlocks.resize(std::max(m_toolBlocks.size(), slot + 1), -1);
                        QByteArray id = Dom::bytes(Dom::string(object, "id"));
                        if (id.isEmpty()) {
                            id = "call_" + QByteArray::number(index);
                        }
                        openBlock(Block::Tool, out, id, hasFunction ? Dom::view(Dom::string(function, "name")) : QByteArrayView {});
                        m_toolBlocks[slot] = m_openBlock;
                    }
                    const std::string_view arguments = hasFunction ? Dom::string(function, "arguments") : std::string_view {};
                    if (!arguments.empty()) {
                        // A fragment for a call whose block was already closed (calls
                        // interleaved) still goes to that block's index.
                        QByteArray json = "{\"type\":\"content_block_delta\",\"index\":" +
                                          QByteArray::number(m_toolBlocks[slot]) +
                                          ",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":";
                        JsonBuilder {json}.string(arguments);
                        json += "}}";
                        appendEvent(out, "content_block_delta", json);
                    }
                }
            }
        }
        const std::string_view finish = Dom::string(choice, "finish_reason");
        if (!finish.empty()) {
            m_stopReason = anthropicStopReason(finish).toByteArray();
            closeBlock(out);
        }
    }
    Object usage;
    if (Dom::memberObject(chunk, "usage", usage)) {
        readOpenAiUsage(usage, m_usage);
    }
}

void AnthropicStreamFromOpenAi::finish(QByteArray &out)
{
    if (!m_done && !m_stopReason.isEmpty()) {
        endMessage(out);
    }
}

void AnthropicStreamFromOpenAi::start(QByteArrayView id, QByteArrayView model, QByteArray &out)
{
    m_started = true;
    QByteArray json;
    JsonBuilder builder {json};
    builder.beginObject().member("type", "message_start").key("message").beginObject();
    builder.member("id", id.isEmpty() ? QByteArrayView {"msg_translated"} : id).member("type", "message");
    builder.member("role", "assistant").member("model", model).key("content").beginArray().endArray();
    builder.key("stop_reason").null().key("stop_sequence").null();
    // OpenAI reports usage only at the end: message_delta carries it.
    builder.key("usage").beginObject().key("input_tokens").number(0).key("output_tokens").number(0).endObject();
    builder.endObject().endObject();
    appendEvent(out, "message_start", json);
}

void AnthropicStreamFromOpenAi::openBlock(Block kind, QByteArray &out, QByteArrayView toolId, QByteArrayView toolName)
{
    closeBlock(out);
    m_openBlock = m_nextBlock++;
    m_openKind = kind;
    QByteArray json = "{\"type\":\"content_block_start\",\"index\":" + QByteArray::number(m_openBlock) + ",\"content_block\":";
    JsonBuilder builder {json};
    if (kind == Block::Text) {
        builder.beginObject().member("type", "text").member("text", "").endObject();
    } else {
        builder.beginObject().member("type", "tool_use").member("id", toolId).member("name", toolName);
        builder.key("input").beginObject().endObject().endObject();
    }
    json += '}';
    appendEvent(out, "content_block_start", json);
}

void AnthropicStreamFromOpenAi::closeBlock(QByteArray &out)
{
    if (m_openBlock < 0) {
        return;
    }
    appendEvent(out, "content_block_stop",
                QByteArray("{\"type\":\"content_block_stop\",\"index\":" + QByteArray::number(m_openBlock) + '}'));
    m_openBlock = -1;
    m_openKind = Block::None;
}

void AnthropicStreamFromOpenAi::endMessage(QByteArray &out)
{
    if (!m_started) {
        start({}, {}, out);
    }
    closeBlock(out);
    QByteArray json;
    JsonBuilder builder {json};
    builder.beginObject().member("type", "message_delta").key("delta").beginObject();
    builder.member("stop_reason", m_stopReason.isEmpty() ? QByteArrayView {"end_turn"} : QByteArrayView {m_stopReason});
    builder.key("stop_sequence").null().endObject().key("usage");
    writeAnthropicUsage(builder, m_usage);
    builder.endObject();
    appendEvent(out, "message_delta", json);
    appendEvent(out, "message_stop", "{\"type\":\"message_stop\"}");
    m_done = true;
}

} // namespace Gateway::Translate
