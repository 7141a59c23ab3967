// Anthropic messages request -> OpenAI chat completions request.
#include "requesttranslation.h"

#include "domaccess.h"
#include "fieldmapping.h"
#include "jsonbuilder.h"

namespace Gateway::Translate {

namespace {

using Dom::Array;
using Dom::Element;
using Dom::Object;

// System prompt or tool result content: a string or text blocks, joined. Other blocks
// (images inside a tool result) have no place in an OpenAI text field and are dropped.
Expected<QByteArray, TranslationError> joinedText(Element content, const QByteArray &path)
{
    std::string_view text;
    if (content.get_string().get(text) == simdjson::SUCCESS) {
        return Dom::bytes(text);
    }
    Array blocks;
    if (content.get_array().get(blocks) != simdjson::SUCCESS) {
        return fieldError(path, "must be a string or an array of blocks");
    }
    QByteArray joined;
    for (Element block : blocks) {
        Object object;
        if (block.get_object().get(object) == simdjson::SUCCESS && Dom::string(object, "type") == "text") {
            joined += (joined.isEmpty() ? "" : "\n") + Dom::bytes(Dom::string(object, "text"));
        }
    }
    return joined;
}

Expected<QByteArray, TranslationError> imagePart(Object block, const QByteArray &path)
{
    Object source;
    if (!Dom::memberObject(block, "source", source)) {
        return fieldError(path + ".source", "is missing");
    }
    const std::string_view type = Dom::string(source, "type");
    QByteArray url;
    if (type == "base64") {
        url = "data:" + Dom::bytes(Dom::string(source, "media_type")) + ";base64," + Dom::bytes(Dom::string(source, "data"));
    } else if (type == "url") {
        url = Dom::bytes(Dom::string(source, "url"));
    } else {
        return fieldError(path + ".source.type", "'" + Dom::bytes(type) + "' has no OpenAI equivalent (base64 or url)");
    }
    QByteArray part;
    JsonBuilder {part}.beginObject().member("type", "image_url").key("image_url").beginObject().member("url", url).endObject().endObject();
    return part;
}

// One Anthropic message as one or more OpenAI messages, appended to `out` (each with a
// leading comma): tool results become tool messages, ahead of the rest of the turn.
Expected<bool, TranslationError> appendMessage(Object message, const QByteArray &path, QByteArray &out)
{
    const std::string_view role = Dom::string(message, "role");
    if (role != "user" && role != "assistant") {
        return fieldError(path + ".role", "must be user or assistant");
    }
    Element content;
    if (!Dom::member(message, "content", content)) {
        return fieldError(path + ".content", "is missing");
    }
    std::string_view text;
    if (content.get_string().get(text) == simdjson::SUCCESS) {
        out += ',';
        JsonBuilder {out}.beginObject().member("role", role).member("content", text).endObject();
        return true;
    }
    Array blocks;
    if (content.get_array().get(blocks) != simdjson::SUCCESS) {
        return fieldError(path + ".content", "must be a string or an array of blocks");
    }
    const bool assistant = role == "assistant";
    QByteArray parts;      // user: content parts
    QByteArray assistantText;
    QByteArray toolCalls;  // assistant: tool_calls entries
    QByteArray firstText;  // user: the text when it is the only block
    int textParts = 0;
    bool onlyText = true;
    std::size_t index = 0;
    for (Element block : blocks) {
        const QByteArray blockPath = indexPath(path + ".content", index++);
        Object object;
        if (block.get_object().get(object) != simdjson::SUCCESS) {
            return fieldError(blockPath, "must be an object");
        }
        const std::string_view type = Dom::string(object, "type");
        if (type == "text") {
            const std::string_view blockText = Dom::string(object, "text");
            if (assistant) {
                assistantText += Dom::bytes(blockText);
            } else {
                parts += parts.isEmpty() ? "" : ",";
                JsonBuilder {parts}.beginObject().member("type", "text").member("text", blockText).endObject();
                if (textParts++ == 0) {
                    firstText = Dom::bytes(blockText);
                }
            }
        } else if (type == "image" && !assistant) {
            auto image = imagePart(object, blockPath);
            if (!image) {
                return Unexpected {image.error()};
            }
            parts += (parts.isEmpty() ? "" : ",") + *image;
            onlyText = false;
        } else if (type == "tool_result" && !assistant) {
            QByteArray result;
            Element resultContent;
            if (Dom::member(object, "content", resultContent)) {
                auto joined = joinedText(resultContent, blockPath + ".content");
                if (!joined) {
                    return Unexpected {joined.error()};
                }
                result = *joined;
            }
            out += ',';
            JsonBuilder {out}
                .beginObject()
                .member("role", "tool")
                .member("tool_call_id", Dom::string(object, "tool_use_id"))
                .member("content", result)
                .endObject();
        } else if (type == "tool_use" && assistant) {
            appendOpenAiToolCall(toolCalls, object);
        } else if (type == "thinking" || type == "redacted_thinking") {
            // Reasoning of an earlier turn: OpenAI-format models take none back.
        } else {
            return fieldError(blockPath + ".type", "'" + Dom::bytes(type) + "' has no OpenAI equivalent here");
        }
    }
    if (assistant) {
        if (assistantText.isEmpty() && toolCalls.isEmpty()) {
            return true;
        }
        out += ',';
        JsonBuilder json {out};
        json.beginObject().member("role", "assistant").key("content");
        if (assistantText.isEmpty()) {
            json.null();
        } else {
            json.string(QByteArrayView {assistantText});
        }
        if (!toolCalls.isEmpty()) {
            json.key("tool_calls").raw(QByteArray('[' + toolCalls + ']'));
        }
        json.endObject();
        return true;
    }
    if (parts.isEmpty()) {
        return true;
    }
    out += ",{\"role\":\"user\",\"content\":";
    if (onlyText && textParts == 1) {
        // One text block: the plain string every OpenAI-compatible server accepts.
        JsonBuilder {out}.string(QByteArrayView {firstText});
    } else {
        out += '[' + parts + ']';
    }
    out += '}';
    return true;
}

} // namespace

Expected<QByteArray, TranslationError> openAiRequestFromAnthropic(QByteArrayView body, QByteArrayView upstreamModel)
{
    Element document;
    Object root;
    if (!Dom::parse(body, document) || document.get_object().get(root) != simdjson::SUCCESS) {
        return Unexpected {TranslationError {"the body must be a JSON object", {}}};
    }
    QByteArray out;
    out.reserve(body.size() + 256);
    JsonBuilder json {out};
    json.beginObject().member("model", upstreamModel);

    QByteArray messages;
    Element system;
    if (Dom::member(root, "system", system)) {
        auto text = joinedText(system, "system");
        if (!text) {
            return Unexpected {text.error()};
        }
        if (!text->isEmpty()) {
            messages += ',';
            JsonBuilder {messages}.beginObject().member("role", "system").member("content", *text).endObject();
        }
    }
    Array list;
    if (!Dom::memberArray(root, "messages", list)) {
        return fieldError("messages", "must be an array");
    }
    std::size_t index = 0;
    for (Element message : list) {
        const QByteArray path = indexPath("messages", index++);
        Object object;
        if (message.get_object().get(object) != simdjson::SUCCESS) {
            return fieldError(path, "must be an object");
        }
        auto appended = appendMessage(object, path, messages);
        if (!appended) {
            return Unexpected {appended.error()};
        }
    }
    if (messages.isEmpty()) {
        return fieldError("messages", "must not be empty");
    }
    json.key("messages").raw(QByteArray('[' + messages.mid(1) + ']'));

    bool stream = false;
    QByteArray toolChoice;
    bool hasTools = false;
    bool serialTools = false;
    for (auto [key, value] : root) {
        if (key == "max_tokens") {
            int64_t limit = 0;
            if (value.get_int64().get(limit) != simdjson::SUCCESS || limit < 1) {
                return fieldError("max_tokens", "must be a positive integer");
            }
            json.key("max_tokens").number(limit);
        } else if (key == "temperature" || key == "top_p") {
            if (!value.is_number()) {
                return fieldError(Dom::bytes(key), "must be a number");
            }
            json.key(Dom::view(key)).raw(Dom::json(value));
        } else if (key == "stop_sequences") {
            if (!value.is_array()) {
                return fieldError("stop_sequences", "must be an array of strings");
            }
            json.key("stop").raw(Dom::json(value));
        } else if (key == "stream") {
            if (value.get_bool().get(stream) != simdjson::SUCCESS) {
                return fieldError("stream", "must be a boolean");
            }
        } else if (key == "metadata") {
            Object metadata;
            if (value.get_object().get(metadata) == simdjson::SUCCESS) {
                if (const std::string_view user = Dom::string(metadata, "user_id"); !user.empty()) {
                    json.member("user", user);
                }
            }
        } else if (key == "tools") {
            Array tools;
            if (value.get_array().get(tools) != simdjson::SUCCESS) {
                return fieldError("tools", "must be an array");
            }
            json.key("tools").beginArray();
            std::size_t toolIndex = 0;
            for (Element tool : tools) {
                const QByteArray toolPath = indexPath("tools", toolIndex++);
                Object object;
                if (tool.get_object().get(object) != simdjson::SUCCESS) {
                    return fieldError(toolPath, "must be an object");
                }
                const std::string_view type = Dom::string(object, "type", "custom");
                if (type != "custom") {
                    return fieldError(toolPath + ".type", "'" + Dom::bytes(type) + "' is a server tool with no OpenAI equivalent");
                }
                const std::string_view name = Dom::string(object, "name");
                if (name.empty()) {
                    return fieldError(toolPath + ".name", "is missing");
                }
                json.beginObject().member("type", "function").key("function").beginObject().member("name", name);
                if (const std::string_view description = Dom::string(object, "description"); !description.empty()) {
                    json.member("description", description);
                }
                Element schema;
                if (Dom::member(object, "input_schema", schema)) {
                    json.key("parameters").raw(Dom::json(schema));
                }
                json.endObject().endObject();
                hasTools = true;
            }
            json.endArray();
        } else if (key == "tool_choice") {
            Object choice;
            if (value.get_object().get(choice) != simdjson::SUCCESS) {
                return fieldError("tool_choice", "must be an object");
            }
            const std::string_view type = Dom::string(choice, "type");
            if (type == "auto") {
                toolChoice = "\"auto\"";
            } else if (type == "any") {
                toolChoice = "\"required\"";
            } else if (type == "none") {
                toolChoice = "\"none\"";
            } else if (type == "tool") {
                toolChoice = "{\"type\":\"function\",\"function\":{\"name\":";
                JsonBuilder {toolChoice}.string(Dom::string(choice, "name"));
                toolChoice += "}}";
            } else {
                return fieldError("tool_choice.type", "must be auto, any, tool or none");
            }
            bool serial = false;
            serialTools = choice["disable_parallel_tool_use"].get_bool().get(serial) == simdjson::SUCCESS && serial;
        }
        // Everything else has no OpenAI equivalent and is dropped (docs/TRANSLATION.md).
    }
    if (hasTools && !toolChoice.isEmpty()) {
        json.key("tool_choice").raw(QByteArrayView {toolChoice});
    }
    if (hasTools && serialTools) {
        json.key("parallel_tool_calls").boolean(false);
    }
    if (stream) {
        // The Anthropic stream reports usage; OpenAI sends it only when asked.
        json.key("stream").boolean(true).key("stream_options").raw(QByteArrayView {"{\"include_usage\":true}"});
    }
    json.endObject();
    return out;
}

} // namespace Gateway::Translate
