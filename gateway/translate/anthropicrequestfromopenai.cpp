// OpenAI chat completions request -> Anthropic messages request.
#include "requesttranslation.h"

#include "domaccess.h"
#include "jsonbuilder.h"

#include <vector>

namespace Gateway::Translate {

namespace {

using Dom::Array;
using Dom::Element;
using Dom::Object;

// One Anthropic message under construction: its role and its content blocks, already
// serialised and comma-separated. Consecutive messages of one role are merged, as the
// Messages API wants turns to alternate and tool results gathered in one user turn.
struct Turn {
    bool assistant = false;
    QByteArray blocks;
};

void addBlocks(std::vector<Turn> &turns, bool assistant, const QByteArray &blocks)
{
    if (blocks.isEmpty()) {
        return;
    }
    if (!turns.empty() && turns.back().assistant == assistant) {
        turns.back().blocks += ',' + blocks;
        return;
    }
    turns.push_back({assistant, blocks});
}

void textBlock(QByteArray &blocks, std::string_view text)
{
    if (!blocks.isEmpty()) {
        blocks += ',';
    }
    JsonBuilder {blocks}.beginObject().member("type", "text").member("text", text).endObject();
}

// "data:image/png;base64,AAAA" -> base64 source; http(s) URLs -> url source.
Expected<QByteArray, TranslationError> imageBlock(Element part, const QByteArray &path)
{
    std::string_view url;
    Object imageUrl;
    if (part.get_object().value()["image_url"].get_string().get(url) != simdjson::SUCCESS) {
        if (!Dom::memberObject(part.get_object().value(), "image_url", imageUrl)) {
            return fieldError(path + ".image_url", "must be an object with a url");
        }
        url = Dom::string(imageUrl, "url");
    }
    QByteArray block;
    JsonBuilder json {block};
    json.beginObject().member("type", "image").key("source").beginObject();
    if (url.starts_with("data:")) {
        const std::size_t comma = url.find(',');
        const std::string_view header = url.substr(5, comma == std::string_view::npos ? 0 : comma - 5);
        if (comma == std::string_view::npos || !header.ends_with(";base64")) {
            return fieldError(path + ".image_url.url", "must be a base64 data: URL or an http(s) URL");
        }
        json.member("type", "base64")
            .member("media_type", header.substr(0, header.size() - 7))
            .member("data", url.substr(comma + 1));
    } else if (url.starts_with("https://") || url.starts_with("http://")) {
        json.member("type", "url").member("url", url);
    } else {
        return fieldError(path + ".image_url.url", "must be a base64 data: URL or an http(s) URL");
    }
    json.endObject().endObject();
    return block;
}

// Message content (a string or an array of parts) as Anthropic blocks. Only text (and
// refusal) parts are allowed where `textOnly`; users may send images too.
Expected<QByteArray, TranslationError> contentBlocks(Element content, const QByteArray &path, bool textOnly)
{
    QByteArray blocks;
    std::string_view text;
    if (content.is_null()) {
        return blocks;
    }
    if (content.get_string().get(text) == simdjson::SUCCESS) {
        if (!text.empty()) {
            textBlock(blocks, text);
        }
        return blocks;
    }
    Array parts;
    if (content.get_array().get(parts) != simdjson::SUCCESS) {
        return fieldError(path, "must be a string or an array of content parts");
    }
    std::size_t index = 0;
    for (Element part : parts) {
        const QByteArray partPath = indexPath(path, index++);
        Object object;
        if (part.get_object().get(object) != simdjson::SUCCESS) {
            return fieldError(partPath, "must be an object");
        }
        const std::string_view type = Dom::string(object, "type");
        if (type == "text" || type == "refusal") {
            const std::string_view partText = Dom::string(object, type == "text" ? "text" : "refusal");
            if (!partText.empty()) {
                textBlock(blocks, partText);
            }
        } else if (type == "image_url" && !textOnly) {
            auto image = imageBlock(part, partPath);
            if (!image) {
                return Unexpected {image.error()};
            }
            blocks += (blocks.isEmpty() ? "" : ",") + *image;
        } else {
            return fieldError(partPath + ".type", "'" + Dom::bytes(type) + "' has no Anthropic equivalent here");
        }
    }
    return blocks;
}

// Plain text of a system/developer or tool message.
Expected<QByteArray, TranslationError> plainText(Element content, const QByteArray &path)
{
    std::string_view text;
    if (content.get_string().get(text) == simdjson::SUCCESS) {
        return Dom::bytes(text);
    }
    Array parts;
    if (content.get_array().get(parts) != simdjson::SUCCESS) {
        return fieldError(path, "must be a string or an array of text parts");
    }
    QByteArray joined;
    std::size_t index = 0;
    for (Element part : parts) {
        Object object;
        if (part.get_object().get(object) != simdjson::SUCCESS || Dom::string(object, "type") != "text") {
            return fieldError(indexPath(path, index), "must be a text part");
        }
        joined += (joined.isEmpty() ? "" : "\n") + Dom::bytes(Dom::string(object, "text"));
        ++index;
    }
    return joined;
}

Expected<QByteArray, TranslationError> toolUseBlocks(Array calls, const QByteArray &path)
{
    QByteArray blocks;
    std::size_t index = 0;
    for (Element call : calls) {
        const QByteArray callPath = indexPath(path, index++);
        Object object;
        Object function;
        if (call.get_object().get(object) != simdjson::SUCCESS || !Dom::memberObject(object, "function", function)) {
            return fieldError(callPath, "must be an object with a function");
        }
        const std::string_view name = Dom::string(function, "name");
        if (name.empty()) {
            return fieldError(callPath + ".function.name", "is missing");
        }
        // The arguments are a JSON text in OpenAI and an object in Anthropic.
        std::string_view arguments = Dom::string(function, "arguments");
        if (arguments.empty()) {
            arguments = "{}";
        }
        Element input;
        if (!Dom::parseEmbedded(Dom::view(arguments), input) || !input.is_object()) {
            return fieldError(callPath + ".function.arguments", "must be the JSON text of an object");
        }
        if (!blocks.isEmpty()) {
            blocks += ',';
        }
        JsonBuilder {blocks}
            .beginObject()
            .member("type", "tool_use")
            .member("id", Dom::string(object, "id"))
            .member("name", name)
            .key("input")
            .raw(Dom::json(input))
            .endObject();
    }
    return blocks;
}

} // namespace

Expected<QByteArray, TranslationError> anthropicRequestFromOpenAi(QByteArrayView body, QByteArrayView upstreamModel)
{
    Element document;
    Object root;
    if (!Dom::parse(body, document) || document.get_object().get(root) != simdjson::SUCCESS) {
        return Unexpected {TranslationError {"the body must be a JSON object", {}}};
    }
    QByteArray system;
    std::vector<Turn> turns;
    Array messages;
    if (!Dom::memberArray(root, "messages", messages)) {
        return fieldError("messages", "must be an array");
    }
    std::size_t index = 0;
    for (Element message : messages) {
        const QByteArray path = indexPath("messages", index++);
        Object object;
        if (message.get_object().get(object) != simdjson::SUCCESS) {
            return fieldError(path, "must be an object");
        }
        const std::string_view role = Dom::string(object, "role");
        Element content;
        const bool hasContent = Dom::member(object, "content", content);
        if (role == "system" || role == "developer") {
            if (hasContent) {
                auto text = plainText(content, path + ".content");
                if (!text) {
                    return Unexpected {text.error()};
                }
                system += (system.isEmpty() || text->isEmpty() ? "" : "\n\n") + *text;
            }
        } else if (role == "user") {
            if (!hasContent) {
                return fieldError(path + ".content", "is missing");
            }
            auto blocks = contentBlocks(content, path + ".content", false);
            if (!blocks) {
                return Unexpected {blocks.error()};
            }
            addBlocks(turns, false, *blocks);
        } else if (role == "assistant") {
            QByteArray blocks;
            if (hasContent) {
                auto text = contentBlocks(content, path + ".content", true);
                if (!text) {
                    return Unexpected {text.error()};
                }
                blocks = *text;
            }
            Array calls;
            if (Dom::memberArray(object, "tool_calls", calls)) {
                auto uses = toolUseBlocks(calls, path + ".tool_calls");
                if (!uses) {
                    return Unexpected {uses.error()};
                }
                if (!uses->isEmpty()) {
                    blocks += (blocks.isEmpty() ? "" : ",") + *uses;
                }
            }
            addBlocks(turns, true, blocks);
        } else if (role == "tool") {
            const std::string_view id = Dom::string(object, "tool_call_id");
            if (id.empty()) {
                return fieldError(path + ".tool_call_id", "is missing");
            }
            QByteArray text;
            if (hasContent) {
                auto plain = plainText(content, path + ".content");
                if (!plain) {
                    return Unexpected {plain.error()};
                }
                text = *plain;
            }
            QByteArray block;
            JsonBuilder {block}.beginObject().member("type", "tool_result").member("tool_use_id", id).member("content", text).endObject();
            addBlocks(turns, false, block);
        } else {
            return fieldError(path + ".role", "'" + Dom::bytes(role) + "' cannot be translated (use tools and tool messages)");
        }
    }
    if (turns.empty()) {
        return fieldError("messages", "must contain a user or assistant message");
    }

    qint64 maxTokens = DEFAULT_ANTHROPIC_MAX_TOKENS;
    QByteArray extra; // the other members, each starting with a comma
    QByteArray tools;
    QByteArray toolChoice;
    bool parallelToolCalls = true;
    for (auto [key, value] : root) {
        if (key == "max_tokens" || key == "max_completion_tokens") {
            int64_t limit = 0;
            if (value.is_null()) {
                continue;
            }
            if (value.get_int64().get(limit) != simdjson::SUCCESS || limit < 1) {
                return fieldError(Dom::bytes(key), "must be a positive integer");
            }
            maxTokens = limit;
        } else if (key == "temperature" || key == "top_p") {
            double number = 0;
            if (value.is_null()) {
                continue;
            }
            if (value.get_double().get(number) != simdjson::SUCCESS) {
                return fieldError(Dom::bytes(key), "must be a number");
            }
            // OpenAI's temperature goes to 2, Anthropic's to 1.
            extra += ",\"" + Dom::bytes(key) + "\":" + (number > 1.0 ? QByteArray("1") : Dom::json(value));
        } else if (key == "stop") {
            std::string_view one;
            Array many;
            if (value.get_string().get(one) == simdjson::SUCCESS) {
                extra += ",\"stop_sequences\":[";
                JsonBuilder {extra}.string(one);
                extra += ']';
            } else if (value.get_array().get(many) == simdjson::SUCCESS) {
                extra += ",\"stop_sequences\":" + Dom::json(value);
            } else if (!value.is_null()) {
                return fieldError("stop", "must be a string or an array of strings");
            }
        } else if (key == "stream") {
            bool stream = false;
            if (value.get_bool().get(stream) == simdjson::SUCCESS && stream) {
                extra += ",\"stream\":true";
            }
        } else if (key == "user") {
            std::string_view user;
            if (value.get_string().get(user) == simdjson::SUCCESS) {
                extra += ",\"metadata\":{\"user_id\":";
                JsonBuilder {extra}.string(user);
                extra += '}';
            }
        } else if (key == "n") {
            int64_t n = 1;
            if (!value.is_null() && (value.get_int64().get(n) != simdjson::SUCCESS || n != 1)) {
                return fieldError("n", "must be 1: Anthropic answers with one choice");
            }
        } else if (key == "tools" || key == "functions") {
            Array list;
            if (value.get_array().get(list) != simdjson::SUCCESS) {
                return fieldError(Dom::bytes(key), "must be an array");
            }
            std::size_t toolIndex = 0;
            for (Element tool : list) {
                const QByteArray toolPath = indexPath(Dom::bytes(key), toolIndex++);
                Object object;
                Object function;
                if (tool.get_object().get(object) != simdjson::SUCCESS) {
                    return fieldError(toolPath, "must be an object");
                }
                if (key == "tools") {
                    if (Dom::string(object, "type", "function") != "function" || !Dom::memberObject(object, "function", function)) {
                        return fieldError(toolPath + ".type", "must be 'function' with a function object");
                    }
                } else {
                    function = object;
                }
                const std::string_view name = Dom::string(function, "name");
                if (name.empty()) {
                    return fieldError(toolPath + (key == "tools" ? ".function.name" : ".name"), "is missing");
                }
                JsonBuilder json {tools};
                if (!tools.isEmpty()) {
                    tools += ',';
                }
                json.beginObject().member("name", name);
                if (const std::string_view description = Dom::string(function, "description"); !description.empty()) {
                    json.member("description", description);
                }
                Element parameters;
                if (Dom::member(function, "parameters", parameters)) {
                    json.key("input_schema").raw(Dom::json(parameters));
                } else {
                    json.key("input_schema").raw(QByteArrayView {"{\"type\":\"object\",\"properties\":{}}"});
                }
                json.endObject();
            }
        } else if (key == "tool_choice" || key == "function_call") {
            std::string_view mode;
            Object named;
            if (value.get_string().get(mode) == simdjson::SUCCESS) {
                if (mode == "none") {
                    toolChoice = "{\"type\":\"none\"";
                } else if (mode == "auto") {
                    toolChoice = "{\"type\":\"auto\"";
                } else if (mode == "required") {
                    toolChoice = "{\"type\":\"any\"";
                } else {
                    return fieldError(Dom::bytes(key), "must be none, auto, required or a named function");
                }
            } else if (value.get_object().get(named) == simdjson::SUCCESS) {
                Object function;
                const std::string_view name =
                    Dom::memberObject(named, "function", function) ? Dom::string(function, "name") : Dom::string(named, "name");
                if (name.empty()) {
                    return fieldError(Dom::bytes(key), "names no function");
                }
                toolChoice = "{\"type\":\"tool\",\"name\":";
                JsonBuilder {toolChoice}.string(name);
            }
        } else if (key == "parallel_tool_calls") {
            bool parallel = true;
            if (value.get_bool().get(parallel) == simdjson::SUCCESS) {
                parallelToolCalls = parallel;
            }
        }
        // Everything else has no Anthropic equivalent and is dropped (docs/TRANSLATION.md).
    }

    QByteArray out;
    out.reserve(body.size() + 256);
    JsonBuilder json {out};
    json.beginObject().member("model", upstreamModel).key("max_tokens").number(maxTokens);
    if (!system.isEmpty()) {
        json.member("system", system);
    }
    json.key("messages").beginArray();
    for (const Turn &turn : turns) {
        json.beginObject().member("role", turn.assistant ? QByteArrayView {"assistant"} : QByteArrayView {"user"});
        json.key("content").raw(QByteArray('[' + turn.blocks + ']')).endObject();
    }
    json.endArray();
    out += extra;
    if (!tools.isEmpty()) {
        out += ",\"tools\":[" + tools + ']';
        if (toolChoice.isEmpty() && !parallelToolCalls) {
            toolChoice = "{\"type\":\"auto\"";
        }
        if (!toolChoice.isEmpty()) {
            if (!parallelToolCalls && !toolChoice.startsWith("{\"type\":\"none\"")) {
                toolChoice += ",\"disable_parallel_tool_use\":true";
            }
            out += ",\"tool_choice\":" + toolChoice + '}';
        }
    }
    out += '}';
    return out;
}

} // namespace Gateway::Translate
