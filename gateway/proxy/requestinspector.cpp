#include "requestinspector.h"

#include "routing/promptblocks.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

namespace Gateway::Proxy {

namespace od = simdjson::ondemand;

namespace {

// Rough prompt-size estimate for routing and limits before exact tokenization exists:
// about four characters per token for English text and code.
constexpr int CHARS_PER_TOKEN = 4;
constexpr int TOKENS_PER_MESSAGE = 4;

InspectionError invalid(const char *message, const char *code, const char *param)
{
    return InspectionError {QByteArray(message), QByteArray(code), QByteArray(param)};
}

bool isImageType(std::string_view type)
{
    // OpenAI chat image_url, OpenAI Responses input_image, Anthropic image.
    return type == "image_url" || type == "input_image" || type == "image";
}

// Appends one piece of text to a bounded capture, '\n' between pieces, cutting at a
// UTF-8 character boundary so the capture stays valid text.
void appendCaptured(std::string &out, std::string_view text)
{
    constexpr std::size_t limit = RequestInspector::MAX_CAPTURED_TEXT;
    if (!out.empty() && out.size() < limit) {
        out += '\n';
    }
    if (out.size() >= limit) {
        return;
    }
    std::size_t take = std::min(text.size(), limit - out.size());
    if (take < text.size()) {
        while (take > 0 && (static_cast<unsigned char>(text[take]) & 0xC0) == 0x80) {
            --take;
        }
    }
    out.append(text.data(), take);
}

// What one pass over the prompt collects.
struct ContentScan {
    std::size_t chars = 0;
    bool hasImages = false;
    std::string *capture = nullptr; // the current message's text; null = not capturing
    // Prompt pieces in reading order (role names and every text string), as views into
    // the parser's string buffer, for prefix hashing; null = not rendering the prompt.
    std::vector<std::string_view> *pieces = nullptr;
};

// Walks a content value: a string, or an array of parts whose "text" (or nested
// "content", as in tool results) holds strings. Counts the characters, notices image
// parts, and copies the text of the value's own parts when `captureText` (nested tool
// results are the tool's words, not the user's, so they are counted but not copied).
void scanContent(od::value value, ContentScan &scan, int depth, bool captureText)
{
    od::json_type type;
    if (depth > 8 || value.type().get(type)) {
        return;
    }
    if (type == od::json_type::string) {
        std::string_view text;
        if (!value.get_string().get(text)) {
            scan.chars += text.size();
            if (scan.pieces) {
                scan.pieces->push_back(text);
            }
            if (captureText && scan.capture) {
                appendCaptured(*scan.capture, text);
            }
        }
        return;
    }
    if (type == od::json_type::array) {
        od::array array;
        if (value.get_array().get(array)) {
            return;
        }
        for (auto element : array) {
            od::value item;
            if (!element.get(item)) {
                scanContent(item, scan, depth + 1, captureText);
            }
        }
    } else if (type == od::json_type::object) {
        od::object object;
        if (value.get_object().get(object)) {
            return;
        }
        for (auto field : object) {
            std::string_view key;
            if (field.unescaped_key().get(key)) {
                return;
            }
            if (key == "text") {
                scanContent(field.value(), scan, depth + 1, captureText);
            } else if (key == "content" || key == "arguments") {
                scanContent(field.value(), scan, depth + 1, false);
            } else if (key == "type") {
                std::string_view partType;
                if (!field.value().get_string().get(partType) && isImageType(partType)) {
                    scan.hasImages = true;
                }
            }
        }
    }
}

// One chat message: its role decides whether its text is the user's. Text is copied
// while the role is unknown or "user" (the role usually comes first, so assistant and
// system messages cost no copy).
void scanMessage(od::value message, ContentScan &scan, bool &isUser)
{
    isUser = false;
    od::object object;
    if (message.get_object().get(object)) {
        scanContent(message, scan, 0, false);
        return;
    }
    bool roleKnown = false;
    for (auto field : object) {
        std::string_view key;
        if (field.unescaped_key().get(key)) {
            return;
        }
        if (key == "role") {
            std::string_view role;
            roleKnown = !field.value().get_string().get(role);
            isUser = roleKnown && role == "user";
            if (roleKnown && scan.pieces) {
                scan.pieces->push_back(role);
            }
        } else if (key == "content") {
            scanContent(field.value(), scan, 1, !roleKnown || isUser);
        } else if (key == "text" || key == "arguments") {
            scanContent(field.value(), scan, 1, false);
        }
    }
}

// A non-empty array: "tools": [] declares none.
bool nonEmptyArray(od::value value)
{
    od::array array;
    bool empty = true;
    return !value.get_array().get(array) && !array.is_empty().get(empty) && !empty;
}

// Offset just past the JSON object or array starting at `begin`, or -1. Used to find
// the extent of stream_options for a targeted rewrite.
qsizetype valueEnd(const QByteArray &body, qsizetype begin)
{
    int depth = 0;
    bool inString = false;
    for (qsizetype i = begin; i < body.size(); ++i) {
        const char c = body[i];
        if (inString) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                inString = false;
            }
            continue;
        }
        if (c == '"') {
            inString = true;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']') {
            if (--depth == 0) {
                return i + 1;
            }
        }
    }
    return -1;
}

