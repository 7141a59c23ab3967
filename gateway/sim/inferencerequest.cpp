#include "inferencerequest.h"

#include <QStringBuilder>

#include <simdjson.h>

#include <algorithm>
#include <string_view>
#include <utility>

namespace Gateway::Sim {

namespace {

using simdjson::error_code;
using simdjson::ondemand::json_type;

// FNV-1a: a stable hash, so prefix-cache hits and embeddings do not vary between runs.
constexpr quint64 FNV_OFFSET = 14695981039346656037ULL;
constexpr quint64 FNV_PRIME = 1099511628211ULL;

void hashInto(quint64 &hash, std::string_view text)
{
    for (const char c : text) {
        hash ^= static_cast<unsigned char>(c);
        hash *= FNV_PRIME;
    }
}

// UTF-8 code points, not bytes: continuation bytes are not characters.
qint64 countChars(std::string_view text)
{
    return std::count_if(text.begin(), text.end(),
                         [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

struct TextSink {
    qint64 chars = 0;
    quint64 hash = FNV_OFFSET;
    int generatedTokens = 0; // "tok<N>" words: what this simulator generates

    void add(std::string_view text)
    {
        chars += countChars(text);
        hashInto(hash, text);
        for (std::size_t at = text.find("tok"); at != std::string_view::npos; at = text.find("tok", at + 3)) {
            ++generatedTokens;
        }
    }
};

// Message content: a string, or an array of parts of which the "text" ones count.
// Other types (null content of tool-call turns, images) add nothing. `toolResult` is set
// when a part is an Anthropic tool_result.
error_code addContent(simdjson::ondemand::value value, TextSink &sink, bool *toolResult = nullptr)
{
    json_type type;
    if (auto error = value.type().get(type)) {
        return error;
    }
    if (type == json_type::string) {
        std::string_view text;
        if (auto error = value.get_string().get(text)) {
            return error;
        }
        sink.add(text);
        return simdjson::SUCCESS;
    }
    if (type != json_type::array) {
        return simdjson::SUCCESS;
    }
    simdjson::ondemand::array parts;
    if (auto error = value.get_array().get(parts)) {
        return error;
    }
    for (auto partResult : parts) {
        simdjson::ondemand::value part;
        if (auto error = std::move(partResult).get(part)) {
            return error;
        }
        json_type partType;
        if (auto error = part.type().get(partType)) {
            return error;
        }
        if (partType == json_type::string) {
            std::string_view text;
            if (auto error = part.get_string().get(text)) {
                return error;
            }
            sink.add(text);
            continue;
        }
        if (partType != json_type::object) {
            continue;
        }
        simdjson::ondemand::object object;
        if (auto error = part.get_object().get(object)) {
            return error;
        }
        for (auto fieldResult : object) {
            simdjson::ondemand::field field;
            std::string_view key;
            if (auto error = std::move(fieldResult).get(field)) {
                return error;
            }
            if (auto error = field.unescaped_key().get(key)) {
                return error;
            }
            if (key == "text") {
                std::string_view text;
                if (auto error = field.value().get_string().get(text)) {
                    return error;
                }
                sink.add(text);
            } else if (key == "type" && toolResult) {
                std::string_view partType;
                if (field.value().get_string().get(partType) == simdjson::SUCCESS && partType == "tool_result") {
                    *toolResult = true;
                }
            }
        }
    }
    return simdjson::SUCCESS;
}

// messages: [{role, content}, ...]; the first message also feeds `first`. A final
// assistant message is a prefill (Anthropic) or continue_final_message (vLLM): its
// generated tokens are reported in `continuedTokens`, so generation picks up after them.
error_code addMessages(simdjson::ondemand::value value, TextSink &all, TextSink &first, int &continuedTokens,
                       bool &lastIsToolResult)
{
    simdjson::ondemand::array messages;
    if (auto error = value.get_array().get(messages)) {
        return error;
    }
    bool isFirst = true;
    for (auto messageResult : messages) {
        simdjson::ondemand::object message;
        if (auto error = messageResult.get_object().get(message)) {
            return error;
        }
        bool assistant = false;
        bool toolResult = false;
        int messageTokens = 0;
        for (auto fieldResult : message) {
            simdjson::ondemand::field field;
            std::string_view key;
            if (auto error = std::move(fieldResult).get(field)) {
                return error;
            }
            if (auto error = field.unescaped_key().get(key)) {
                return error;
            }
            if (key == "role") {
                std::string_view role;
                if (auto error = field.value().get_string().get(role)) {
                    return error;
                }
                assistant = role == "assistant";
                toolResult = toolResult || role == "tool";
                continue;
            }
            if (key != "content") {
                continue;
            }
            TextSink content;
            if (auto error = addContent(field.value(), content, &toolResult)) {
                return error;
            }
            all.chars += content.chars;
            messageTokens = content.generatedTokens;
            if (isFirst) {
                first = content;
            }
        }
        continuedTokens = assistant ? messageTokens : 0;
        lastIsToolResult = toolResult;
        isFirst = false;
    }
    return simdjson::SUCCESS;
}

// prompt / input: a string, an array of strings, or token ids (arrays of integers).
// `texts` (may be null) receives each string input, in order (embeddings).
error_code addPromptInput(simdjson::ondemand::value value, TextSink &sink, int &count, QList<QByteArray> *texts = nullptr)
{
    json_type type;
    if (auto error = value.type().get(type)) {
        return error;
    }
    if (type == json_type::string) {
        std::string_view text;
        if (auto error = value.get_string().get(text)) {
            return error;
        }
        sink.add(text);
        count = 1;
        if (texts) {
            texts->append(QByteArray(text.data(), static_cast<qsizetype>(text.size())));
        }
        return simdjson::SUCCESS;
    }
    if (type != json_type::array) {
        return simdjson::INCORRECT_TYPE;
    }
    simdjson::ondemand::array items;
    if (auto error = value.get_array().get(items)) {
        return error;
    }
    count = 0;
    bool tokenIds = false;
    for (auto itemResult : items) {
        simdjson::ondemand::value item;
        if (auto error = std::move(itemResult).get(item)) {
            return error;
        }
        json_type itemType;
        if (auto error = item.type().get(itemType)) {
            return error;
        }
        if (itemType == json_type::string) {
            std::string_view text;
            if (auto error = item.get_string().get(text)) {
                return error;
            }
            sink.add(text);
            ++count;
            if (texts) {
                texts->append(QByteArray(text.data(), static_cast<qsizetype>(text.size())));
            }
        } else if (itemType == json_type::number) {
            sink.chars += 4; // one token id: one token's worth of characters
            tokenIds = true;
        } else if (itemType == json_type::array) {
            simdjson::ondemand::array ids;
            if (auto error = item.get_array().get(ids)) {
                return error;
            }
            std::size_t n = 0;
            if (auto error = ids.count_elements().get(n)) {
                return error;
            }
            sink.chars += 4 * static_cast<qint64>(n);
            ++count;
        } else {
            return simdjson::INCORRECT_TYPE;
        }
    }
    if (tokenIds) {
        ++count; // a flat array of token ids is one input
    }
    count = std::max(count, 1);
    return simdjson::SUCCESS;
}

// tools: the name of the first one (OpenAI nests it under "function").
error_code firstToolName(simdjson::ondemand::value value, QByteArray &name)
{
    simdjson::ondemand::array tools;
    if (auto error = value.get_array().get(tools)) {
        return error;
    }
    for (auto toolResult : tools) {
        simdjson::ondemand::object tool;
        if (auto error = toolResult.get_object().get(tool)) {
            return error;
        }
        for (auto fieldResult : tool) {
            simdjson::ondemand::field field;
            std::string_view key;
            if (auto error = std::move(fieldResult).get(field)) {
                return error;
            }
            if (auto error = field.unescaped_key().get(key)) {
                return error;
            }
            std::string_view text;
            if (key == "name" && field.value().get_string().get(text) == simdjson::SUCCESS) {
                name = QByteArray(text.data(), static_cast<qsizetype>(text.size()));
            } else if (key == "function") {
                simdjson::ondemand::object function;
                if (field.value().get_object().get(function) == simdjson::SUCCESS &&
                    function["name"].get_string().get(text) == simdjson::SUCCESS) {
                    name = QByteArray(text.data(), static_cast<qsizetype>(text.size()));
                }
            }
        }
        return simdjson::SUCCESS; // the first tool only
    }
    return simdjson::SUCCESS;
}

// tool_choice "none" (OpenAI) or {"type":"none"} (Anthropic).
bool toolChoiceIsNone(simdjson::ondemand::value value)
{
    json_type type;
    std::string_view text;
    if (value.type().get(type) != simdjson::SUCCESS) {
        return false;
    }
    if (type == json_type::string) {
        return value.get_string().get(text) == simdjson::SUCCESS && text == "none";
    }
    simdjson::ondemand::object object;
    return type == json_type::object && value.get_object().get(object) == simdjson::SUCCESS &&
           object["type"].get_string().get(text) == simdjson::SUCCESS && text == "none";
}

Unexpected<QByteArray> failure(QByteArrayView what, error_code error)
{
    return Unexpected {QByteArray(what.toByteArray() + simdjson::error_message(error))};
}

QByteArray fieldError(std::string_view key, error_code error)
{
    return QByteArray("invalid field '") + QByteArray(key.data(), static_cast<qsizetype>(key.size())) + "': " +
           simdjson::error_message(error);
}

} // namespace

Expected<InferenceRequest, QByteArray> parseInferenceRequest(Endpoint endpoint, QByteArrayView body)
{
    InferenceRequest request;
    request.endpoint = endpoint;

    simdjson::ondemand::parser parser;
    const simdjson::padded_string padded(body.data(), static_cast<std::size_t>(body.size()));
    simdjson::ondemand::document document;
    simdjson::ondemand::object root;
    if (auto error = parser.iterate(padded).get(document)) {
        return failure("invalid JSON body: ", error);
    }
    if (auto error = document.get_object().get(root)) {
        return failure("the body must be a JSON object: ", error);
    }

    TextSink all;
    TextSink first;
    TextSink system;
    bool hasSystem = false;
    for (auto fieldResult : root) {
        simdjson::ondemand::field field;
        std::string_view key;
        if (auto error = std::move(fieldResult).get(field)) {
            return failure("invalid JSON body: ", error);
        }
        if (auto error = field.unescaped_key().get(key)) {
            return failure("invalid JSON body: ", error);
        }
        error_code error = simdjson::SUCCESS;
        if (key == "model") {
            std::string_view model;
            error = field.value().get_string().get(model);
            request.model = QByteArray(model.data(), static_cast<qsizetype>(model.size()));
        } else if (key == "stream") {
            error = field.value().get_bool().get(request.stream);
        } else if (key == "max_tokens" || key == "max_completion_tokens") {
            bool isNull = false;
            error = field.value().is_null().get(isNull);
            if (!error && !isNull) {
                int64_t maxTokens = 0;
                error = field.value().get_int64().get(maxTokens);
                request.maxTokens = static_cast<int>(std::clamp<int64_t>(maxTokens, 0, 1 << 30));
            }
        } else if (key == "stream_options") {
            bool isNull = false;
            error = field.value().is_null().get(isNull);
            simdjson::ondemand::object options;
            if (!error && !isNull) {
                error = field.value().get_object().get(options);
            }
            if (!error && !isNull) {
                for (auto optionResult : options) {
                    simdjson::ondemand::field option;
                    std::string_view optionKey;
                    if ((error = std::move(optionResult).get(option)) || (error = option.unescaped_key().get(optionKey))) {
                        break;
                    }
                    if (optionKey == "include_usage") {
                        if ((error = option.value().get_bool().get(request.includeUsage))) {
                            break;
                        }
                    }
                }
            }
        } else if (key == "messages") {
            error = addMessages(field.value(), all, first, request.continuedTokens, request.lastIsToolResult);
        } else if (key == "tools") {
            error = firstToolName(field.value(), request.firstTool);
        } else if (key == "tool_choice") {
            request.toolsDisabled = toolChoiceIsNone(field.value());
        } else if (key == "system") {
            hasSystem = true;
            error = addContent(field.value(), system);
            all.chars += system.chars;
        } else if ((key == "prompt" && endpoint == Endpoint::Completions) ||
                   (key == "input" && endpoint == Endpoint::Embeddings)) {
            error = addPromptInput(field.value(), all, request.inputCount,
                                   endpoint == Endpoint::Embeddings ? &request.inputTexts : nullptr);
            first = all;
            request.inputHash = all.hash;
        }
        if (error) {
            return Unexpected {fieldError(key, error)};
        }
    }

    request.promptChars = all.chars;
    request.promptTokens = static_cast<int>(std::max<qint64>(1, all.chars / 4));
    const TextSink &prefix = hasSystem ? system : first;
    request.prefixHash = prefix.hash;
    request.prefixTokens = static_cast<int>(std::min<qint64>(prefix.chars / 4, request.promptTokens));
    return request;
}

} // namespace Gateway::Sim
