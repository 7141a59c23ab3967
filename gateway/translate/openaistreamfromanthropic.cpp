#include "openaistreamfromanthropic.h"

#include "proxy/sseeventsplitter.h"
#include "responsetranslation.h"

namespace Gateway::Translate {

namespace {

using Dom::Element;
using Dom::Object;

// Content block indices beyond this are ignored: a bound on the index table.
constexpr qint64 MAX_BLOCKS = 4096;

} // namespace

OpenAiStreamFromAnthropic::OpenAiStreamFromAnthropic(const StreamOptions &options)
    : m_options {options}
{
}

void OpenAiStreamFromAnthropic::beginChunk(QByteArray &out) const
{
    out += "data: {\"id\":";
    JsonBuilder {out}.string(QByteArrayView {m_id});
    out += ",\"object\":\"chat.completion.chunk\",\"created\":" + QByteArray::number(m_options.created) + ",\"model\":";
    JsonBuilder {out}.string(QByteArrayView {m_model});
    out += ",\"choices\":[{\"index\":0,\"delta\":";
}

void OpenAiStreamFromAnthropic::endChunk(QByteArray &out, QByteArrayView finishReason) const
{
    out += ",\"logprobs\":null,\"finish_reason\":";
    if (finishReason.isEmpty()) {
        out += "null";
    } else {
        JsonBuilder {out}.string(finishReason);
    }
    out += "}]}\n\n";
}

void OpenAiStreamFromAnthropic::translateEvent(QByteArrayView event, QByteArray &out)
{
    if (m_done) {
        return;
    }
    const Proxy::SseEventFields fields = Proxy::parseSseEvent(event);
    Element document;
    Object root;
    if (fields.data.isEmpty() || !Dom::parse(fields.data, document) || document.get_object().get(root) != simdjson::SUCCESS) {
        return;
    }
    // The JSON's own type; the event name only when the payload omits it.
    std::string_view type = Dom::string(root, "type");
    if (type.empty()) {
        type = std::string_view {fields.name.constData(), static_cast<std::size_t>(fields.name.size())};
    }
    if (type == "message_start") {
        Object message;
        if (Dom::memberObject(root, "message", message)) {
            if (const std::string_view id = Dom::string(message, "id"); !id.empty()) {
                m_id = Dom::bytes(id);
            }
            m_model = Dom::bytes(Dom::string(message, "model"));
            Object usage;
            if (Dom::memberObject(message, "usage", usage)) {
                readAnthropicUsage(usage, m_usage);
            }
        }
        beginChunk(out);
        out += "{\"role\":\"assistant\",\"content\":\"\"}";
        endChunk(out);
    } else if (type == "content_block_start") {
        const qint64 index = Dom::integer(root, "index", -1);
        Object block;
        if (index < 0 || index >= MAX_BLOCKS || !Dom::memberObject(root, "content_block", block)) {
            return;
        }
        const std::string_view blockType = Dom::string(block, "type");
        const auto slot = static_cast<std::size_t>(index);
        m_blockTools.resize(std::max(m_blockTools.size(), slot + 1), -1);
        if (blockType == "tool_use") {
            const int tool = m_tools++;
            m_blockTools[slot] = tool;
            beginChunk(out);
            JsonBuilder json {out};
            json.beginObject().key("tool_calls").beginArray().beginObject().key("index").number(tool);
            json.member("id", Dom::string(block, "id")).member("type", "function").key("function").beginObject();
            json.member("name", Dom::string(block, "name")).member("arguments", "").endObject();
            json.endObject().endArray().endObject();
            endChunk(out);
        } else if (blockType == "text") {
            if (const std::string_view text = Dom::string(block, "text"); !text.empty()) {
                beginChunk(out);
                JsonBuilder {out}.beginObject().member("content", text).endObject();
                endChunk(out);
            }
        }
    } else if (type == "content_block_delta") {
        const qint64 index = Dom::integer(root, "index", -1);
        Object delta;
        if (!Dom::memberObject(root, "delta", delta)) {
            return;
        }
        const std::string_view deltaType = Dom::string(delta, "type");
        if (deltaType == "text_delta") {
            beginChunk(out);
            JsonBuilder {out}.beginObject().member("content", Dom::string(delta, "text")).endObject();
            endChunk(out);
        } else if (deltaType == "input_json_delta" && index >= 0 && static_cast<std::size_t>(index) < m_blockTools.size() &&
                   m_blockTools[static_cast<std::size_t>(index)] >= 0) {
            beginChunk(out);
            JsonBuilder json {out};
            json.beginObject().key("tool_calls").beginArray().beginObject();
            json.key("index").number(m_blockTools[static_cast<std::size_t>(index)]).key("function").beginObject();
            json.member("arguments", Dom::string(delta, "partial_json")).endObject();
            json.endObject().endArray().endObject();
            endChunk(out);
        }
        // thinking_delta, signature_delta, citations_delta: no OpenAI equivalent.
    } else if (type == "message_delta") {
        Object usage;
        if (Dom::memberObject(root, "usage", usage)) {
            readAnthropicUsage(usage, m_usage);
        }
        Object delta;
        std::string_view stop;
        if (Dom::memberObject(root, "delta", delta)) {
            stop = Dom::string(delta, "stop_reason");
        }
        if (!stop.empty() && !m_sentFinish) {
            m_sentFinish = true;
            beginChunk(out);
            out += "{}";
            endChunk(out, openAiFinishReason(stop));
        }
    } else if (type == "message_stop") {
        endMessage(out);
    } else if (type == "error") {
        // OpenAI's in-stream error shape, and no [DONE]: the answer reads as incomplete.
        const TranslatedError translated =
            translateErrorResponse(Config::WireFormat::Anthropic, Config::WireFormat::OpenAi, 500, fields.data);
        out += "data: " + translated.body + "\n\n";
        m_done = true;
    }
    // ping and unknown events: nothing for the client.
}

void OpenAiStreamFromAnthropic::finish(QByteArray &out)
{
    if (!m_done && m_sentFinish) {
        endMessage(out);
    }
}

void OpenAiStreamFromAnthropic::endMessage(QByteArray &out)
{
    if (!m_sentFinish) {
        m_sentFinish = true;
        beginChunk(out);
        out += "{}";
        endChunk(out, "stop");
    }
    if (m_options.includeUsage) {
        out += "data: {\"id\":";
        JsonBuilder {out}.string(QByteArrayView {m_id});
        out += ",\"object\":\"chat.completion.chunk\",\"created\":" + QByteArray::number(m_options.created) + ",\"model\":";
        JsonBuilder {out}.string(QByteArrayView {m_model});
        out += ",\"choices\":[],\"usage\":";
        JsonBuilder json {out};
        writeOpenAiUsage(json, m_usage);
        out += "}\n\n";
    }
    out += "data: [DONE]\n\n";
    m_done = true;
}

} // namespace Gateway::Translate