// Whether arrays and objects nest deeper than `limit` anywhere in the body. On-Demand
// parsing skips what the inspector does not read without looking at its depth, so
// without this a request nested 100,000 levels deep would be forwarded to upstreams
// whose parsers may recurse. Jumps from quote to quote inside strings, so it costs
// little next to the parse itself.
bool nestedDeeperThan(QByteArrayView body, int limit)
{
    int depth = 0;
    const char *p = body.data();
    const char *const end = p + body.size();
    while (p < end) {
        const char c = *p++;
        if (c == '"') {
            for (;;) {
                const auto *quote = static_cast<const char *>(std::memchr(p, '"', static_cast<std::size_t>(end - p)));
                if (!quote) {
                    return false;
                }
                // A quote preceded by an odd run of backslashes is escaped.
                const char *run = quote;
                while (run > p && run[-1] == '\\') {
                    --run;
                }
                p = quote + 1;
                if ((quote - run) % 2 == 0) {
                    break;
                }
            }
        } else if (c == '[' || c == '{') {
            if (++depth > limit) {
                return true;
            }
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return false;
}

std::string_view trimmedToken(std::string_view raw)
{
    while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t')) {
        raw.remove_suffix(1);
    }
    return raw;
}

} // namespace

struct RequestInspector::Impl {
    od::parser parser;
    std::string scratch;
    // Reused captures: the message being read, and the last user message so far.
    std::string messageText;
    std::string lastUserText;
    // Reused prompt pieces: the system prompt (Anthropic's top-level "system") and the
    // rest, hashed system first whatever the order of the JSON members.
    std::vector<std::string_view> systemPieces;
    std::vector<std::string_view> promptPieces;

    // simdjson reads up to SIMDJSON_PADDING bytes past the end; use the body in place
    // when its allocation has room, else a reused scratch copy.
    simdjson::padded_string_view padded(QByteArrayView bytes, qsizetype spareAtEnd)
    {
        if (spareAtEnd >= static_cast<qsizetype>(simdjson::SIMDJSON_PADDING)) {
            return simdjson::padded_string_view(bytes.data(), static_cast<std::size_t>(bytes.size()),
                                                static_cast<std::size_t>(bytes.size() + spareAtEnd));
        }
        scratch.reserve(static_cast<std::size_t>(bytes.size()) + simdjson::SIMDJSON_PADDING);
        scratch.assign(bytes.data(), static_cast<std::size_t>(bytes.size()));
        return simdjson::padded_string_view(scratch.data(), scratch.size(), scratch.capacity());
    }
};

RequestInspector::RequestInspector()
    : m_impl {std::make_unique<Impl>()}
{
}

RequestInspector::~RequestInspector() = default;

