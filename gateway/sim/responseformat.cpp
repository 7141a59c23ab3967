#include "responseformat.h"

#include "util/jsonwriter.h"

#include <cmath>
#include <vector>

namespace Gateway::Sim::ResponseFormat {

namespace {

constexpr int EMBEDDING_DIMENSIONS = 128;

QByteArray number(qint64 value)
{
    return QByteArray::number(value);
}

// The fragment of the tool-call arguments streamed as "token" i.
QByteArray toolArgumentsFragment(int index)
{
    return index == 0 ? QByteArrayLiteral("{\"query\":\"tok0") : QByteArrayLiteral(" tok1\"}");
}

QByteArray finishReason(const Generation &generation)
{
    if (!generation.toolName.isEmpty()) {
        return generation.endpoint == Endpoint::Messages ? QByteArrayLiteral("\"tool_use\"") : QByteArrayLiteral("\"tool_calls\"");
    }
    if (generation.endpoint == Endpoint::Messages) {
        return generation.stopped ? QByteArrayLiteral("\"end_turn\"") : QByteArrayLiteral("\"max_tokens\"");
    }
    return generation.stopped ? QByteArrayLiteral("\"stop\"") : QByteArrayLiteral("\"length\"");
}

QByteArray openAiUsage(const Generation &generation)
{
    return "{\"prompt_tokens\":" + number(generation.promptTokens) +
           ",\"completion_tokens\":" + number(generation.completionTokens) +
           ",\"total_tokens\":" + number(generation.promptTokens + generation.completionTokens) + '}';
}

// The members every OpenAI chunk repeats, up to and including "choices":.
QByteArray chunkPrefix(const Generation &generation)
{
    const bool chat = generation.endpoint == Endpoint::ChatCompletions;
    return "{\"id\":" + Json::quoted(generation.id) + ",\"object\":" +
           (chat ? QByteArrayLiteral("\"chat.completion.chunk\"") : QByteArrayLiteral("\"text_completion\"")) +
           ",\"created\":" + number(generation.created) + ",\"model\":" + Json::quoted(generation.model) +
           ",\"choices\":";
}

QByteArray sseData(const QByteArray &json)
{
    return "data: " + json + "\n\n";
}

QByteArray sseEvent(QByteArrayView name, const QByteArray &json)
{
    return "event: " + name.toByteArray() + "\ndata: " + json + "\n\n";
}

QByteArray openAiStreamEvent(const Generation &generation, int index)
{
    const bool chat = generation.endpoint == Endpoint::ChatCompletions;
    const int tokens = generation.completionTokens;
    if (index < tokens && !generation.toolName.isEmpty()) {
        QByteArray call = "{\"index\":0,";
        if (index == 0) {
            call += "\"id\":" + Json::quoted(toolCallId(generation)) + ",\"type\":\"function\",\"function\":{\"name\":" +
                    Json::quoted(generation.toolName) + ",\"arguments\":";
        } else {
            call += "\"function\":{\"arguments\":";
        }
        call += Json::quoted(toolArgumentsFragment(index)) + "}}";
        const QByteArray role = index == 0 ? QByteArrayLiteral("\"role\":\"assistant\",\"content\":null,") : QByteArray();
        return sseData(chunkPrefix(generation) + "[{\"index\":0,\"delta\":{" + role + "\"tool_calls\":[" + call +
                       "]},\"logprobs\":null,\"finish_reason\":null}]}");
    }
    if (index < tokens) {
        QByteArray choice = "[{\"index\":0,";
        if (chat) {
            choice += index == 0 ? "\"delta\":{\"role\":\"assistant\",\"content\":" : "\"delta\":{\"content\":";
            choice += Json::quoted(tokenText(index + generation.firstToken)) + '}';
        } else {
            choice += "\"text\":" + Json::quoted(tokenText(index + generation.firstToken));
        }
        choice += ",\"logprobs\":null,\"finish_reason\":null}]";
        return sseData(chunkPrefix(generation) + choice + '}');
    }
    if (index == tokens) {
        const QByteArray empty = chat ? QByteArrayLiteral("\"delta\":{}") : QByteArrayLiteral("\"text\":\"\"");
        return sseData(chunkPrefix(generation) + "[{\"index\":0," + empty +
                       ",\"logprobs\":null,\"finish_reason\":" + finishReason(generation) + "}]}");
    }
    if (index == tokens + 1 && generation.includeUsage) {
        return sseData(chunkPrefix(generation) + "[],\"usage\":" + openAiUsage(generation) + '}');
    }
    return QByteArrayLiteral("data: [DONE]\n\n");
}

// message_start, content_block_start, one delta per token, content_block_stop,
// message_delta, message_stop: the order the Messages API streams in.
QByteArray anthropicStreamEvent(const Generation &generation, int index)
{
    const int tokens = generation.completionTokens;
    if (index == 0) {
        return sseEvent("message_start",
                        "{\"type\":\"message_start\",\"message\":{\"id\":" + Json::quoted(generation.id) +
                            ",\"type\":\"message\",\"role\":\"assistant\",\"model\":" +
                            Json::quoted(generation.model) +
                            ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":" +
                            number(generation.promptTokens) + ",\"output_tokens\":1}}}");
    }
    if (index == 1 && !generation.toolName.isEmpty()) {
        return sseEvent("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":"
                                               "\"tool_use\",\"id\":" + Json::quoted(toolCallId(generation)) +
                                                   ",\"name\":" + Json::quoted(generation.toolName) + ",\"input\":{}}}");
    }
    if (index == 1) {
        return sseEvent("content_block_start", QByteArrayLiteral("{\"type\":\"content_block_start\",\"index\":0,"
                                                                 "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"));
    }
    const int token = index - 2;
    if (token < tokens && !generation.toolName.isEmpty()) {
        return sseEvent("content_block_delta",
                        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":" +
                            Json::quoted(toolArgumentsFragment(token)) + "}}");
    }
    if (token < tokens) {
        return sseEvent("content_block_delta",
                        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":" +
                            Json::quoted(tokenText(token + generation.firstToken)) + "}}");
    }
    if (token == tokens) {
        return sseEvent("content_block_stop", QByteArrayLiteral("{\"type\":\"content_block_stop\",\"index\":0}"));
    }
    if (token == tokens + 1) {
        return sseEvent("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":" +
                                             finishReason(generation) +
                                             ",\"stop_sequence\":null},\"usage\":{\"output_tokens\":" +
                                             number(generation.completionTokens) + "}}");
    }
    return sseEvent("message_stop", QByteArrayLiteral("{\"type\":\"message_stop\"}"));
}

} // namespace

QByteArray tokenText(int index)
{
    QByteArray text = index == 0 ? QByteArrayLiteral("tok") : QByteArrayLiteral(" tok");
    return text + QByteArray::number(index);
}

QByteArray completionText(int count)
{
    QByteArray text;
    for (int i = 0; i < count; ++i) {
        text += tokenText(i);
    }
    return text;
}

QByteArray toolArguments()
{
    return toolArgumentsFragment(0) + toolArgumentsFragment(1);
}

QByteArray toolCallId(const Generation &generation)
{
    return (generation.endpoint == Endpoint::Messages ? "toolu_" : "call_") + generation.id;
}

QByteArray completeBody(const Generation &generation)
{
    const QByteArray content = Json::quoted(completionText(generation.completionTokens));
    if (!generation.toolName.isEmpty() && generation.endpoint == Endpoint::Messages) {
        return "{\"id\":" + Json::quoted(generation.id) + ",\"type\":\"message\",\"role\":\"assistant\",\"model\":" +
               Json::quoted(generation.model) + ",\"content\":[{\"type\":\"tool_use\",\"id\":" +
               Json::quoted(toolCallId(generation)) + ",\"name\":" + Json::quoted(generation.toolName) +
               ",\"input\":" + toolArguments() + "}],\"stop_reason\":\"tool_use\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":" +
               number(generation.promptTokens) + ",\"output_tokens\":" + number(generation.completionTokens) + "}}";
    }
    if (!generation.toolName.isEmpty() && generation.endpoint == Endpoint::ChatCompletions) {
        return "{\"id\":" + Json::quoted(generation.id) + ",\"object\":\"chat.completion\",\"created\":" +
               number(generation.created) + ",\"model\":" + Json::quoted(generation.model) +
               ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":" +
               Json::quoted(toolCallId(generation)) + ",\"type\":\"function\",\"function\":{\"name\":" +
               Json::quoted(generation.toolName) + ",\"arguments\":" + Json::quoted(toolArguments()) +
               "}}]},\"logprobs\":null,\"finish_reason\":\"tool_calls\"}],\"usage\":" + openAiUsage(generation) + '}';
    }
    switch (generation.endpoint) {
    case Endpoint::Messages:
        return "{\"id\":" + Json::quoted(generation.id) + ",\"type\":\"message\",\"role\":\"assistant\",\"model\":" +
               Json::quoted(generation.model) + ",\"content\":[{\"type\":\"text\",\"text\":" + content +
               "}],\"stop_reason\":" + finishReason(generation) +
               ",\"stop_sequence\":null,\"usage\":{\"input_tokens\":" + number(generation.promptTokens) +
               ",\"output_tokens\":" + number(generation.completionTokens) + "}}";
    case Endpoint::Completions:
        return "{\"id\":" + Json::quoted(generation.id) + ",\"object\":\"text_completion\",\"created\":" +
               number(generation.created) + ",\"model\":" + Json::quoted(generation.model) +
               ",\"choices\":[{\"index\":0,\"text\":" + content +
               ",\"logprobs\":null,\"finish_reason\":" + finishReason(generation) + "}],\"usage\":" +
               openAiUsage(generation) + '}';
    case Endpoint::ChatCompletions:
    case Endpoint::Embeddings:
        break;
    }
    return "{\"id\":" + Json::quoted(generation.id) + ",\"object\":\"chat.completion\",\"created\":" +
           number(generation.created) + ",\"model\":" + Json::quoted(generation.model) +
           ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":" + content +
           "},\"logprobs\":null,\"finish_reason\":" + finishReason(generation) + "}],\"usage\":" +
           openAiUsage(generation) + '}';
}

int streamEventCount(const Generation &generation)
{
    if (generation.endpoint == Endpoint::Messages) {
        return generation.completionTokens + 5;
    }
    return generation.completionTokens + (generation.includeUsage ? 3 : 2);
}

int firstTokenEvent(const Generation &generation)
{
    return generation.endpoint == Endpoint::Messages ? 2 : 0;
}

QByteArray streamEvent(const Generation &generation, int index)
{
    if (generation.endpoint == Endpoint::Messages) {
        return anthropicStreamEvent(generation, index);
    }
    return openAiStreamEvent(generation, index);
}

namespace {

std::vector<double> bagOfWords(const QByteArray &text)
{
    std::vector<double> vector(EMBEDDING_DIMENSIONS, 0.0);
    quint64 hash = 14695981039346656037ULL; // FNV-1a over each word
    bool inWord = false;
    const auto endWord = [&] {
        if (inWord) {
            const auto slot = static_cast<std::size_t>(hash % EMBEDDING_DIMENSIONS);
            vector[slot] += (hash >> 63) != 0 ? -1.0 : 1.0;
        }
        hash = 14695981039346656037ULL;
        inWord = false;
    };
    for (const char c : text) {
        const bool wordChar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                              (static_cast<unsigned char>(c) & 0x80) != 0;
        if (!wordChar) {
            endWord();
            continue;
        }
        const char lower = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
        hash ^= static_cast<unsigned char>(lower);
        hash *= 1099511628211ULL;
        inWord = true;
    }
    endWord();
    return vector;
}

std::vector<double> seeded(quint64 state)
{
    std::vector<double> vector(EMBEDDING_DIMENSIONS, 0.0);
    for (double &value : vector) {
        // xorshift: cheap, stable values in [-0.5, 0.5)
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        value = static_cast<double>(state % 10000) / 10000.0 - 0.5;
    }
    return vector;
}

} // namespace

QByteArray embeddingsBody(const QByteArray &model, const QList<QByteArray> &texts, int inputCount, quint64 inputHash,
                          int promptTokens)
{
    QByteArray body = "{\"object\":\"list\",\"data\":[";
    for (int input = 0; input < inputCount; ++input) {
        if (input > 0) {
            body += ',';
        }
        body += "{\"object\":\"embedding\",\"index\":" + number(input) + ",\"embedding\":[";
        std::vector<double> vector = input < texts.size() ? bagOfWords(texts.at(input))
                                                          : seeded(inputHash + static_cast<quint64>(input) * 0x9E3779B97F4A7C15ULL);
        double norm = 0;
        for (const double value : vector) {
            norm += value * value;
        }
        norm = norm > 0 ? std::sqrt(norm) : 1.0;
        for (std::size_t i = 0; i < vector.size(); ++i) {
            if (i > 0) {
                body += ',';
            }
            body += QByteArray::number(vector[i] / norm, 'f', 6);
        }
        body += "]}";
    }
    body += "],\"model\":" + Json::quoted(model) + ",\"usage\":{\"prompt_tokens\":" + number(promptTokens) +
            ",\"total_tokens\":" + number(promptTokens) + "}}";
    return body;
}

QByteArray modelsBody(Flavor flavor, const QList<QByteArray> &models)
{
    QByteArray body;
    if (flavor == Flavor::Anthropic) {
        body = "{\"data\":[";
        for (qsizetype i = 0; i < models.size(); ++i) {
            body += (i > 0 ? "," : "");
            body += "{\"type\":\"model\",\"id\":" + Json::quoted(models[i]) +
                    ",\"display_name\":" + Json::quoted(models[i]) + ",\"created_at\":\"2025-01-01T00:00:00Z\"}";
        }
        const QByteArray firstId = models.isEmpty() ? QByteArrayLiteral("null") : Json::quoted(models.first());
        const QByteArray lastId = models.isEmpty() ? QByteArrayLiteral("null") : Json::quoted(models.last());
        body += "],\"has_more\":false,\"first_id\":" + firstId + ",\"last_id\":" + lastId + '}';
        return body;
    }
    body = "{\"object\":\"list\",\"data\":[";
    for (qsizetype i = 0; i < models.size(); ++i) {
        body += (i > 0 ? "," : "");
        body += "{\"id\":" + Json::quoted(models[i]) + ",\"object\":\"model\",\"created\":1735689600" +
                ",\"owned_by\":\"vllm\",\"root\":" + Json::quoted(models[i]) + ",\"parent\":null}";
    }
    body += "]}";
    return body;
}

QByteArray errorBody(bool anthropic, int status, QByteArrayView message)
{
    QByteArray type;
    switch (status) {
    case 400: type = anthropic ? "invalid_request_error" : "BadRequestError"; break;
    case 404: type = anthropic ? "not_found_error" : "NotFoundError"; break;
    case 405: type = anthropic ? "invalid_request_error" : "MethodNotAllowed"; break;
    case 429: type = anthropic ? "rate_limit_error" : "rate_limit_exceeded"; break;
    case 529: type = "overloaded_error"; break;
    case 503: type = anthropic ? "overloaded_error" : "ServiceUnavailableError"; break;
    default: type = anthropic ? "api_error" : "InternalServerError"; break;
    }
    if (anthropic) {
        return "{\"type\":\"error\",\"error\":{\"type\":" + Json::quoted(type) +
               ",\"message\":" + Json::quoted(message) + "}}";
    }
    const QByteArray code = status == 429 ? QByteArrayLiteral("\"rate_limit_exceeded\"") : number(status);
    const QByteArray openAiType =
        status == 429 ? QByteArrayLiteral("rate_limit_error") : (status < 500 ? type : QByteArrayLiteral("server_error"));
    return "{\"error\":{\"message\":" + Json::quoted(message) + ",\"type\":" + Json::quoted(openAiType) +
           ",\"param\":null,\"code\":" + code + "}}";
}

} // namespace Gateway::Sim::ResponseFormat