Expected<InspectedRequest, InspectionError> RequestInspector::inspect(Runtime::Endpoint endpoint, const QByteArray &body,
                                                                     bool captureLastUserMessage, int promptBlockChars)
{
    using Runtime::Endpoint;
    InspectedRequest result;
    // Qt 6.4 has no const data_ptr(); reading the free space does not modify the array.
    const auto input = m_impl->padded(body, const_cast<QByteArray &>(body).data_ptr().freeSpaceAtEnd());
    const char *base = input.data();
    od::document document;
    od::object object;
    const simdjson::error_code parsed = m_impl->parser.iterate(input).get(document);
    if (parsed == simdjson::UTF8_ERROR) {
        return Unexpected {invalid("the request body is not valid UTF-8", "invalid_json", "")};
    }
    if (parsed || document.get_object().get(object)) {
        return Unexpected {invalid("the request body must be a JSON object", "invalid_json", "")};
    }
    if (nestedDeeperThan(body, RequestInspector::MAX_NESTING)) {
        return Unexpected {invalid("the request body is nested too deeply (more than 1024 levels of arrays and objects)",
                                   "invalid_json", "")};
    }
    result.objectBegin = body.indexOf('{');

    bool sawModel = false;
    bool sawMessages = false;
    bool sawPrompt = false;
    bool sawInput = false;
    int messageCount = 0;
    ContentScan scan;
    m_impl->systemPieces.clear();
    m_impl->promptPieces.clear();
    if (promptBlockChars > 0) {
        scan.pieces = &m_impl->promptPieces;
    }
    std::string &lastUserText = m_impl->lastUserText;
    lastUserText.clear();
    const auto captureInto = [&](std::string &buffer) {
        buffer.clear();
        scan.capture = captureLastUserMessage ? &buffer : nullptr;
    };

    for (auto field : object) {
        std::string_view key;
        if (field.unescaped_key().get(key)) {
            return Unexpected {invalid("the request body is not valid JSON", "invalid_json", "")};
        }
        od::value value;
        if (field.value().get(value)) {
            return Unexpected {invalid("the request body is not valid JSON", "invalid_json", "")};
        }
        if (key == "model") {
            std::string_view raw = value.raw_json_token();
            std::string_view model;
            if (value.get_string().get(model)) {
                return Unexpected {invalid("'model' must be a string", "invalid_field", "model")};
            }
            raw = trimmedToken(raw);
            result.model = QByteArray(model.data(), static_cast<qsizetype>(model.size()));
            result.modelBegin = raw.data() - base;
            result.modelEnd = result.modelBegin + static_cast<qsizetype>(raw.size());
            sawModel = true;
        } else if (key == "stream") {
            bool stream = false;
            if (value.get_bool().get(stream)) {
                od::json_type type;
                if (!value.type().get(type) && type == od::json_type::null) {
                    continue;
                }
                return Unexpected {invalid("'stream' must be a boolean", "invalid_field", "stream")};
            }
            result.stream = stream;
        } else if (key == "max_tokens" || key == "max_completion_tokens") {
            od::json_type type;
            if (!value.type().get(type) && type == od::json_type::null) {
                continue;
            }
            int64_t maxTokens = 0;
            if (value.get_int64().get(maxTokens) || maxTokens < 1 || maxTokens > 100000000) {
                return Unexpected {invalid(key == "max_tokens" ? "'max_tokens' must be a positive integer"
                                                               : "'max_completion_tokens' must be a positive integer",
                                           "invalid_field", key == "max_tokens" ? "max_tokens" : "max_completion_tokens")};
            }
            result.maxTokens = static_cast<int>(maxTokens);
        } else if (key == "stream_options") {
            const std::string_view raw = value.raw_json_token();
            od::json_type type;
            if (!value.type().get(type) && type == od::json_type::null) {
                // Recorded so a rewrite replaces the null instead of adding a second key.
                result.hasStreamOptions = true;
                result.streamOptionsBegin = raw.data() - base;
                result.streamOptionsEnd = result.streamOptionsBegin + 4;
                continue;
            }
            od::object options;
            if (value.get_object().get(options)) {
                return Unexpected {invalid("'stream_options' must be an object", "invalid_field", "stream_options")};
            }
            result.hasStreamOptions = true;
            result.streamOptionsBegin = raw.data() - base;
            result.streamOptionsEnd = valueEnd(body, result.streamOptionsBegin);
            for (auto option : options) {
                std::string_view optionKey;
                od::value optionValue;
                if (option.unescaped_key().get(optionKey) || option.value().get(optionValue)) {
                    break;
                }
                if (optionKey == "include_usage") {
                    bool include = false;
                    if (!optionValue.get_bool().get(include)) {
                        result.includeUsage = include;
                    }
                    continue;
                }
                od::json_type optionType;
                if (!optionValue.type().get(optionType) && optionType != od::json_type::object &&
                    optionType != od::json_type::array) {
                    const std::string_view token = optionValue.raw_json_token();
                    // Kept verbatim if stream_options must be rebuilt to add include_usage.
                    if (!result.streamOptionsScalars.isEmpty()) {
                        result.streamOptionsScalars += ',';
                    }
                    result.streamOptionsScalars += '"' + QByteArray(optionKey.data(), static_cast<qsizetype>(optionKey.size())) +
                                                   "\":" + QByteArray(trimmedToken(token).data(),
                                                                      static_cast<qsizetype>(trimmedToken(token).size()));
                }
            }
        } else if (key == "messages") {
            od::array messages;
            if (value.get_array().get(messages)) {
                return Unexpected {invalid("'messages' must be an array", "invalid_field", "messages")};
            }
            for (auto message : messages) {
                od::value item;
                if (message.get(item)) {
                    return Unexpected {invalid("the request body is not valid JSON", "invalid_json", "")};
                }
                captureInto(m_impl->messageText);
                bool isUser = false;
                scanMessage(item, scan, isUser);
                if (isUser && scan.capture) {
                    std::swap(lastUserText, m_impl->messageText);
                }
                ++messageCount;
            }
            scan.capture = nullptr;
            sawMessages = true;
        } else if (key == "prompt") {
            // A completion prompt is all user text: rules on "the last user message" read it.
            captureInto(lastUserText);
            scanContent(value, scan, 0, true);
            scan.capture = nullptr;
            sawPrompt = true;
        } else if (key == "input") {
            scanContent(value, scan, 0, false);
            sawInput = true;
        } else if (key == "system") {
            auto *const rest = scan.pieces;
            if (rest) {
                scan.pieces = &m_impl->systemPieces;
            }
            scanContent(value, scan, 0, false);
            scan.pieces = rest;
        } else if (key == "tools" || key == "functions") {
            result.hasTools = result.hasTools || nonEmptyArray(value);
        } else if (key == "user") {
            std::string_view user;
            if (!value.get_string().get(user)) {
                result.user = QByteArray(user.data(), static_cast<qsizetype>(user.size()));
            }
        }
    }
    const char *trailing = nullptr;
    if (!document.current_location().get(trailing)) {
        return Unexpected {invalid("the request body is not valid JSON (trailing content after the object)",
                                   "invalid_json", "")};
    }
    if (!sawModel) {
        return Unexpected {invalid("'model' is required", "missing_field", "model")};
    }
    if (result.model.isEmpty()) {
        return Unexpected {invalid("'model' must not be empty", "invalid_field", "model")};
    }
    switch (endpoint) {
    case Endpoint::ChatCompletions:
    case Endpoint::Messages:
        if (!sawMessages) {
            return Unexpected {invalid("'messages' is required", "missing_field", "messages")};
        }
        if (messageCount == 0) {
            return Unexpected {invalid("'messages' must not be empty", "invalid_field", "messages")};
        }
        if (endpoint == Endpoint::Messages && result.maxTokens < 0) {
            return Unexpected {invalid("'max_tokens' is required", "missing_field", "max_tokens")};
        }
        break;
    case Endpoint::Completions:
        if (!sawPrompt) {
            return Unexpected {invalid("'prompt' is required", "missing_field", "prompt")};
        }
        break;
    case Endpoint::Embeddings:
        if (!sawInput) {
            return Unexpected {invalid("'input' is required", "missing_field", "input")};
        }
        if (result.stream) {
            return Unexpected {invalid("embeddings cannot be streamed", "invalid_field", "stream")};
        }
        break;
    }
    result.estimatedPromptTokens =
        static_cast<int>((scan.chars + CHARS_PER_TOKEN - 1) / CHARS_PER_TOKEN) + messageCount * TOKENS_PER_MESSAGE;
    result.hasImages = scan.hasImages;
    if (promptBlockChars > 0) {
        Routing::PromptBlockHasher hasher(result.model, promptBlockChars);
        for (const auto piece : m_impl->systemPieces) {
            hasher.append(QByteArrayView(piece.data(), static_cast<qsizetype>(piece.size())));
        }
        for (const auto piece : m_impl->promptPieces) {
            hasher.append(QByteArrayView(piece.data(), static_cast<qsizetype>(piece.size())));
        }
        result.promptBlocks = hasher.take();
    }
    if (captureLastUserMessage && !lastUserText.empty()) {
        result.lastUserMessage = QByteArray(lastUserText.data(), static_cast<qsizetype>(lastUserText.size()));
    }
    return result;
}

QByteArray RequestInspector::lastRenderedPrompt() const
{
    QByteArray text;
    for (const auto *pieces : {&m_impl->systemPieces, &m_impl->promptPieces}) {
        for (const auto piece : *pieces) {
            text.append(piece.data(), static_cast<qsizetype>(piece.size()));
        }
    }
    return text;
}

bool RequestInspector::extractUsage(QByteArrayView json, Usage &usage)
{
    const auto input = m_impl->padded(json, 0);
    od::document document;
    od::object object;
    if (m_impl->parser.iterate(input).get(document) || document.get_object().get(object)) {
        return false;
    }
    bool found = false;
    const auto readUsage = [&usage, &found](od::value value) {
        od::object usageObject;
        if (value.get_object().get(usageObject)) {
            return; // null or not an object
        }
        qint64 anthropicCacheRead = -1;
        qint64 anthropicCacheWrite = 0;
        for (auto member : usageObject) {
            std::string_view key;
            int64_t count = 0;
            if (member.unescaped_key().get(key)) {
                return;
            }
            if (key == "prompt_tokens" || key == "input_tokens") {
                if (!member.value().get_int64().get(count)) {
                    usage.input = count;
                    found = true;
                }
            } else if (key == "completion_tokens" || key == "output_tokens") {
                if (!member.value().get_int64().get(count)) {
                    usage.output = count;
                    found = true;
                }
            } else if (key == "cache_read_input_tokens") {
                if (!member.value().get_int64().get(count)) {
                    anthropicCacheRead = count;
                }
            } else if (key == "cache_creation_input_tokens") {
                if (!member.value().get_int64().get(count)) {
                    anthropicCacheWrite = count;
                }
            } else if (key == "prompt_tokens_details") {
                od::object details;
                if (!member.value().get_object().get(details)) {
                    for (auto detail : details) {
                        std::string_view detailKey;
                        if (detail.unescaped_key().get(detailKey)) {
                            break;
                        }
                        if (detailKey == "cached_tokens" && !detail.value().get_int64().get(count)) {
                            usage.cachedInput = count;
                        }
                    }
                }
            }
        }
        if (anthropicCacheRead >= 0 && usage.input >= 0) {
            usage.cachedInput = anthropicCacheRead;
            usage.input += anthropicCacheRead + anthropicCacheWrite;
        }
    };
    for (auto field : object) {
        std::string_view key;
        od::value value;
        if (field.unescaped_key().get(key) || field.value().get(value)) {
            return found;
        }
        if (key == "usage") {
            readUsage(value);
        } else if (key == "choices") {
            od::array choices;
            std::size_t count = 0;
            if (!value.get_array().get(choices) && !choices.count_elements().get(count)) {
                usage.choicesEmpty = count == 0;
            }
        } else if (key == "message") {
            od::object message;
            if (!value.get_object().get(message)) {
                for (auto member : message) {
                    std::string_view memberKey;
                    if (member.unescaped_key().get(memberKey)) {
                        break;
                    }
                    if (memberKey == "usage") {
                        readUsage(member.value());
                    }
                }
            }
        }
    }
    return found;
}

} // namespace Gateway::Proxy
